// Prometheus adapter for the engine's per-rule counters:
//   mamori_rules_matches_total{rule}, mamori_rules_alerts_total{rule},
//   mamori_rules_evaluation_seconds_total{rule}, mamori_rules_state_groups{rule},
//   mamori_rules_state_evictions_total{rule}, mamori_rules_events_total.
// The families are built once in the constructor; Update() copies the engine's counters into
// them (counters advance by the delta since the previous Update; a rule removed by a reload
// keeps its last values).
//
// Thread-safety: Update() must run on the engine's thread (it reads Engine::Stats()); the
// registry itself may be scraped concurrently.
#pragma once

#include <map>
#include <string>

#include "mamori/rules/engine.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
class Gauge;
}  // namespace prometheus

namespace mamori::rules {

class EngineMetrics {
 public:
  // The registry must outlive this object.
  explicit EngineMetrics(prometheus::Registry& registry);
  void Update(const Engine& engine);

 private:
  struct PerRule {
    prometheus::Counter* matches;
    prometheus::Counter* alerts;
    prometheus::Counter* seconds;
    prometheus::Gauge* groups;
    prometheus::Counter* evictions;
    RuleStats last;
  };
  prometheus::Family<prometheus::Counter>& matches_;
  prometheus::Family<prometheus::Counter>& alerts_;
  prometheus::Family<prometheus::Counter>& seconds_;
  prometheus::Family<prometheus::Gauge>& groups_;
  prometheus::Family<prometheus::Counter>& evictions_;
  prometheus::Counter& events_;
  std::uint64_t last_events_ = 0;
  std::map<std::string, PerRule> rules_;
};

}  // namespace mamori::rules
