#include "mamori/incidents/manager.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <map>

namespace mamori::incidents {

IncidentManager::IncidentManager(IncidentStore& store, const Clock& clock,
                                 prometheus::Registry& registry, ManagerOptions options)
    : store_(store), clock_(clock), options_(options) {
  auto& opened = prometheus::BuildCounter()
                     .Name("mamori_incidents_opened_total")
                     .Help("Incidents opened, by severity")
                     .Register(registry);
  auto& open = prometheus::BuildGauge()
                   .Name("mamori_incidents_open")
                   .Help("Open incidents (not resolved or closed), by current severity")
                   .Register(registry);
  for (int i = 0; i < kNumSeverities; ++i) {
    std::string sev(SeverityName(static_cast<Severity>(i)));
    opened_total_[i] = &opened.Add({{"severity", sev}});
    open_gauge_[i] = &open.Add({{"severity", sev}});
  }
  auto& oldest = prometheus::BuildGauge()
                     .Name("mamori_incidents_unacknowledged_oldest_timestamp_seconds")
                     .Help(
                         "Opening (or reopening) time of the oldest incident still new or "
                         "reopened, seconds since the Unix epoch; 0 when none")
                     .Register(registry);
  auto& tta = prometheus::BuildHistogram()
                  .Name("mamori_incidents_time_to_acknowledge_seconds")
                  .Help("From opening (or reopening) to the first move out of new/reopened")
                  .Register(registry);
  const prometheus::Histogram::BucketBoundaries buckets = {
      60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600};
  for (int i = 0; i < kNumSeverities; ++i) {
    std::string sev(SeverityName(static_cast<Severity>(i)));
    unacked_oldest_[i] = &oldest.Add({{"severity", sev}});
    time_to_ack_[i] = &tta.Add({{"severity", sev}}, buckets);
  }
  alerts_total_ = &prometheus::BuildCounter()
                       .Name("mamori_incidents_alerts_total")
                       .Help("Alerts received by the incident manager")
                       .Register(registry)
                       .Add({});
  write_errors_total_ = &prometheus::BuildCounter()
                             .Name("mamori_incidents_write_errors_total")
                             .Help("Failed incident batch writes (their changes were lost)")
                             .Register(registry)
                             .Add({});
}

IncidentManager::~IncidentManager() = default;

Result<std::unique_ptr<IncidentManager>> IncidentManager::Create(IncidentStore& store,
                                                                 const Clock& clock,
                                                                 prometheus::Registry& registry,
                                                                 ManagerOptions options) {
  std::unique_ptr<IncidentManager> m(new IncidentManager(store, clock, registry, options));
  const std::int64_t now = clock.NowNs();
  Status st = store.ForEach(
      [&m, now](const Incident& inc) { m->Account(nullptr, inc, now, /*loading=*/true); });
  if (!st.ok()) return st;
  m->UpdateUnackedGauges();
  return m;
}

std::string IncidentManager::Key(const std::string& rule_id, const std::string& group_key) {
  std::string k;
  k.reserve(rule_id.size() + 1 + group_key.size());
  k += rule_id;
  k += '\0';
  k += group_key;
  return k;
}

int ChangeResult::http_status() const {
  switch (error) {
    case ChangeError::kOk:
      return 200;
    case ChangeError::kInvalid:
      return 400;
    case ChangeError::kNotFound:
      return 404;
    case ChangeError::kConflict:
      return 409;
    case ChangeError::kStorage:
      return 500;
  }
  return 500;
}

ChangeResult IncidentManager::Fail(ChangeError e, std::string message) {
  ChangeResult r;
  r.error = e;
  r.message = std::move(message);
  return r;
}

void IncidentManager::AddEntry(Incident* inc, TimelineEntry e) {
  auto& tl = inc->timeline;
  if (e.kind == TimelineKind::kAlert && !tl.empty() && tl.back().kind == TimelineKind::kAlert) {
    // Consecutive alerts share one entry: the latest time and summary, and how many.
    tl.back().time_ns = std::max(tl.back().time_ns, e.time_ns);
    tl.back().text = std::move(e.text);
    tl.back().count += e.count;
    return;
  }
  tl.push_back(std::move(e));
  if (tl.size() > Incident::kMaxTimeline) {
    // Drop the oldest alert entry; state changes, assignments and notes are kept.
    auto it = std::find_if(tl.begin(), tl.end(),
                           [](const TimelineEntry& x) { return x.kind == TimelineKind::kAlert; });
    if (it != tl.end()) tl.erase(it);
  }
}

void IncidentManager::Account(const Incident* before, const Incident& after, std::int64_t now,
                              bool loading) {
  const int sev = static_cast<int>(after.severity);
  const std::string key = Key(after.rule_id, after.group_key);
  if (before == nullptr && !loading) opened_total_[sev]->Increment();
  if (before != nullptr && before->open()) {
    open_gauge_[static_cast<int>(before->severity)]->Decrement();
  }
  if (after.open()) {
    open_gauge_[sev]->Increment();
    open_[key] = after.id;
  } else if (auto it = open_.find(key); it != open_.end() && it->second == after.id) {
    open_.erase(it);
  }
  if (options_.reopen_window_ns > 0) {
    auto it = resolved_.find(key);
    if (after.status == IncidentStatus::kResolved) {
      if (it == resolved_.end() || it->second.first <= after.id) {
        resolved_[key] = {after.id, after.resolved_ns};
      }
    } else if (it != resolved_.end() &&
               (it->second.first == after.id ||
                (after.status == IncidentStatus::kClosed && it->second.first < after.id))) {
      resolved_.erase(it);  // reopened or closed; or a later incident of the key was closed
    }
  }
  const bool was_unacked = before != nullptr && IsUnacknowledged(before->status);
  if (IsUnacknowledged(after.status)) {
    auto it = unacked_.find(after.id);
    std::int64_t since = after.status == IncidentStatus::kNew ? after.created_ns : now;
    if (it != unacked_.end()) since = it->second.since_ns;
    if (loading && after.status == IncidentStatus::kReopened) since = after.updated_ns;
    unacked_[after.id] = Unacked{after.severity, since};
  } else if (auto it = unacked_.find(after.id); it != unacked_.end()) {
    if (was_unacked) {
      double secs = static_cast<double>(now - it->second.since_ns) / 1e9;
      time_to_ack_[sev]->Observe(std::max(0.0, secs));
    }
    unacked_.erase(it);
  }
  if (!loading) UpdateUnackedGauges();
}

void IncidentManager::UpdateUnackedGauges() {
  std::array<std::int64_t, kNumSeverities> oldest{};
  for (const auto& [id, u] : unacked_) {
    auto& o = oldest[static_cast<int>(u.severity)];
    if (o == 0 || u.since_ns < o) o = u.since_ns;
  }
  for (int i = 0; i < kNumSeverities; ++i) {
    unacked_oldest_[i]->Set(static_cast<double>(oldest[i]) / 1e9);
  }
}

ChangeResult IncidentManager::Modify(std::uint64_t id,
                                     const std::function<ChangeResult(Incident*)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  auto got = store_.Get(id);
  if (!got.ok()) return Fail(ChangeError::kStorage, got.status().ToString());
  if (!got->has_value()) {
    return Fail(ChangeError::kNotFound, "incident " + std::to_string(id) + " not found");
  }
  const Incident before = **got;
  Incident after = before;
  ChangeResult r = fn(&after);
  if (!r.ok()) return r;
  const std::int64_t now = clock_.NowNs();
  after.updated_ns = now;
  if (Status st = store_.Write({&after}, store_.next_id()); !st.ok()) {
    write_errors_total_->Increment();
    return Fail(ChangeError::kStorage, st.ToString());
  }
  Account(&before, after, now, false);
  r.incident = std::move(after);
  return r;
}

namespace {

std::string CheckName(const char* what, const std::string& v, bool may_be_empty) {
  if (!may_be_empty && v.empty()) return std::string(what) + ": must not be empty";
  if (v.size() > kMaxNameBytes) {
    return std::string(what) + ": longer than " + std::to_string(kMaxNameBytes) + " bytes";
  }
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f) return std::string(what) + ": control characters not allowed";
  }
  return "";
}

}  // namespace

ChangeResult IncidentManager::Change(std::uint64_t id, Action action, const std::string& actor,
                                     const std::string& text) {
  if (auto e = CheckName("actor", actor, false); !e.empty()) return Fail(ChangeError::kInvalid, e);
  if (text.size() > kMaxNoteBytes) {
    return Fail(ChangeError::kInvalid,
                "text: longer than " + std::to_string(kMaxNoteBytes) + " bytes");
  }
  return Modify(id, [&](Incident* inc) {
    IncidentStatus to;
    if (!Transition(inc->status, action, &to)) {
      return Fail(ChangeError::kConflict, "incident " + std::to_string(id) + " is " +
                                              std::string(StatusName(inc->status)) + ": cannot " +
                                              std::string(ActionName(action)) + " it");
    }
    if (action == Action::kReopen) {
      auto it = open_.find(Key(inc->rule_id, inc->group_key));
      if (it != open_.end() && it->second != inc->id) {
        return Fail(ChangeError::kConflict,
                    "incident " + std::to_string(it->second) +
                        " is open for the same rule and group key: work that one instead");
      }
    }
    const std::int64_t now = clock_.NowNs();
    if (IsUnacknowledged(inc->status) && !IsUnacknowledged(to) && inc->acknowledged_ns == 0) {
      inc->acknowledged_ns = now;
    }
    if (!IsOpen(to)) inc->resolved_ns = now;
    AddEntry(inc, TimelineEntry{now, actor, TimelineKind::kState, inc->status, to, text, 1});
    inc->status = to;
    return ChangeResult{};
  });
}

ChangeResult IncidentManager::Assign(std::uint64_t id, const std::string& owner,
                                     const std::string& actor) {
  if (auto e = CheckName("actor", actor, false); !e.empty()) return Fail(ChangeError::kInvalid, e);
  if (auto e = CheckName("owner", owner, true); !e.empty()) return Fail(ChangeError::kInvalid, e);
  return Modify(id, [&](Incident* inc) {
    inc->owner = owner;
    AddEntry(inc, TimelineEntry{clock_.NowNs(), actor, TimelineKind::kAssign, IncidentStatus::kNew,
                                IncidentStatus::kNew, owner, 1});
    return ChangeResult{};
  });
}

ChangeResult IncidentManager::AddNote(std::uint64_t id, const std::string& text,
                                      const std::string& actor) {
  if (auto e = CheckName("actor", actor, false); !e.empty()) return Fail(ChangeError::kInvalid, e);
  if (text.empty()) return Fail(ChangeError::kInvalid, "text: must not be empty");
  if (text.size() > kMaxNoteBytes) {
    return Fail(ChangeError::kInvalid,
                "text: longer than " + std::to_string(kMaxNoteBytes) + " bytes");
  }
  return Modify(id, [&](Incident* inc) {
    AddEntry(inc, TimelineEntry{clock_.NowNs(), actor, TimelineKind::kNote, IncidentStatus::kNew,
                                IncidentStatus::kNew, text, 1});
    return ChangeResult{};
  });
}

void IncidentManager::Join(const Alert& a, std::int64_t now, Incident* inc) const {
  if (inc->count > 0) {  // the opening alert is the "created" entry
    AddEntry(inc, TimelineEntry{now, "mamori", TimelineKind::kAlert, IncidentStatus::kNew,
                                IncidentStatus::kNew, a.summary, 1});
  }
  ++inc->count;
  inc->severity = std::max(inc->severity, a.severity);
  if (inc->first_seen_ns == 0 || a.event_time_ns < inc->first_seen_ns) {
    inc->first_seen_ns = a.event_time_ns;
  }
  inc->last_seen_ns = std::max(inc->last_seen_ns, a.event_time_ns);
  inc->updated_ns = now;
  inc->last_summary = a.summary;
  for (const auto& t : a.tags) {
    if (std::find(inc->tags.begin(), inc->tags.end(), t) == inc->tags.end()) {
      inc->tags.push_back(t);
    }
  }
  // Evidence: keep the first max_evidence distinct seqs; past that, count the seqs above the
  // highest one seen (records are stored, and reported, in seq order).
  auto& seqs = inc->evidence_seqs;
  for (std::uint64_t s : a.evidence_seqs) {
    if (seqs.size() < options_.max_evidence) {
      if (std::find(seqs.begin(), seqs.end(), s) != seqs.end()) continue;
      seqs.push_back(s);
    } else if (s <= inc->highest_evidence_seq) {
      continue;
    }
    ++inc->evidence_count;
    inc->highest_evidence_seq = std::max(inc->highest_evidence_seq, s);
  }
}

Result<ApplyResult> IncidentManager::OnAlerts(const std::vector<Alert>& alerts) {
  ApplyResult result;
  if (alerts.empty()) return result;
  std::lock_guard<std::mutex> lock(mu_);
  alerts_total_->Increment(static_cast<double>(alerts.size()));
  const std::int64_t now = clock_.NowNs();
  std::uint64_t next_id = store_.next_id();
  // Changes of this call, by id; applied to the index only when the batch is written.
  std::map<std::uint64_t, Incident> dirty;
  std::map<std::uint64_t, Incident> before;  // joined or reopened incidents before this call
  std::unordered_map<std::string, std::uint64_t> new_keys;
  for (const Alert& a : alerts) {
    std::string key = Key(a.rule_id, a.group_key);
    std::uint64_t id = 0;
    bool reopen = false;
    if (auto it = new_keys.find(key); it != new_keys.end()) {
      id = it->second;
    } else if (auto it2 = open_.find(key); it2 != open_.end()) {
      id = it2->second;
    } else if (auto it3 = resolved_.find(key);
               it3 != resolved_.end() && now - it3->second.second < options_.reopen_window_ns) {
      id = it3->second.first;
      reopen = true;
    }
    if (id != 0 && dirty.count(id) == 0) {
      auto got = store_.Get(id);
      if (!got.ok()) return got.status();
      const bool usable =
          *got && ((*got)->open() || (reopen && (*got)->status == IncidentStatus::kResolved));
      if (usable) {
        Incident inc = **got;
        before.emplace(id, inc);
        if (!inc.open()) {
          AddEntry(&inc, TimelineEntry{now, "mamori", TimelineKind::kState, inc.status,
                                       IncidentStatus::kReopened,
                                       "alert within the reopen window: " + a.summary, 1});
          inc.status = IncidentStatus::kReopened;
        }
        new_keys[key] = id;
        dirty.emplace(id, std::move(inc));
        result.joined.push_back(id);
      } else {
        id = 0;  // gone or no longer open: open a new one
      }
    }
    if (id == 0) {
      Incident inc;
      inc.id = next_id++;
      inc.status = IncidentStatus::kNew;
      inc.severity = a.severity;
      inc.title = a.title;
      inc.rule_id = a.rule_id;
      inc.group_key = a.group_key;
      inc.first_seen_ns = a.event_time_ns;
      inc.last_seen_ns = a.event_time_ns;
      inc.created_ns = now;
      inc.summary = a.summary;
      inc.fields = a.fields;
      inc.timeline.push_back(TimelineEntry{now, "mamori", TimelineKind::kCreated,
                                           IncidentStatus::kNew, IncidentStatus::kNew, a.summary,
                                           1});
      id = inc.id;
      new_keys[key] = id;
      dirty.emplace(id, std::move(inc));
      result.opened.push_back(id);
    }
    Join(a, now, &dirty.at(id));
  }
  std::vector<const Incident*> writes;
  writes.reserve(dirty.size());
  for (const auto& [id, inc] : dirty) writes.push_back(&inc);
  if (Status st = store_.Write(writes, next_id); !st.ok()) {
    write_errors_total_->Increment();
    return st;
  }
  for (const auto& [id, inc] : dirty) {
    auto b = before.find(id);
    Account(b == before.end() ? nullptr : &b->second, inc, now, false);
  }
  return result;
}

}  // namespace mamori::incidents
