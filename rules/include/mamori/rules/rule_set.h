// RuleSet: a compiled, immutable set of rules, produced by the loader (loader.h).
//
// Compilation (see rules/README.md, "Evaluation and its cost"): every string condition of every
// rule on the same event field goes into one matcher (a literal scanner that folds ASCII case,
// a FilteredRE2 for the other regexes, hash indexes for exact values), so an event's field is
// scanned once whatever the number of rules; rules are grouped by their log
// source constraints and indexed on one constraint field, so an event only meets the rules whose
// log source it can satisfy.
//
// Thread-safety: immutable after construction; any number of Engines on any threads may share one
// through std::shared_ptr<const RuleSet>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "mamori/rules/rule.h"

namespace mamori::rules {

namespace internal {
struct Compiled;
}

struct CompileOptions {
  // Memory budget of each RE2 regex, in bytes (RE2's max_mem: the compiled program and its DFA
  // cache share it). Default: 64 MiB.
  std::int64_t max_mem = 64ll << 20;
  // Hit-driven evaluation (README "Evaluation and its cost"): a rule is evaluated only when one
  // of its trigger conditions hit in the per-field scan, and non-trigger conditions with very
  // short literals are checked only then. false: every rule of an admitting log source group is
  // evaluated on every event, each condition through its field matcher (the reference
  // behaviour the prefilter must reproduce exactly; for tests, much slower). Default: true.
  bool prefilter = true;
};

class RuleSet {
 public:
  // An empty set.
  RuleSet();
  explicit RuleSet(std::unique_ptr<internal::Compiled> compiled);
  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  std::size_t size() const;                   // number of rules
  const RuleInfo& info(std::size_t i) const;  // REQUIRES: i < size()
  // Index of the rule with that id, or -1.
  int Find(std::string_view id) const;
  // Samples embedded in the rule files, in file order.
  const std::vector<RuleSample>& samples() const;
  // String patterns (literal or regex) in the field matchers, and the number of matchers.
  std::size_t pattern_count() const;
  std::size_t field_matcher_count() const;

  const internal::Compiled& compiled() const { return *compiled_; }

 private:
  std::unique_ptr<internal::Compiled> compiled_;
};

}  // namespace mamori::rules
