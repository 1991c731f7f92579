// Engine: the streaming detection engine. It takes stored Records (with their sequence numbers),
// evaluates the rules of a RuleSet against each, keeps the correlation state (thresholds,
// distinct counts, sequences, suppression) and emits Alerts.
//
// Time: correlation windows run on event time (Event::event_time_ns), not on the wall clock. An
// event older than the newest event a rule has seen minus `allowed_lateness_ns` is not counted by
// that rule (EngineStats::late_events). Correlation state is kept per rule (isolated: one rule
// cannot evict another's groups), bounded by `max_groups_per_rule` with least-recently-used
// eviction (counted).
//
// Wall time: Tick(now) is the engine's clock. Absence rules (`absence: {group_by, after}`) fire
// from it: a group seen before (its last matching record, by receive time) that has sent no
// matching record for `after` raises one alert at the first Tick past that, and again only after
// it came back and went silent again. Tick also expires correlation and suppression state whose
// window has passed, taking event time to advance with the wall clock since a rule last saw an
// event, so that state stays bounded when no events come.
//
// Reload: Reload() swaps in a new RuleSet; rules whose normalized definition is unchanged
// (RuleInfo::definition_hash) keep their correlation state, suppression state and counters.
//
// Thread-safety: NOT thread-safe. One thread calls Process(), Tick() and Reload() (the daemon
// calls Process from the storage writer's on_stored callback); Stats() may only be called from
// that thread too, or under the caller's own lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "mamori/core/record.h"
#include "mamori/rules/rule.h"
#include "mamori/rules/rule_set.h"

namespace mamori::rules {

struct EngineOptions {
  // How late (in event time) an event may arrive behind the newest one a rule has seen and still
  // count for correlation. Default: 60 s.
  std::int64_t allowed_lateness_ns = 60'000'000'000;
  // Correlation (or suppression) groups kept per rule; the least recently used is evicted beyond
  // it. Default: 10,000.
  std::size_t max_groups_per_rule = 10'000;
  // Evidence sequence numbers kept per correlation group and put in an alert (the most recent).
  // Default: 100.
  std::size_t max_evidence = 100;
  // Measure per-rule evaluation time on one event in this many (timing every rule on every event
  // costs more than most rules); evaluation_ns is scaled up accordingly. 0 disables timing.
  // Default: 16.
  std::uint32_t timing_sample_every = 16;
};

struct RuleStats {
  std::uint64_t matches = 0;        // events that matched the rule's conditions
  std::uint64_t alerts = 0;         // alerts emitted
  std::uint64_t suppressed = 0;     // alerts withheld by `suppress`
  std::uint64_t evaluation_ns = 0;  // estimated time spent evaluating the rule
  std::uint64_t state_groups = 0;   // correlation + suppression groups held now
  std::uint64_t evictions = 0;      // groups evicted by max_groups_per_rule
  std::uint64_t late_events = 0;    // events too late for the rule's correlation window
};

struct EngineStats {
  std::uint64_t events = 0;      // Process() calls
  std::uint64_t regex_runs = 0;  // RE2 runs of the field matchers (atoms seen, or none usable)
  std::uint64_t ticks = 0;       // Tick() calls
};

class Engine {
 public:
  // REQUIRES: rules != nullptr.
  explicit Engine(std::shared_ptr<const RuleSet> rules, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Evaluates every applicable rule against the record and appends the alerts it causes to
  // *alerts (which is not cleared). REQUIRES: alerts != nullptr.
  void Process(const Record& record, std::vector<Alert>* alerts);

  // Advances the engine's wall clock to now_ns (ns since the Unix epoch, UTC; the same clock as
  // RawRecord::received_ns): appends the alerts of absence rules whose groups went silent to
  // *alerts (not cleared), and expires correlation state past its window. Call it every few
  // seconds; alerts come at most one tick late. REQUIRES: alerts != nullptr.
  void Tick(std::int64_t now_ns, std::vector<Alert>* alerts);

  // Replaces the rule set, keeping the state of rules whose definition_hash is unchanged.
  // REQUIRES: rules != nullptr.
  void Reload(std::shared_ptr<const RuleSet> rules);

  const RuleSet& rules() const { return *rules_; }
  const std::shared_ptr<const RuleSet>& rules_ptr() const { return rules_; }
  // Per rule, indexed like RuleSet::info().
  std::vector<RuleStats> Stats() const;
  const EngineStats& engine_stats() const { return engine_stats_; }

 private:
  struct State;
  std::shared_ptr<const RuleSet> rules_;
  EngineOptions options_;
  EngineStats engine_stats_;
  std::unique_ptr<State> state_;
};

}  // namespace mamori::rules
