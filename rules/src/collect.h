// Internal: the collect stage. Each loader turns YAML documents into rule definitions; a rule is
// committed only when it is complete, so one bad rule never leaves half of itself behind.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "ir.h"
#include "load_util.h"
#include "mamori/rules/loader.h"

namespace mamori::rules::internal {

// A rule being built: its own detectors, indexed locally by RuleDef::inputs.
struct PendingRule {
  RuleDef def;
  std::vector<DetectorDef> detectors;
  std::vector<RuleSample> samples;
};

// A Sigma correlation waiting for every base rule to be collected.
struct PendingCorrelation {
  YAML::Node doc;
  std::string file;
  int line_offset = 0;
};

struct Collected {
  RuleSetDef def;
  std::map<std::string, std::pair<std::string, int>> where;  // id -> (file, line)
  // Sigma base rules by id and by name: detector index and product.
  std::map<std::string, std::pair<int, std::string>> sigma_refs;
  std::map<std::string, int> sigma_rule_index;  // id or name -> index in def.rules
  std::vector<PendingCorrelation> correlations;

  // Appends the rule (or reports a duplicate id). Returns the index of its first detector.
  bool Commit(PendingRule rule, Diags& diags, const YAML::Node& at);
};

// Documents of mamori's own format.
void CollectNative(const YAML::Node& doc, Diags& diags, const LoadOptions& options, Collected* out);
// A Sigma detection rule; correlation rules are queued in out->correlations.
void CollectSigma(const YAML::Node& doc, Diags& diags, const LoadOptions& options, Collected* out);
void ResolveSigmaCorrelation(const PendingCorrelation& c, std::vector<Diagnostic>* diags,
                             const LoadOptions& options, Collected* out);

}  // namespace mamori::rules::internal
