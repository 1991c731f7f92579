// IncidentManager: turns alerts into incidents. An alert joins the open incident with the same
// rule id and group key, or opens a new one (status new). Every call writes its changes to the
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
//
// Thread-safety: NOT thread-safe: one thread (or the caller's lock) calls OnAlerts. The store,
// clock and registry are not owned and must outlive the manager.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
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
}  // namespace prometheus

namespace mamori::incidents {

struct ManagerOptions {
  // Evidence sequence numbers kept per incident. Default: 1000.
  std::size_t max_evidence = Incident::kDefaultMaxEvidence;
};

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

  // Open incidents in the index.
  std::size_t open_count() const { return open_.size(); }

 private:
  IncidentManager(IncidentStore& store, const Clock& clock, prometheus::Registry& registry,
                  ManagerOptions options);
  static std::string Key(const std::string& rule_id, const std::string& group_key);
  void Join(const Alert& alert, std::int64_t now, Incident* inc) const;

  IncidentStore& store_;
  const Clock& clock_;
  const ManagerOptions options_;
  std::unordered_map<std::string, std::uint64_t> open_;  // Key() -> id of the open incident
  std::array<prometheus::Counter*, kNumSeverities> opened_total_{};
  std::array<prometheus::Gauge*, kNumSeverities> open_gauge_{};
  prometheus::Counter* alerts_total_ = nullptr;
  prometheus::Counter* write_errors_total_ = nullptr;
};

}  // namespace mamori::incidents
