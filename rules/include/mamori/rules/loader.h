// Loading rules: YAML rule files (mamori's own format, see rules/README.md) and Sigma rules, in
// stages like Falco's: read every document (YAML syntax errors are reported with their place),
// collect the rules (schema errors per rule), resolve correlations, compile the survivors into
// one RuleSet. A bad rule never stops the others: it is left out and reported.
//
// Thread-safety: the functions are reentrant; they share no state.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mamori/rules/rule.h"
#include "mamori/rules/rule_set.h"
#include "mamori/rules/sigma_mapping.h"

namespace mamori::rules {

struct LoadOptions {
  // How Sigma log sources and field names map to mamori event fields.
  // Default: SigmaMapping::Default() (Windows event JSON as Event.System.* / Event.EventData.*).
  SigmaMapping sigma_mapping = SigmaMapping::Default();
  // Accept Sigma rules at all. Default: true.
  bool enable_sigma = true;
  CompileOptions compile;
};

// A rule file's text and the name used in diagnostics.
struct RuleSource {
  std::string name;  // usually the path
  std::string text;
};

struct LoadResult {
  // Every rule that loaded. Never null (an empty set when nothing loaded).
  std::shared_ptr<const RuleSet> rules;
  std::vector<Diagnostic> diagnostics;
  int files = 0;  // files (sources) read

  int errors() const;
  int warnings() const;
  int unsupported() const;
  bool ok() const { return errors() == 0; }
  // Every diagnostic, one per line (Diagnostic::ToString()).
  std::string Format() const;
};

// Loads rules from texts. Each source may hold several YAML documents.
LoadResult LoadRuleStrings(const std::vector<RuleSource>& sources, const LoadOptions& options = {});

// Loads rules from files and directories (recursively, files ending .yml or .yaml, in sorted
// order). A path that cannot be read is an error diagnostic naming it.
LoadResult LoadRuleFiles(const std::vector<std::string>& paths, const LoadOptions& options = {});

}  // namespace mamori::rules
