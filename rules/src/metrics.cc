#include "mamori/rules/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace mamori::rules {

EngineMetrics::EngineMetrics(prometheus::Registry& registry)
    : matches_(prometheus::BuildCounter()
                   .Name("mamori_rules_matches_total")
                   .Help("Events that matched the rule's conditions")
                   .Register(registry)),
      alerts_(prometheus::BuildCounter()
                  .Name("mamori_rules_alerts_total")
                  .Help("Alerts emitted by the rule")
                  .Register(registry)),
      seconds_(prometheus::BuildCounter()
                   .Name("mamori_rules_evaluation_seconds_total")
                   .Help("Estimated time spent evaluating the rule (sampled)")
                   .Register(registry)),
      groups_(prometheus::BuildGauge()
                  .Name("mamori_rules_state_groups")
                  .Help("Correlation and suppression groups held by the rule")
                  .Register(registry)),
      evictions_(prometheus::BuildCounter()
                     .Name("mamori_rules_state_evictions_total")
                     .Help("Groups evicted by the per-rule bound")
                     .Register(registry)),
      events_(prometheus::BuildCounter()
                  .Name("mamori_rules_events_total")
                  .Help("Events processed by the rule engine")
                  .Register(registry)
                  .Add({})) {}

void EngineMetrics::Update(const Engine& engine) {
  auto delta = [](std::uint64_t now, std::uint64_t before) {
    return now >= before ? static_cast<double>(now - before) : static_cast<double>(now);
  };
  std::vector<RuleStats> stats = engine.Stats();
  for (size_t i = 0; i < stats.size(); ++i) {
    const std::string& id = engine.rules().info(i).id;
    auto it = rules_.find(id);
    if (it == rules_.end()) {
      PerRule p{&matches_.Add({{"rule", id}}),   &alerts_.Add({{"rule", id}}),
                &seconds_.Add({{"rule", id}}),   &groups_.Add({{"rule", id}}),
                &evictions_.Add({{"rule", id}}), RuleStats{}};
      it = rules_.emplace(id, p).first;
    }
    PerRule& p = it->second;
    const RuleStats& s = stats[i];
    p.matches->Increment(delta(s.matches, p.last.matches));
    p.alerts->Increment(delta(s.alerts, p.last.alerts));
    p.seconds->Increment(delta(s.evaluation_ns, p.last.evaluation_ns) / 1e9);
    p.evictions->Increment(delta(s.evictions, p.last.evictions));
    p.groups->Set(static_cast<double>(s.state_groups));
    p.last = s;
  }
  const std::uint64_t ev = engine.engine_stats().events;
  events_.Increment(delta(ev, last_events_));
  last_events_ = ev;
}

}  // namespace mamori::rules
