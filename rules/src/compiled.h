// Internal: the compiled form of a rule set, shared read-only by engines.
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir.h"
#include "mamori/core/record.h"
#include "mamori/rules/rule.h"

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
  kKeywords,  // message, or the raw bytes when the message is empty (Sigma keywords)
};

struct FieldRef {
  Pseudo pseudo = Pseudo::kNone;
  std::string key;
  static FieldRef Of(std::string_view name);
};

// Resolves a field of a record. Values of numeric members are written into *scratch.
bool Resolve(const FieldRef& f, const Record& r, std::string* scratch, std::string_view* out);
void AsciiLower(std::string_view in, std::string* out);

// Hash and equality that let an unordered_map<std::string, ...> be searched by string_view.
struct ViewHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using ViewMap = std::unordered_map<std::string, V, ViewHash, std::equal_to<>>;

// Every string pattern on one field, from every rule.
struct FieldMatcher {
  FieldRef field;
  std::unique_ptr<RE2::Set> set;              // null when the field has no regex patterns
  std::vector<std::vector<int>> set_leaves;   // set index -> leaves it satisfies
  std::vector<std::unique_ptr<RE2>> singles;  // same order; used when the Set fails
  ViewMap<std::vector<int>> exact;            // value -> leaves
  ViewMap<std::vector<int>> exact_ci;         // lowercased value -> leaves
};

struct Leaf {
  LeafDef::Kind kind = LeafDef::Kind::kString;
  int matcher = -1;  // kString
  FieldRef field;
  std::vector<Cidr> cidrs;
  LeafDef::NumOp num_op = LeafDef::NumOp::kEq;
  double number = 0;
  bool exists = true;
  FieldRef ref;
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
};

struct PrimaryIndex {
  FieldRef field;
  ViewMap<std::vector<int>> groups;  // lowercased value -> groups
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
  // Matchers scanned eagerly on every event: by event field key, and the pseudo-field ones.
  ViewMap<int> matcher_by_key;
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
std::unique_ptr<Compiled> Compile(RuleSetDef def, std::int64_t max_mem,
                                  std::vector<Diagnostic>* diags);

// RE2 options used for every pattern.
RE2::Options PatternOptions(std::int64_t max_mem);

}  // namespace mamori::rules::internal
