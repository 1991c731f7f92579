// Detection: the daemon's detection path. It owns the rule engine and the incident manager, runs
// every stored batch through the engine once the storage writer stored it (on the rule thread,
// rule_thread.h; so alerts cite durable evidence sequence numbers), turns alerts into incidents,
// reloads the rules on SIGHUP (the daemon owns the SIGHUP handler and calls Reload()) and on
// POST /api/v1/rules/reload (rules whose definition is unchanged keep their correlation state),
// and serves the incident API: GET /api/v1/incidents, GET /api/v1/incident?id=N and POST
// /api/v1/incident/{acknowledge,start,resolve,close,reopen,assign,note}?id=N.
//
// Also here: the conversions the rule tools share (alert and load report as JSON).
//
// Threads: OnStored runs on the rule thread (one thread, batches in stored order); Reload, Tick and
// the HTTP handlers on I/O threads. The engine (and alert delivery) is guarded by one mutex
// (uncontended except during a reload or a tick); listing incidents reads RocksDB without it.
// Incident changes from the API call the manager directly: it is thread-safe and serializes them
// with the rule thread's alert updates (see incidents/manager.h).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>  // before Asio: Boost 1.74 + GCC 12 + C++20
#include <vector>

#include "mamori/api/http_server.h"
#include "mamori/core/clock.h"
#include "mamori/core/config.h"
#include "mamori/core/record.h"
#include "mamori/incidents/incident_store.h"
#include "mamori/incidents/manager.h"
#include "mamori/notify/notifier.h"
#include "mamori/rules/engine.h"
#include "mamori/rules/loader.h"
#include "mamori/rules/metrics.h"

namespace mamori::app {

// One alert as a JSON object: rule_id, title, severity, tags, group_key, event_time (RFC 3339),
// evidence_seqs, fields (object), summary.
nlohmann::json AlertToJson(const rules::Alert& alert);
// A load: {"files", "rules", "errors", "warnings", "unsupported", "diagnostics": [{"level",
// "file", "line", "column", "rule_id", "message"}]}.
nlohmann::json LoadReportJson(const rules::LoadResult& result);
// Logs each diagnostic (file:line:col, rule id, message) and a one-line summary.
void LogLoadResult(const rules::LoadResult& result);
// The engine's alert as the incidents module takes it.
incidents::Alert ToIncidentAlert(rules::Alert&& alert);
// Engine options from the configuration.
rules::EngineOptions EngineOptionsFrom(const RulesConfig& config);

// Whether the engine has Tick(now_ns, alerts*) (absence rules: a source that stops sending).
template <typename E>
constexpr bool kEngineHasTick = requires(E& e, std::int64_t t, std::vector<rules::Alert>* a) {
  e.Tick(t, a);
};

// Calls engine.Tick(now_ns, alerts) when the engine has it; false otherwise.
template <typename E>
bool TickEngine(E& engine, std::int64_t now_ns, std::vector<rules::Alert>* alerts) {
  if constexpr (kEngineHasTick<E>) {
    engine.Tick(now_ns, alerts);
    return true;
  } else {
    return false;
  }
}

class Detection {
 public:
  // Loads the rules of config.rules.paths (problems are logged; bad rules are left out), opens
  // <data_dir>/incidents and rebuilds the open-incident index. The registry and clock must
  // outlive the object. `notifier` (optional, not owned, outlives the object) is told about
  // every incident opened, joined or reopened by an alert; it only writes its outbox (no
  // network I/O on the rule thread).
  static Result<std::unique_ptr<Detection>> Create(const Config& config,
                                                   prometheus::Registry& registry,
                                                   const Clock& clock,
                                                   notify::Notifier* notifier = nullptr);
  ~Detection();
  Detection(const Detection&) = delete;
  Detection& operator=(const Detection&) = delete;

  // Rule thread: runs the stored records through the engine and records the incidents.
  void OnStored(std::vector<Record>& batch);

  // Any thread: reads the rule files again and swaps the rule set in. Returns the load report
  // (LoadReportJson) plus "kept_state": rules that kept their correlation state.
  nlohmann::json Reload();

  // Any thread: lets absence rules fire (when the engine supports Engine::Tick), and brings the
  // rule metrics up to date (they follow the batches at most once a second).
  void Tick(std::int64_t now_ns);

  // Ticks every `tick` on `io` (SIGHUP is the daemon's: it calls Reload()). Stop() cancels it.
  // REQUIRES: called once; `io` outlives this object's use of it until Stop().
  void Start(boost::asio::io_context& io, std::chrono::milliseconds tick);
  void Stop();

  // HTTP handlers: GET /api/v1/incidents, POST /api/v1/rules/reload.
  api::Response ListIncidents(const api::Request& req) const;
  // GET /api/v1/incident?id=N: one incident (404 when unknown).
  api::Response GetIncident(const api::Request& req) const;
  // POST /api/v1/incident/{action}?id=N, action one of kIncidentActions, by `actor` (the
  // caller's token name: the timeline records it). Body: a JSON object (may be empty) with
  // "text" (note; optional comment on a state change) and "owner" (assign). 400 on bad input
  // naming the field ("actor" is refused: it comes from the token), 404 unknown incident, 409 a
  // move the incident's state does not allow. Returns the incident after the change.
  api::Response IncidentAction(const std::string& action, const api::Request& req,
                               const std::string& actor);
  static constexpr const char* kIncidentActions[] = {"acknowledge", "start",  "resolve", "close",
                                                     "reopen",      "assign", "note"};
  api::Response ReloadRules(const api::Request& req);

 private:
  Detection(const Config& config, prometheus::Registry& registry, const Clock& clock);
  // REQUIRES: mu_ held.
  void Deliver(std::vector<rules::Alert>* alerts);
  void MaybeUpdateMetrics(bool force);
  // Hands an incident that alerts opened (or joined, or reopened) to the notifier.
  void Notify(const incidents::Incident& incident, bool opened);
  void ArmTimer();

  const std::vector<std::string> paths_;
  const Clock& clock_;
  prometheus::Registry& registry_;
  std::unique_ptr<incidents::IncidentStore> store_;
  notify::Notifier* notifier_ = nullptr;

  std::mutex mu_;  // guards everything below
  std::unique_ptr<rules::Engine> engine_;
  std::unique_ptr<rules::EngineMetrics> metrics_;
  std::unique_ptr<incidents::IncidentManager> manager_;
  std::vector<rules::Alert> alerts_;  // reused per batch
  std::chrono::steady_clock::time_point last_metrics_{};

  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::chrono::milliseconds tick_{0};
  std::atomic<bool> stopped_{false};
};

}  // namespace mamori::app
