#include "detection.h"

#include <charconv>
#include <set>

#include "mamori/core/log.h"

namespace mamori::app {
namespace {

std::string_view LevelName(rules::Diagnostic::Level l) {
  switch (l) {
    case rules::Diagnostic::Level::kError:
      return "error";
    case rules::Diagnostic::Level::kWarning:
      return "warning";
    case rules::Diagnostic::Level::kUnsupported:
      return "unsupported";
  }
  return "error";
}

api::Response JsonResponse(const nlohmann::json& j, int status = 200) {
  api::Response resp;
  resp.status = status;
  resp.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return resp;
}

}  // namespace

nlohmann::json AlertToJson(const rules::Alert& a) {
  nlohmann::json j;
  j["rule_id"] = a.rule_id;
  j["title"] = a.title;
  j["severity"] = rules::SeverityName(a.severity);
  j["tags"] = a.tags;
  j["group_key"] = a.group_key;
  j["event_time"] = FormatRfc3339(a.event_time_ns);
  j["evidence_seqs"] = a.evidence_seqs;
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& f : a.fields) {
    if (!fields.contains(f.key)) fields[f.key] = f.value;
  }
  j["fields"] = std::move(fields);
  j["summary"] = a.summary;
  return j;
}

nlohmann::json LoadReportJson(const rules::LoadResult& r) {
  nlohmann::json j;
  j["files"] = r.files;
  j["rules"] = r.rules->size();
  j["errors"] = r.errors();
  j["warnings"] = r.warnings();
  j["unsupported"] = r.unsupported();
  nlohmann::json diags = nlohmann::json::array();
  for (const auto& d : r.diagnostics) {
    diags.push_back({{"level", LevelName(d.level)},
                     {"file", d.file},
                     {"line", d.line},
                     {"column", d.column},
                     {"rule_id", d.rule_id},
                     {"message", d.message}});
  }
  j["diagnostics"] = std::move(diags);
  return j;
}

void LogLoadResult(const rules::LoadResult& r) {
  for (const auto& d : r.diagnostics) {
    if (d.level == rules::Diagnostic::Level::kWarning) {
      log::Warn("rules", d.ToString());
    } else {
      log::Error("rules", d.ToString());
    }
  }
  log::Info("rules", "loaded " + std::to_string(r.rules->size()) + " rules from " +
                         std::to_string(r.files) + " files (" + std::to_string(r.errors()) +
                         " errors, " + std::to_string(r.warnings()) + " warnings, " +
                         std::to_string(r.unsupported()) + " unsupported)");
}

incidents::Alert ToIncidentAlert(rules::Alert&& a) {
  incidents::Alert out;
  out.rule_id = std::move(a.rule_id);
  out.title = std::move(a.title);
  out.severity = static_cast<incidents::Severity>(static_cast<int>(a.severity));
  out.tags = std::move(a.tags);
  out.group_key = std::move(a.group_key);
  out.event_time_ns = a.event_time_ns;
  out.evidence_seqs = std::move(a.evidence_seqs);
  out.fields = std::move(a.fields);
  out.summary = std::move(a.summary);
  return out;
}

rules::EngineOptions EngineOptionsFrom(const RulesConfig& c) {
  rules::EngineOptions o;
  o.allowed_lateness_ns = c.allowed_lateness_ms * 1'000'000;
  o.max_groups_per_rule = c.max_groups_per_rule;
  return o;
}

Detection::Detection(const Config& config, prometheus::Registry& registry, const Clock& clock)
    : paths_(config.rules.paths), clock_(clock), registry_(registry) {}

Detection::~Detection() = default;

Result<std::unique_ptr<Detection>> Detection::Create(const Config& config,
                                                     prometheus::Registry& registry,
                                                     const Clock& clock,
                                                     notify::Notifier* notifier) {
  std::unique_ptr<Detection> d(new Detection(config, registry, clock));
  d->notifier_ = notifier;
  incidents::IncidentStoreOptions so;
  so.dir = config.data_dir + "/incidents";
  so.sync = config.storage.sync;
  auto store = incidents::IncidentStore::Open(so);
  if (!store.ok()) return store.status();
  d->store_ = std::move(store).value();
  incidents::ManagerOptions mo;
  mo.reopen_window_ns = config.incidents.reopen_window_ms * 1'000'000;
  mo.max_evidence = config.incidents.max_evidence;
  auto manager = incidents::IncidentManager::Create(*d->store_, clock, registry, mo);
  if (!manager.ok()) return manager.status();
  d->manager_ = std::move(manager).value();
  log::Info("incidents", "opened " + so.dir + ", " + std::to_string(d->manager_->open_count()) +
                             " open incidents");

  rules::LoadResult loaded = rules::LoadRuleFiles(d->paths_);
  LogLoadResult(loaded);
  d->engine_ = std::make_unique<rules::Engine>(loaded.rules, EngineOptionsFrom(config.rules));
  d->metrics_ = std::make_unique<rules::EngineMetrics>(registry);
  d->metrics_->Update(*d->engine_);
  return d;
}

void Detection::OnStored(std::vector<Record>& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  alerts_.clear();
  for (const Record& r : batch) engine_->Process(r, &alerts_);
  Deliver(&alerts_);
  MaybeUpdateMetrics(false);
}

void Detection::Deliver(std::vector<rules::Alert>* alerts) {
  if (alerts->empty()) return;
  std::vector<incidents::Alert> converted;
  converted.reserve(alerts->size());
  for (auto& a : *alerts) {
    if (log::Enabled(log::Level::kDebug)) {
      log::Debug("rules", "alert " + a.rule_id + ": " + a.summary);
    }
    converted.push_back(ToIncidentAlert(std::move(a)));
  }
  alerts->clear();
  auto applied = manager_->OnAlerts(converted);
  if (!applied.ok()) {
    log::Error("incidents", "recording " + std::to_string(converted.size()) +
                                " alerts failed: " + applied.status().ToString());
    return;
  }
  for (std::uint64_t id : applied->opened) {
    auto inc = store_->Get(id);
    if (!inc.ok() || !inc->has_value()) continue;
    const incidents::Incident& i = **inc;
    log::Warn("incidents", "incident " + std::to_string(id) + " opened: rule " + i.rule_id +
                               ", severity " + std::string(incidents::SeverityName(i.severity)) +
                               ": " + i.summary);
    Notify(i, true);
  }
  if (notifier_ == nullptr || !notifier_->enabled()) return;
  for (std::uint64_t id : applied->joined) {
    auto inc = store_->Get(id);
    if (inc.ok() && inc->has_value()) Notify(**inc, false);
  }
}

void Detection::Notify(const incidents::Incident& inc, bool opened) {
  if (notifier_ == nullptr || !notifier_->enabled()) return;
  notify::Kind kind = opened ? notify::Kind::kCreated : notify::Kind::kUpdated;
  if (!opened && inc.status == incidents::IncidentStatus::kReopened && !inc.timeline.empty()) {
    const incidents::TimelineEntry& last = inc.timeline.back();
    if (last.kind == incidents::TimelineKind::kState &&
        last.to == incidents::IncidentStatus::kReopened && last.time_ns == inc.updated_ns) {
      kind = notify::Kind::kReopened;
    }
  }
  if (Status st = notifier_->OnIncident(inc, kind); !st.ok()) {
    log::Error("notify", "incident " + std::to_string(inc.id) +
                             ": writing the notification to the outbox failed: " + st.ToString());
  }
}

void Detection::MaybeUpdateMetrics(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_metrics_ < std::chrono::seconds(1)) return;
  last_metrics_ = now;
  metrics_->Update(*engine_);
}

nlohmann::json Detection::Reload() {
  rules::LoadResult loaded = rules::LoadRuleFiles(paths_);
  LogLoadResult(loaded);
  std::size_t kept = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::set<std::pair<std::string, std::uint64_t>> old;
    const rules::RuleSet& cur = engine_->rules();
    for (std::size_t i = 0; i < cur.size(); ++i) {
      old.emplace(cur.info(i).id, cur.info(i).definition_hash);
    }
    for (std::size_t i = 0; i < loaded.rules->size(); ++i) {
      kept += old.count({loaded.rules->info(i).id, loaded.rules->info(i).definition_hash});
    }
    engine_->Reload(loaded.rules);
    MaybeUpdateMetrics(true);
  }
  log::Info("rules", "reloaded: " + std::to_string(loaded.rules->size()) + " rules, " +
                         std::to_string(kept) + " kept their state");
  nlohmann::json j = LoadReportJson(loaded);
  j["kept_state"] = kept;
  return j;
}

void Detection::Tick(std::int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  alerts_.clear();
  if (TickEngine(*engine_, now_ns, &alerts_)) Deliver(&alerts_);
  // The rule metrics follow the batches at most once a second; after the last batch of a
  // burst they would stay behind until the next one comes (a quiet source: never).
  MaybeUpdateMetrics(false);
}

void Detection::Start(boost::asio::io_context& io, std::chrono::milliseconds tick) {
  if (tick.count() <= 0 || !kEngineHasTick<rules::Engine>) return;  // nothing to drive
  tick_ = tick;
  timer_ = std::make_unique<boost::asio::steady_timer>(io);
  ArmTimer();
}

void Detection::ArmTimer() {
  timer_->expires_after(tick_);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_.load()) return;
    Tick(clock_.NowNs());
    ArmTimer();
  });
}

void Detection::Stop() {
  stopped_.store(true);
  if (timer_) timer_->cancel();
}

api::Response Detection::ListIncidents(const api::Request& req) const {
  auto opts = incidents::ListOptionsFromParams(req.params);
  if (!opts.ok()) return api::JsonError(400, opts.status().message());
  auto list = store_->List(*opts);
  if (!list.ok()) return api::JsonError(500, list.status().message());
  nlohmann::json out;
  out["incidents"] = nlohmann::json::array();
  for (const auto& inc : *list) out["incidents"].push_back(incidents::IncidentToJson(inc));
  out["next"] = list->size() == opts->limit && !list->empty()
                    ? nlohmann::json(std::to_string(list->back().id))
                    : nlohmann::json(nullptr);
  return JsonResponse(out);
}

namespace {

// The incident id of ?id=N: 0 (and *error set) when missing or bad.
std::uint64_t IncidentIdParam(const api::Request& req, api::Response* error) {
  for (const auto& [k, v] : req.params) {
    if (k != "id") {
      *error = api::JsonError(400, "unknown parameter '" + k + "'");
      return 0;
    }
  }
  const std::string v = req.param("id");
  std::uint64_t id = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), id);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || id == 0) {
    *error = api::JsonError(400, "id: expected an incident id (1, 2, ...), got '" + v + "'");
    return 0;
  }
  return id;
}

}  // namespace

api::Response Detection::GetIncident(const api::Request& req) const {
  api::Response err;
  std::uint64_t id = IncidentIdParam(req, &err);
  if (id == 0) return err;
  auto inc = store_->Get(id);
  if (!inc.ok()) return api::JsonError(500, inc.status().message());
  if (!inc->has_value())
    return api::JsonError(404, "incident " + std::to_string(id) + " not found");
  return JsonResponse(incidents::IncidentToJson(**inc));
}

api::Response Detection::IncidentAction(const std::string& action, const api::Request& req,
                                        const std::string& actor) {
  api::Response err;
  std::uint64_t id = IncidentIdParam(req, &err);
  if (id == 0) return err;
  nlohmann::json body = nlohmann::json::object();
  if (!req.body.empty()) {
    body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return api::JsonError(400, "body: expected a JSON object");
  }
  if (actor.empty()) return api::JsonError(500, "incident change without an actor");
  std::string text, owner;
  bool has_owner = false;
  for (const auto& [k, v] : body.items()) {
    if (k == "actor") {
      return api::JsonError(400, "actor: not accepted; the actor is the name of the API token");
    }
    std::string* dst = k == "text" ? &text : k == "owner" ? &owner : nullptr;
    if (dst == nullptr) return api::JsonError(400, "body: unknown field '" + k + "'");
    if (!v.is_string()) return api::JsonError(400, k + ": expected a string");
    *dst = v.get<std::string>();
    if (k == "owner") has_owner = true;
  }
  incidents::ChangeResult r;
  incidents::Action act;
  if (action == "assign") {
    if (!has_owner) return api::JsonError(400, "owner: required (\"\" to unassign)");
    r = manager_->Assign(id, owner, actor);
  } else if (action == "note") {
    if (has_owner) return api::JsonError(400, "owner: not a field of note");
    r = manager_->AddNote(id, text, actor);
  } else if (incidents::ParseAction(action, &act)) {
    if (has_owner) return api::JsonError(400, "owner: not a field of " + action);
    r = manager_->Change(id, act, actor, text);
  } else {
    return api::JsonError(404, "unknown incident action '" + action + "'");
  }
  if (!r.ok()) return api::JsonError(r.http_status(), r.message);
  log::Info("incidents", "incident " + std::to_string(id) + ": " + action + " by " + actor);
  return JsonResponse(incidents::IncidentToJson(r.incident));
}

api::Response Detection::ReloadRules(const api::Request&) { return JsonResponse(Reload()); }

}  // namespace mamori::app
