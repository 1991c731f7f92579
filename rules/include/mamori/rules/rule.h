// The values the rules module hands out: severities, diagnostics of a load, rule descriptions,
// embedded samples, and the Alert the engine emits.
//
// Thread-safety: plain values; safe to copy and move between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/core/record.h"

namespace mamori::rules {

enum class Severity : std::uint8_t { kInfo = 0, kLow = 1, kMedium = 2, kHigh = 3, kCritical = 4 };
std::string_view SeverityName(Severity s);  // "info", "low", "medium", "high", "critical"
// Parses a severity name (also Sigma's "informational"); false when unknown.
bool ParseSeverity(std::string_view name, Severity* out);

// One problem found while loading rules. `line` and `column` are 1-based; 0 when unknown.
struct Diagnostic {
  enum class Level : std::uint8_t {
    kError,        // the rule (or the whole document, when rule_id is empty) was not loaded
    kWarning,      // the rule loaded; something in it deserves attention
    kUnsupported,  // the rule uses a feature mamori does not implement; it was not loaded
  };
  Level level = Level::kError;
  std::string file;
  int line = 0;
  int column = 0;
  std::string rule_id;
  std::string message;  // for kUnsupported: "unsupported: <reason>"

  // "rules/ssh.yml:12:5: error: rule ssh-brute: unknown severity 'hihg'"
  std::string ToString() const;
};

// A sample event embedded in a rule file (`tests: {match: [...], no_match: [...]}`). The line is
// a raw log line or a JSON object, exactly as written; `mamori rules test` parses it with the
// parsers module and expects the rule to fire (or not).
struct RuleSample {
  std::string rule_id;
  bool should_match = true;
  std::string line;
  std::string file;
  int line_no = 0;  // where the sample is written
};

// What a loaded rule is, as the tools and the API show it.
struct RuleInfo {
  std::string id;
  std::string title;
  std::string description;
  Severity severity = Severity::kMedium;
  std::vector<std::string> tags;
  std::string kind;    // "match", "threshold", "distinct", "sequence", "temporal", "absence"
  std::string origin;  // "mamori" or "sigma"
  std::string file;    // where it was defined
  int line = 0;
  bool alerting = true;               // false: only feeds a correlation (Sigma `generate: false`)
  std::uint64_t definition_hash = 0;  // of the normalized definition; equal => same behaviour
};

// What the engine emits when a rule fires.
struct Alert {
  std::string rule_id;
  std::string title;
  Severity severity = Severity::kMedium;
  std::vector<std::string> tags;
  // The values of the rule's group-by fields joined as "field=value, field=value"; empty when the
  // rule has no group-by. Together with rule_id it identifies the incident an alert joins.
  std::string group_key;
  std::int64_t event_time_ns = 0;  // time of the event that made the rule fire
  // Sequence numbers of the records that caused the alert, oldest first. For a correlation the
  // contributing records (bounded by EngineOptions::max_evidence, the most recent kept).
  std::vector<std::uint64_t> evidence_seqs;
  // Named captures of the rule's regular expressions and the group-by values.
  std::vector<Field> fields;
  std::string summary;  // one human line, from the rule's `summary` template or generated
};

}  // namespace mamori::rules
