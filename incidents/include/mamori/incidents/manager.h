// IncidentManager: turns alerts into incidents, and applies people's changes to them (state
// moves, owner, notes). An alert joins the open incident with the same rule id and group key, or
// opens a new one (status new). A resolved or closed incident is not joined: the next alert opens
// a new incident, unless ManagerOptions::reopen_window_ns is set and the latest incident of that
// rule and key was *resolved* (not closed) less than that long ago: then the alert reopens it
// (status reopened, timeline entry by "mamori"). Every call writes its changes to the
// IncidentStore in one batch.
//
// The daemon calls OnAlerts from the storage writer's on_stored callback (the alerts refer to
// evidence that is already durable), so it is kept short: an in-memory index from (rule id,
// group key) to the open incident's id, one Get per joined incident, one batch write per call.
// Memory: the index holds one key per open incident; incidents themselves stay on disk.
//
// Metrics (registered in the constructor):
//   mamori_incidents_opened_total{severity}   incidents opened
//   mamori_incidents_open{severity}           open incidents now (by their current severity)
//   mamori_incidents_alerts_total             alerts received
//   mamori_incidents_write_errors_total       failed batch writes (their changes are lost)
//   mamori_incidents_unacknowledged_oldest_timestamp_seconds{severity}
//       opening (or reopening) time of the oldest incident still new or reopened; 0 when none
//   mamori_incidents_time_to_acknowledge_seconds{severity}   histogram: from opening (or
//       reopening) to the first move out of new/reopened (acknowledge, start, resolve or close)
//
// Thread-safety: thread-safe. OnAlerts (the storage writer thread), Change, Assign and AddNote
// (HTTP threads) may be called concurrently: one internal mutex serializes every
// read-modify-write of incidents and the in-memory index, so an alert joining incident N and a
// person acknowledging N cannot lose each other's update. Readers (IncidentStore::Get/List) need
// no lock. The actor of a change is a free string: today the API body's "actor" (default
// "local"); with authentication it will be the token's user. The store, clock and registry are
// not owned and must outlive the manager. Only one process may write a store (the daemon); tools
// change incidents through the daemon's HTTP API.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "mamori/core/clock.h"
#include "mamori/core/status.h"
#include "mamori/incidents/incident.h"
#include "mamori/incidents/incident_store.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace mamori::incidents {

struct ManagerOptions {
  // Evidence sequence numbers kept per incident. Default: 1000.
  std::size_t max_evidence = Incident::kDefaultMaxEvidence;
  // An alert whose rule and group key's latest incident was resolved less than this long ago
  // (wall clock) reopens that incident instead of opening a new one. A closed incident is never
  // reopened by an alert. Default: 0 (off: a new incident opens).
  std::int64_t reopen_window_ns = 0;
};

// Why a change was refused (the HTTP status in parentheses).
enum class ChangeError : std::uint8_t {
  kOk = 0,
  kInvalid,   // bad input (400)
  kNotFound,  // no such incident (404)
  kConflict,  // not allowed in the incident's current state (409)
  kStorage,   // the store failed (500)
};

struct ChangeResult {
  ChangeError error = ChangeError::kOk;
  std::string message;  // what was wrong, when error != kOk
  Incident incident;    // the incident after the change, when ok()
  bool ok() const { return error == ChangeError::kOk; }
  int http_status() const;
};

// Longest note (and owner, actor) accepted, in bytes.
inline constexpr std::size_t kMaxNoteBytes = 16 * 1024;
inline constexpr std::size_t kMaxNameBytes = 256;

// What one OnAlerts call did.
struct ApplyResult {
  std::vector<std::uint64_t> opened;  // ids of incidents opened
  std::vector<std::uint64_t> joined;  // ids of existing incidents that alerts joined
};

class IncidentManager {
 public:
  // Reads the open incidents of `store` to build the index. REQUIRES: store is writable.
  static Result<std::unique_ptr<IncidentManager>> Create(IncidentStore& store, const Clock& clock,
                                                         prometheus::Registry& registry,
                                                         ManagerOptions options = {});
  ~IncidentManager();
  IncidentManager(const IncidentManager&) = delete;
  IncidentManager& operator=(const IncidentManager&) = delete;

  // Applies the alerts in order (two alerts of one call for the same key make one incident).
  // On a write error nothing changes (neither the store nor the index) and the error is
  // returned; the caller logs it.
  Result<ApplyResult> OnAlerts(const std::vector<Alert>& alerts);

  // Moves incident `id` by `action` (see Transition in incident.h) and records a timeline entry
  // by `actor` with the optional `text`. kConflict when the move is not allowed from the current
  // state, or when reopening while another incident of the same rule and key is open.
  ChangeResult Change(std::uint64_t id, Action action, const std::string& actor,
                      const std::string& text = "");
  // Sets the owner ("" = unassign). Allowed in every state.
  ChangeResult Assign(std::uint64_t id, const std::string& owner, const std::string& actor);
  // Adds a note (non-empty). Allowed in every state.
  ChangeResult AddNote(std::uint64_t id, const std::string& text, const std::string& actor);

  // Open incidents in the index.
  std::size_t open_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return open_.size();
  }

 private:
  struct Unacked {
    Severity severity;
    std::int64_t since_ns;
  };
  // Applies the index and metric consequences of a written change (before == nullptr: opened).
  // REQUIRES: mu_ held.
  // loading: rebuilding the index at Create (nothing counted as opened; gauges set after).
  void Account(const Incident* before, const Incident& after, std::int64_t now, bool loading);
  void UpdateUnackedGauges();
  // Reads, modifies with `fn` (which returns an error or kOk) and writes one incident.
  ChangeResult Modify(std::uint64_t id, const std::function<ChangeResult(Incident*)>& fn);
  static ChangeResult Fail(ChangeError e, std::string message);
  static void AddEntry(Incident* inc, TimelineEntry e);
  IncidentManager(IncidentStore& store, const Clock& clock, prometheus::Registry& registry,
                  ManagerOptions options);
  static std::string Key(const std::string& rule_id, const std::string& group_key);
  void Join(const Alert& alert, std::int64_t now, Incident* inc) const;  // REQUIRES: mu_ held

  IncidentStore& store_;
  const Clock& clock_;
  const ManagerOptions options_;
  mutable std::mutex mu_;                                // guards every change and everything below
  std::unordered_map<std::string, std::uint64_t> open_;  // Key() -> id of the open incident
  // Key() -> (id, resolved_ns) of the latest resolved incident (only with a reopen window).
  std::unordered_map<std::string, std::pair<std::uint64_t, std::int64_t>> resolved_;
  std::map<std::uint64_t, Unacked> unacked_;  // incidents new or reopened
  std::array<prometheus::Gauge*, kNumSeverities> unacked_oldest_{};
  std::array<prometheus::Histogram*, kNumSeverities> time_to_ack_{};
  std::array<prometheus::Counter*, kNumSeverities> opened_total_{};
  std::array<prometheus::Gauge*, kNumSeverities> open_gauge_{};
  prometheus::Counter* alerts_total_ = nullptr;
  prometheus::Counter* write_errors_total_ = nullptr;
};

}  // namespace mamori::incidents
