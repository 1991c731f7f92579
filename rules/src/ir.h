// Internal: the rule model between the loaders (native YAML, Sigma) and the compiler. Both
// loaders produce a RuleSetDef; the compiler turns it into internal::Compiled.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cidr.h"
#include "mamori/rules/rule.h"
#include "mamori/rules/sigma_mapping.h"

namespace mamori::rules::internal {

// Separates the candidate keys of one field name in the IR ("a\x1fb": `a`, or else `b`). The
// Sigma mapping produces them (SigmaMapping::MapFieldCandidates).
inline constexpr char kAltSep = '\x1f';

// A leaf condition on one field.
struct LeafDef {
  enum class Kind : std::uint8_t {
    kString,    // any of `patterns`
    kCidr,      // the field is an IP address inside any of `cidrs`
    kNumeric,   // the field, read as a number, compares with `number`
    kExists,    // the field is present (exists == true) or absent
    kFieldRef,  // the field equals the value of `ref_field`
    kEmpty,     // the field is absent or empty (Sigma `null`)
    kTime,      // the field's time (event_time, or an RFC 3339 value) is within a local window
  };
  enum class NumOp : std::uint8_t { kGt, kGte, kLt, kLte, kEq };
  struct Pattern {
    bool is_regex = false;  // false: an exact value (hash lookup); true: an RE2 pattern
    std::string text;
  };

  Kind kind = Kind::kString;
  std::string field;
  std::vector<Pattern> patterns;
  bool case_insensitive = false;  // for exact values; regex patterns carry their own (?i)
  bool capture = false;           // extract named groups of the regex patterns on a match
  std::vector<Cidr> cidrs;
  NumOp num_op = NumOp::kEq;
  double number = 0;
  bool exists = true;
  std::string ref_field;
  // kTime: local time = UTC + tz_minutes; true when the local weekday is in `days` (bit 0 =
  // Sunday) and the minute of the day in [from_min, to_min) (wrapping past midnight when
  // from_min > to_min); `outside` negates that. An unknown time never matches.
  int tz_minutes = 0;
  int from_min = 0;
  int to_min = 24 * 60;
  std::uint8_t days = 0x7f;
  bool outside = false;
};

struct ExprDef {
  enum class Kind : std::uint8_t { kLeaf, kAnd, kOr, kNot, kTrue, kFalse };
  Kind kind = Kind::kTrue;
  int leaf = -1;  // index into DetectorDef::leaves
  std::vector<ExprDef> kids;

  static ExprDef Leaf(int i) {
    ExprDef e;
    e.kind = Kind::kLeaf;
    e.leaf = i;
    return e;
  }
  static ExprDef Of(Kind k, std::vector<ExprDef> kids = {}) {
    ExprDef e;
    e.kind = k;
    e.kids = std::move(kids);
    return e;
  }
};

// A boolean test of one event: a log source and a condition.
struct DetectorDef {
  std::vector<LogSourceConstraint> logsource;
  std::vector<LeafDef> leaves;
  ExprDef cond;
};

// kAbsence: a group seen before that sends no matching event for window_ns (wall time, checked
// by Engine::Tick) raises one alert.
// kSum, kAvg: the sum / the average of a numeric field over the group's events in the window;
// kPercentile: the share (percent) of the group's events in the window whose field has this
// event's value (Sigma value_sum, value_avg, value_percentile). Each compares with `metric_op`.
enum class CorrType : std::uint8_t {
  kNone,
  kCount,
  kDistinct,
  kTemporal,
  kOrdered,
  kAbsence,
  kSum,
  kAvg,
  kPercentile,
};
enum class CmpOp : std::uint8_t { kGt, kGte, kLt, kLte };

// The events a correlation group keeps of its window (Engine): a count or distinct-count
// threshold above it could never be reached, and is refused at load.
constexpr std::uint64_t kMaxGroupEvents = 4096;

struct RuleDef {
  RuleInfo info;
  std::string summary;  // template, "{field}" replaced by values; may be empty
  // Inputs: detectors whose matches feed the rule (one for a plain rule).
  std::vector<int> inputs;
  CorrType corr = CorrType::kNone;
  // Group-by field keys, per input (Sigma maps names per input's product). Display names too.
  std::vector<std::string> group_by_names;
  std::vector<std::vector<std::string>> group_by_keys;  // [input][k]
  std::vector<std::string> distinct_keys;               // [input]
  std::int64_t window_ns = 0;
  std::uint64_t threshold = 1;
  // kSum, kAvg, kPercentile: fires when the metric `metric_op` `metric_value` (distinct_keys
  // holds the field).
  CmpOp metric_op = CmpOp::kGte;
  double metric_value = 0;
  std::string metric_field;  // the field as the rule names it (alert text)
  // kOrdered: occurrences each step needs (per input; missing entries are 1).
  std::vector<std::uint64_t> step_counts;
  std::int64_t suppress_ns = 0;
};

struct RuleSetDef {
  std::vector<DetectorDef> detectors;
  std::vector<RuleDef> rules;
  std::vector<RuleSample> samples;
};

}  // namespace mamori::rules::internal
