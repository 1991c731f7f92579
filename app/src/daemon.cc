#include "daemon.h"

// Boost 1.74's Asio needs <utility> before it with GCC 12 and C++20 (DESIGN.md, "Known trap").
// clang-format off
#include <utility>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
// clang-format on
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <pthread.h>
#include <stdlib.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "access.h"
#include "detection.h"
#include "mamori/api/http_server.h"
#include "mamori/auth/audit.h"
#include "mamori/auth/token_store.h"
#include "mamori/collector/collector.h"
#include "mamori/collector/sources.h"
#include "mamori/core/bounded_queue.h"
#include "mamori/core/clock.h"
#include "mamori/core/log.h"
#include "mamori/notify/notifier.h"
#include "mamori/parsers/classifier.h"
#include "mamori/parsers/parser.h"
#include "mamori/storage/bundle.h"
#include "mamori/storage/evidence_service.h"
#include "mamori/storage/evidence_store.h"
#include "mamori/storage/query.h"
#include "mamori/storage/record_json.h"
#include "mamori/storage/verify.h"
#include "mamori/storage/writer.h"
#include "rule_thread.h"

namespace mamori::app {
namespace asio = boost::asio;

// mamori_build_info{version} (always 1) and mamori_start_time_seconds: which build runs, and
// since when (restarts; the source-silent alert waits for a full window after a start).
void RegisterProcessMetrics(prometheus::Registry& registry) {
  prometheus::BuildGauge()
      .Name("mamori_build_info")
      .Help("Always 1; the version of the running mamori in its label")
      .Register(registry)
      .Add({{"version", MAMORI_VERSION}})
      .Set(1);
  prometheus::BuildGauge()
      .Name("mamori_start_time_seconds")
      .Help("Start time of the mamori process, seconds since the Unix epoch")
      .Register(registry)
      .Add({})
      .Set(static_cast<double>(SystemClock::Instance().NowNs()) / 1e9);
}

struct Daemon::Impl {
  explicit Impl(Config c)
      : config(std::move(c)),
        registry(std::make_shared<prometheus::Registry>()),
        queue(config.pipeline.queue_capacity),
        signals(io, SIGINT, SIGTERM),
        sighup(io, SIGHUP),
        tls_reloads(prometheus::BuildCounter()
                        .Name("mamori_tls_reloads_total")
                        .Help("TLS certificate reloads (SIGHUP) by listener (\"api\" = HTTPS) "
                              "and result (ok, error: the previous certificate stays in use)")
                        .Register(*registry)) {
    RegisterProcessMetrics(*registry);
  }
  ~Impl() {
    // Sessions and listeners first, while the io_context still exists.
    http.reset();
    collector.reset();
  }

  // Declaration order is destruction order in reverse: everything a pending Asio handler may
  // touch when the io_context destroys it (registry, queue, store) must outlive `io`.
  Config config;
  std::shared_ptr<prometheus::Registry> registry;
  BoundedQueue<Record> queue;
  std::unique_ptr<storage::EvidenceStore> store;
  std::unique_ptr<storage::Writer> writer;
  std::unique_ptr<storage::SigningKey> signing_key;
  std::unique_ptr<auth::AuditLog> audit;  // <data_dir>/audit; its head is in each checkpoint
  std::unique_ptr<storage::EvidenceService> evidence;  // uses store, signing_key and audit
  std::unique_ptr<parsers::ParseStats> parse_stats;
  std::unique_ptr<collector::SourceTracker> sources;
  std::unique_ptr<parsers::Classifier> classifier;  // information class, My Number
  std::unique_ptr<auth::TokenSet> tokens;           // <data_dir>/tokens, reloaded when changed
  std::unique_ptr<ApiGuard> guard;                  // wraps every route (uses tokens, audit)
  std::unique_ptr<notify::Notifier> notifier;       // outbox and delivery threads
  asio::io_context io;
  asio::signal_set signals;
  asio::signal_set sighup;  // the process's only SIGHUP handler: rules and TLS reload
  prometheus::Family<prometheus::Counter>& tls_reloads;
  std::unique_ptr<Detection> detection;     // holds Asio objects: destroyed before `io`
  std::unique_ptr<RuleThread> rule_thread;  // calls `detection`: destroyed (stopped) before it
  std::unique_ptr<collector::Collector> collector;
  std::unique_ptr<api::HttpServer> http;
  std::atomic<bool> stopping{false};

  Status OpenStore();
  Status StartNotifier();
  Status StartDetection();
  Status StartWriter();
  Status OpenAudit();
  Status StartEvidence();
  Status StartCollector();
  Status StartHttp();
  void Shutdown();
  void WaitSighup();
  void ReloadTls();
  void CountTlsReload(const std::string& listener, const Status& st);
  api::Response Events(const api::Request& req, CallContext& ctx);
  api::Response Health(const api::Request& req);
  api::Response Verify(const api::Request& req, CallContext& ctx);
  api::Response Export(const api::Request& req, CallContext& ctx);
  std::string CheckpointFile() const;
};

Status Daemon::Impl::OpenStore() {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return Status::IOError("data_dir '" + config.data_dir + "': cannot create: " + ec.message());
  }
  storage::StoreOptions opts;
  opts.dir = config.data_dir;
  opts.sync = config.storage.sync;
  opts.block_cache_bytes = config.storage.block_cache_bytes;
  using Compression = storage::StoreOptions::Compression;
  opts.compression = config.storage.compression == "zstd"   ? Compression::kZstd
                     : config.storage.compression == "none" ? Compression::kNone
                                                            : Compression::kLz4;
  opts.chain = config.evidence.chain;
  auto s = storage::EvidenceStore::Open(opts);
  if (!s.ok()) return s.status();
  store = std::move(s).value();
  log::Info("storage",
            "opened " + config.data_dir + ", next sequence " + std::to_string(store->next_seq()));
  return Status::Ok();
}

// Opens the notification outbox (<data_dir>/notify) and starts one delivery thread per channel;
// pending notifications of earlier runs are resumed.
Status Daemon::Impl::StartNotifier() {
  notify::NotifierOptions no;
  no.dir = (std::filesystem::path(config.data_dir) / "notify").string();
  no.sync = config.storage.sync;
  auto n = notify::Notifier::Create(config.notifications, no, SystemClock::Instance(), *registry);
  if (!n.ok()) return n.status();
  notifier = std::move(n).value();
  notifier->Start();
  return Status::Ok();
}

// Loads the rules and opens the incidents; the engine runs on the writer thread (StartWriter).
Status Daemon::Impl::StartDetection() {
  auto d = Detection::Create(config, *registry, SystemClock::Instance(), notifier.get());
  if (!d.ok()) return d.status();
  detection = std::move(d).value();
  detection->Start(io, std::chrono::seconds(5));  // SIGHUP reloads; absence rules tick
  return Status::Ok();
}

Status Daemon::Impl::StartWriter() {
  storage::Writer::Options wo;
  wo.batch_max = config.storage.write_batch_max_records;
  writer = std::make_unique<storage::Writer>(*store, queue, wo, *registry);
  // The rules run on their own thread, at most 4 write batches behind the writer.
  rule_thread = std::make_unique<RuleThread>(
      4 * wo.batch_max, [d = detection.get()](std::vector<Record>& b) { d->OnStored(b); },
      *registry);
  rule_thread->Start();
  writer->SetOnStored([rt = rule_thread.get()](std::vector<Record>& b) { rt->Push(b); });
  writer->Start();
  return Status::Ok();
}

std::string Daemon::Impl::CheckpointFile() const {
  return config.evidence.checkpoint_file.empty()
             ? (std::filesystem::path(config.data_dir) / "checkpoints.log").string()
             : config.evidence.checkpoint_file;
}

// The audit trail of the API (opened before the evidence service, which signs its head into
// every checkpoint). Only with the API.
Status Daemon::Impl::OpenAudit() {
  if (!config.http.enabled) return Status::Ok();
  auth::AuditOptions ao;
  ao.dir = (std::filesystem::path(config.data_dir) / "audit").string();
  ao.sync = config.storage.sync;
  auto a = auth::AuditLog::Open(ao, registry.get());
  if (!a.ok()) return a.status();
  audit = std::move(a).value();
  return Status::Ok();
}

// The signing key, checkpoints and retention (storage::EvidenceService). Off with the chain.
Status Daemon::Impl::StartEvidence() {
  if (!config.evidence.chain) {
    log::Warn("evidence", "evidence.chain is off: records are not tamper-evident");
    return Status::Ok();
  }
  const std::string key_file =
      config.evidence.key_file.empty()
          ? (std::filesystem::path(config.data_dir) / "signing.key").string()
          : config.evidence.key_file;
  std::string warning;
  auto key = storage::SigningKey::LoadOrCreate(key_file, &warning);
  if (!key.ok()) return key.status();
  if (!warning.empty()) log::Warn("evidence", warning);
  signing_key = std::move(key).value();
  storage::EvidenceService::Options eo;
  eo.checkpoint_interval_ms = config.evidence.checkpoint_interval_ms;
  eo.checkpoint_file = CheckpointFile();
  eo.checkpoint_syslog = config.evidence.checkpoint_syslog;
  const auto& r = config.retention;
  eo.retention.max_age_ns = {r.class_i_ms * 1'000'000, r.class_ii_ms * 1'000'000,
                             r.class_iii_ms * 1'000'000};
  eo.retention_check_interval_ms = r.check_interval_ms;
  if (audit) {
    // The maintenance thread reads the head (thread-safe); `audit` outlives `evidence`.
    eo.audit_anchor = [log = audit.get()]() -> Result<storage::ExtraAnchor> {
      auto h = log->DurableHead();
      if (!h.ok()) return h.status();
      storage::ExtraAnchor a;
      a.seq = h->first;
      std::copy(h->second.begin(), h->second.end(), a.head.begin());
      return a;
    };
  }
  evidence = std::make_unique<storage::EvidenceService>(*store, *signing_key, eo,
                                                        SystemClock::Instance(), *registry);
  return evidence->Start();
}

api::Response Daemon::Impl::Verify(const api::Request& req, CallContext& ctx) {
  storage::VerifyOptions vo;
  for (const auto& [name, value] : req.params) {
    std::uint64_t* dst = name == "from" ? &vo.from : name == "to" ? &vo.to : nullptr;
    if (dst == nullptr) return api::JsonError(400, "unknown parameter '" + name + "'");
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), *dst);
    if (ec != std::errc() || p != value.data() + value.size() || *dst == 0) {
      return api::JsonError(400, name + ": expected a sequence number >= 1");
    }
  }
  if (config.evidence.chain) vo.checkpoint_file = CheckpointFile();
  const storage::VerifyReport report = storage::VerifyStore(*store, vo);
  if (evidence) evidence->RecordVerify(report.ok(), SystemClock::Instance().NowNs());
  if (report.failure == storage::VerifyFailure::kError) return api::JsonError(500, report.what);
  ctx.returned = static_cast<std::int64_t>(report.records);
  api::Response resp;
  resp.body = storage::VerifyReportToJson(report).dump(-1, ' ', false,
                                                       nlohmann::json::error_handler_t::replace);
  return resp;
}

Status Daemon::Impl::StartCollector() {
  parse_stats = std::make_unique<parsers::ParseStats>(*registry);
  auto made = parsers::Classifier::Create(config.classification, registry.get());
  if (!made.ok()) return made.status();
  classifier = std::move(made).value();
  for (const auto& l : config.listeners) {
    if (l.format != "auto" && !parsers::IsKnownFormat(l.format)) {
      return Status::InvalidArgument("listener " + l.name + ": unknown format '" + l.format + "'");
    }
  }
  auto tracker = collector::SourceTracker::Create(config.sources, *registry);
  if (!tracker.ok()) return tracker.status();
  sources = std::move(tracker).value();
  auto processor = [stats = parse_stats.get(), classify = classifier.get(),
                    sources = sources.get()](const ListenerConfig& l, std::span<Record> records) {
    parsers::ParseContext ctx;
    ctx.utc_offset_minutes = l.utc_offset_minutes;
    ctx.format = l.format;
    // Metrics are counted per read and published once: the counters are atomics shared by the
    // I/O threads, updated once per read instead of once per record.
    parsers::Classifier::Tally class_tally;
    parsers::ParseStats::Tally parse_tally;
    collector::SourceTracker::Tally source_tally;
    for (Record& rec : records) {
      parsers::Parse(rec.raw, ctx, &rec.event);      // a new record: its event is still empty
      classify->Classify(&rec.event, &class_tally);  // class I on a My Number; masks
      stats->Count(rec.event, &parse_tally);
      sources->Observe(rec, &source_tally);  // per-source liveness (after parsing: Event::host)
    }
    classify->Publish(&class_tally);
    stats->Publish(&parse_tally);
    sources->Publish(&source_tally);
  };
  collector = std::make_unique<collector::Collector>(io, queue, processor, *registry,
                                                     SystemClock::Instance());
  if (Status st = collector->Start(config.listeners); !st.ok()) return st;
  // The collector logs each bound address ("listening: NAME TRANSPORT HOST:PORT").
  return Status::Ok();
}

// Class I events (POLICY.md 3.1: personal data) are shown to investigators and admins only.
// For weaker roles they are left out of the page; the cursor is the store's, so paging stays
// correct (a page may hold fewer than `limit` events). "withheld" counts them.
api::Response Daemon::Impl::Events(const api::Request& req, CallContext& ctx) {
  auto q = storage::QueryFromParams(req.params);
  if (!q.ok()) return api::JsonError(400, q.status().message());
  auto page = store->Search(*q);
  if (!page.ok()) {
    int code = page.status().code() == Status::Code::kInvalidArgument ? 400 : 500;
    return api::JsonError(code, page.status().message());
  }
  const bool class_i = auth::RoleAllows(ctx.who.role, auth::Role::kInvestigator);
  nlohmann::json out;
  out["events"] = nlohmann::json::array();
  for (const auto& r : page->records) {
    if (!class_i && r.event.info_class == InfoClass::kI) {
      ++ctx.withheld;
      continue;
    }
    out["events"].push_back(storage::RecordToJson(r));
    ++ctx.returned;
  }
  out["withheld"] = ctx.withheld;
  out["next"] =
      page->next_cursor.empty() ? nlohmann::json(nullptr) : nlohmann::json(page->next_cursor);
  api::Response resp;
  resp.body = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return resp;
}

// GET /api/v1/evidence/export: the evidence bundle `mamori export` writes, as one JSON object
// {"files": {NAME: CONTENT}, "records", "checkpoints", "proof_hashes"} (every bundle file is
// text). Write each file into a directory to get the bundle; `mamori verify-bundle` checks it.
api::Response Daemon::Impl::Export(const api::Request& req, CallContext& ctx) {
  constexpr std::size_t kMaxRecords = 10'000;
  storage::ExportSelection sel;
  sel.max_records = kMaxRecords;
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [k, v] : req.params) {
    if (k == "limit" || k == "cursor") return api::JsonError(400, "unknown parameter '" + k + "'");
    if (k != "seq") params.emplace_back(k, v);
  }
  if (req.has_param("seq")) {
    if (!params.empty()) return api::JsonError(400, "seq cannot be combined with filters");
    auto seqs = storage::ParseSeqList(req.param("seq"), kMaxRecords);
    if (!seqs.ok()) return api::JsonError(400, "seq: " + seqs.status().message());
    sel.seqs = std::move(seqs).value();
  } else {
    auto q = storage::QueryFromParams(params);
    if (!q.ok()) return api::JsonError(400, q.status().message());
    sel.query = std::move(q).value();
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string tmp = (fs::temp_directory_path(ec) / "mamori-export-XXXXXX").string();
  if (ec || mkdtemp(tmp.data()) == nullptr) {
    return api::JsonError(500, "cannot create a temporary directory for the bundle");
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{tmp};
  const fs::path bundle = fs::path(tmp) / "bundle";
  auto summary = storage::ExportBundle(*store, sel, bundle.string());
  if (!summary.ok()) {
    const auto code = summary.status().code();
    int http = code == Status::Code::kInvalidArgument ? 400
               : code == Status::Code::kNotFound      ? 404
               : code == Status::Code::kUnavailable   ? 503
                                                      : 500;
    return api::JsonError(http, summary.status().message());
  }
  nlohmann::json out;
  out["files"] = nlohmann::json::object();
  for (const auto& entry : fs::directory_iterator(bundle, ec)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) return api::JsonError(500, "reading bundle file " + entry.path().filename().string());
    out["files"][entry.path().filename().string()] = ss.str();
  }
  if (ec) return api::JsonError(500, "reading the bundle: " + ec.message());
  out["records"] = summary->records;
  out["checkpoints"] = summary->checkpoints;
  out["proof_hashes"] = summary->proof_hashes;
  ctx.returned = static_cast<std::int64_t>(summary->records);
  api::Response resp;
  resp.body = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return resp;
}

api::Response Daemon::Impl::Health(const api::Request&) {
  nlohmann::json out;
  out["status"] = stopping.load() ? "stopping" : "ok";
  out["next_seq"] = store->next_seq();
  out["queue_depth"] = queue.depth();
  api::Response resp;
  resp.body = out.dump();
  return resp;
}

// Tokens and the audit trail, then every route through the ApiGuard (app/src/access.h): a
// route needs its role from RouteTable(); startup fails on a route without one.
Status Daemon::Impl::StartHttp() {
  if (!config.http.enabled) return Status::Ok();
  const std::string token_file = (std::filesystem::path(config.data_dir) / "tokens").string();
  auto t = auth::TokenSet::Open(token_file, registry.get());
  if (!t.ok()) return t.status();
  tokens = std::move(t).value();
  if (tokens->active_count() == 0) {
    log::Warn("auth", "no API tokens in " + token_file +
                          ": every API request gets 401 until one is made with `mamori token "
                          "create --data-dir " +
                          config.data_dir + " --role admin --name NAME`");
  }
  guard =
      std::make_unique<ApiGuard>(config.http, *tokens, *audit, SystemClock::Instance(), *registry);
  http = std::make_unique<api::HttpServer>(io, config.http, *registry);
  auto route = [this](const char* method, std::string path, GuardedHandler h) {
    guard->Route(*http, method, path, std::move(h));
  };
  route("GET", "/healthz", [this](const api::Request& r, CallContext&) { return Health(r); });
  route(
      "GET", "/metrics",
      [m = api::MetricsHandler({registry})](const api::Request& r, CallContext&) { return m(r); });
  route("GET", "/api/v1/events",
        [this](const api::Request& r, CallContext& c) { return Events(r, c); });
  route("GET", "/api/v1/verify",
        [this](const api::Request& r, CallContext& c) { return Verify(r, c); });
  route("GET", "/api/v1/evidence/export",
        [this](const api::Request& r, CallContext& c) { return Export(r, c); });
  route("GET", "/api/v1/incidents",
        [this](const api::Request& r, CallContext&) { return detection->ListIncidents(r); });
  route("GET", "/api/v1/incident",
        [this](const api::Request& r, CallContext&) { return detection->GetIncident(r); });
  for (const char* action : Detection::kIncidentActions) {
    route("POST", std::string("/api/v1/incident/") + action,
          [this, a = std::string(action)](const api::Request& r, CallContext& c) {
            api::Response resp = detection->IncidentAction(a, r, c.who.name);
            c.returned = resp.status == 200 ? 1 : 0;
            return resp;
          });
  }
  route("POST", "/api/v1/rules/reload", [this](const api::Request& r, CallContext& c) {
    api::Response resp = detection->ReloadRules(r);
    c.returned = resp.status == 200 ? 1 : 0;
    return resp;
  });
  if (Status st = guard->CheckComplete(); !st.ok()) return st;
  if (Status st = http->Start(); !st.ok()) return st;
  return Status::Ok();
}

// SIGHUP: reload the rules, then the TLS certificates. Runs on an I/O thread.
void Daemon::Impl::WaitSighup() {
  sighup.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec || stopping.load()) return;
    log::Info("app", "received SIGHUP: reloading rules and TLS certificates");
    if (detection) detection->Reload();
    ReloadTls();
    WaitSighup();
  });
}

void Daemon::Impl::CountTlsReload(const std::string& listener, const Status& st) {
  tls_reloads.Add({{"listener", listener}, {"result", st.ok() ? "ok" : "error"}}).Increment();
  if (!st.ok()) {
    log::Error("app", "TLS reload of " + listener +
                          " failed, keeping the previous certificate: " + st.message());
  }
}

void Daemon::Impl::ReloadTls() {
  if (collector) {
    for (const auto& [name, st] : collector->ReloadTls()) CountTlsReload(name, st);
  }
  if (http && http->tls()) CountTlsReload("api", http->ReloadTls());
}

void Daemon::Impl::Shutdown() {
  if (stopping.exchange(true)) return;
  log::Info("app", "stopping: no longer accepting; storing what was received");
  signals.cancel();
  sighup.cancel();
  if (detection) detection->Stop();
  if (collector) collector->Stop();
  if (http) http->Stop();
}

Daemon::Daemon(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Daemon::~Daemon() {
  if (impl_->writer) {
    impl_->queue.Close();
    impl_->writer->Stop();
  }
  if (impl_->rule_thread) impl_->rule_thread->Stop();
}

Status Daemon::Start() {
  log::SetLevel(impl_->config.log_level);
  // Ordered startup; on failure the destructor tears down what was started.
  for (auto step :
       {&Impl::OpenStore, &Impl::StartNotifier, &Impl::StartDetection, &Impl::StartWriter,
        &Impl::OpenAudit, &Impl::StartEvidence, &Impl::StartCollector, &Impl::StartHttp}) {
    if (Status st = (impl_.get()->*step)(); !st.ok()) return st;
  }
  impl_->signals.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::Info("app", std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
    impl_->Shutdown();
  });
  // Both results exported from the start (0), so that an alert can watch the error series.
  std::vector<std::string> tls_names;
  for (const auto& l : impl_->config.listeners) {
    if (l.kind == ListenerConfig::Kind::kSyslogTls) tls_names.push_back(l.name);
  }
  if (impl_->http && impl_->http->tls()) tls_names.push_back("api");
  for (const auto& name : tls_names) {
    for (const char* result : {"ok", "error"}) {
      impl_->tls_reloads.Add({{"listener", name}, {"result", result}});
    }
  }
  impl_->WaitSighup();
  return Status::Ok();
}

void Daemon::RequestStop() {
  asio::post(impl_->io, [this] { impl_->Shutdown(); });
}

Status Daemon::Run() {
  unsigned n = std::max(2u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n; ++i) {
    threads.emplace_back([this] {
      pthread_setname_np(pthread_self(), "mamori-io");
      impl_->io.run();
    });
  }
  // The calling thread runs the loop too. When every listener and session is gone (after
  // Shutdown) the loop runs out of work and every thread returns.
  impl_->io.run();
  for (auto& t : threads) t.join();
  impl_->queue.Close();
  impl_->writer->Stop();
  if (impl_->rule_thread) impl_->rule_thread->Stop();  // the rules see every stored record
  if (impl_->notifier) impl_->notifier->Stop();        // pending notifications stay in the outbox
  if (impl_->evidence) impl_->evidence->Stop();        // a final checkpoint over everything stored
  Status st = impl_->store->Flush();
  log::Info("app", "stopped; next sequence " + std::to_string(impl_->store->next_seq()));
  impl_->writer.reset();
  return st;
}

}  // namespace mamori::app
