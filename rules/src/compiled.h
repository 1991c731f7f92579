// Internal: the compiled form of a rule set, shared read-only by engines.
#pragma once

#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir.h"
#include "key_index.h"
#include "literal_scanner.h"
#include "mamori/core/record.h"
#include "mamori/rules/rule.h"
#include "mamori/rules/rule_set.h"

namespace mamori::rules::internal {

// Event members reachable as pseudo-fields (see README "Fields").
enum class Pseudo : std::uint8_t {
  kNone,  // an entry of Event::fields
  kHost,
  kApp,
  kProcid,
  kMsgid,
  kMessage,
  kFormat,
  kFacility,
  kSeverity,
  kClass,
  kRaw,
  kListener,
  kPeer,
  kKeywords,   // message, or the raw bytes when the message is empty (Sigma keywords)
  kEventTime,  // Event::event_time_ns as RFC 3339 (UTC); absent when 0
};

struct FieldRef {
  Pseudo pseudo = Pseudo::kNone;
  // Candidate event field keys, first present wins (one for most fields). A key segment "*"
  // matches any one segment ("Event.UserData.*.Operation").
  std::vector<std::string> keys;
  // Per key, its slot in the per-event field index (Compiled::key_slots); empty when the ref
  // was made outside the compiler (then Resolve searches the event).
  std::vector<int> slots;
  // The key (a single candidate) or the pseudo-field.
  static FieldRef Of(std::string_view name);
  const std::string& key() const;  // the first candidate, or "" for a pseudo-field
};

// Resolves a field of a record. Values of numeric members are written into *scratch.
bool Resolve(const FieldRef& f, const Record& r, std::string* scratch, std::string_view* out);
// Whether an event field key matches a candidate key (with "*" segments).
bool KeyMatches(std::string_view pattern, std::string_view key);
void AsciiLower(std::string_view in, std::string* out);

// Hash and equality that let an unordered_map<std::string, ...> be searched by string_view.
struct ViewHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using ViewMap = std::unordered_map<std::string, V, ViewHash, std::equal_to<>>;

// A pattern that is a plain literal (contains / startswith / endswith / equals, optionally
// case-insensitive): found by the matcher's LiteralScanner and verified here, without RE2.
struct LiteralPattern {
  std::string text;           // as written; ASCII only when case_insensitive
  int pattern = -1;           // index into FieldMatcher::pattern_leaves
  std::uint32_t key_len = 0;  // the scanner key is text's first key_len bytes
  bool case_insensitive = false;
  bool anchor_start = false;
  bool anchor_end = false;
};

// Every string pattern on one field, from every rule. Literal patterns are found with one pass
// of `scanner` over the value; the other regexes ("complex") sit in `filtered`, whose literal
// atoms are keys of the same scanner: a complex regex runs only when its atoms were seen (or
// when it has none: `unfiltered`).
struct FieldMatcher {
  FieldRef field;
  int pattern_base = 0;                          // first index in the set-wide pattern numbering
  std::vector<std::vector<int>> pattern_leaves;  // pattern -> leaves it satisfies
  std::vector<LiteralPattern> literals;          // scanner key k < literals.size() -> literals[k]
  std::vector<LiteralPattern> empty_literals;    // literals of length 0 (not scanner keys)
  LiteralScanner scanner;                        // keys: literals, then the atoms of `filtered`
  std::unique_ptr<re2::FilteredRE2> filtered;    // complex patterns; null when none
  std::vector<int> filtered_pattern;             // FilteredRE2 regexp id -> pattern
  // Regexp ids that always run: no atom guards them, or one of their atoms is not ASCII (the
  // scanner folds ASCII case only).
  std::vector<int> unfiltered;
  KeyIndex<false> exact;                       // exact values (case-sensitive)
  std::vector<std::vector<int>> exact_leaves;  // exact id -> leaves
  KeyIndex<true> exact_ci;                     // exact values, ASCII case-insensitive
  std::vector<std::vector<int>> exact_ci_leaves;
  std::vector<int> groups;  // source groups whose detectors use the matcher
};

// A string leaf that is not a trigger of its (hit-driven) detector is "lazy": its patterns are
// not in the field's matcher (so they cost nothing on events that do not reach the detector) and
// it is evaluated directly on the field value when the detector is, at most once per event.
struct LazyPatterns {
  std::vector<std::string> exact;  // equal (ASCII case-folded when exact_ci)
  bool exact_ci = false;
  std::vector<LiteralPattern> literals;
  std::vector<std::unique_ptr<RE2>> regexes;  // null entries never match (did not compile)
};

struct Leaf {
  LeafDef::Kind kind = LeafDef::Kind::kString;
  int matcher = -1;                    // kString, unless lazy
  std::unique_ptr<LazyPatterns> lazy;  // kString leaves that are not triggers
  FieldRef field;
  std::vector<Cidr> cidrs;
  LeafDef::NumOp num_op = LeafDef::NumOp::kEq;
  double number = 0;
  bool exists = true;
  FieldRef ref;
  int tz_minutes = 0, from_min = 0, to_min = 0;  // kTime (LeafDef)
  std::uint8_t days = 0x7f;
  bool outside = false;
  std::vector<std::unique_ptr<RE2>> captures;  // regexes with named groups (capture leaves)
};

struct Node {
  ExprDef::Kind kind = ExprDef::Kind::kTrue;
  int leaf = -1;
  int first_kid = 0;  // into Compiled::kids
  int n_kids = 0;
};

struct Detector {
  int root = -1;
  std::vector<std::pair<int, int>> consumers;  // (rule, input index), higher inputs first
  std::vector<int> capture_leaves;
};

struct Constraint {
  FieldRef field;
  std::vector<std::string> values;  // lowercased; empty = exists
};

struct SourceGroup {
  std::vector<Constraint> constraints;
  int primary = -1;  // the constraint checked through a PrimaryIndex, skipped afterwards
  std::vector<int> detectors;
  // Detectors evaluated on every event of the group: those without trigger leaves.
  std::vector<int> always;
  // The matchers its detectors' trigger leaves use (scanned when the group admits an event).
  std::vector<int> matchers;
};

struct PrimaryIndex {
  FieldRef field;
  KeyIndex<true> values;                 // constraint values (ASCII case-insensitive)
  std::vector<std::vector<int>> groups;  // value id -> groups
};

struct CompiledRule {
  RuleDef def;
  std::vector<std::vector<FieldRef>> group_by;  // [input][k]
  std::vector<FieldRef> distinct;               // [input]
};

struct Compiled {
  std::vector<FieldMatcher> matchers;
  std::vector<Leaf> leaves;
  std::vector<Node> nodes;
  std::vector<int> kids;
  std::vector<Detector> detectors;
  std::vector<int> detector_group;
  // Hit-driven evaluation: a detector with trigger leaves can only match when one of them hit,
  // so it is evaluated only then. leaf -> detectors it triggers.
  std::vector<std::vector<int>> leaf_triggers;
  // The per-event field index: every event field key some rule reads has a slot. Keys with a
  // "*" segment have one too; star_prefixes are the parts before their "*" (an event key with
  // such a prefix is also looked up with that segment replaced by "*").
  KeyIndex<false> key_slots;
  struct StarPrefix {
    std::string text;
    // Its last 8 bytes (prefixes of 8+ bytes), compared with the same bytes of an event key
    // before the whole prefix: most keys differ there ("Event.EventData." from "Event.UserData.")
    // and an event's every key is tested against every prefix.
    std::uint64_t tail8 = 0;
  };
  std::vector<StarPrefix> star_prefixes;
  // Matchers scanned eagerly, when one of their source groups admitted the event: by slot (the
  // matchers with a candidate key in that slot), and the pseudo-field ones.
  std::vector<std::vector<int>> slot_matchers;
  std::vector<int> pseudo_matchers;
  std::vector<SourceGroup> groups;
  std::vector<PrimaryIndex> primaries;
  std::vector<int> unindexed_groups;
  std::vector<CompiledRule> rules;
  std::vector<RuleInfo> infos;
  std::vector<RuleSample> samples;
  std::unordered_map<std::string, int> by_id;
  std::size_t patterns = 0;
};

// Compiles the definitions. Problems that concern the whole set (a Set that cannot compile within
// max_mem) are appended to *diags as warnings; the set then matches pattern by pattern.
std::unique_ptr<Compiled> Compile(RuleSetDef def, const CompileOptions& options,
                                  std::vector<Diagnostic>* diags);

// RE2 options used for every pattern.
RE2::Options PatternOptions(std::int64_t max_mem);

}  // namespace mamori::rules::internal
