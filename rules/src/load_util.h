// Internal: helpers shared by the mamori and Sigma rule loaders.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ir.h"
#include "mamori/core/status.h"
#include "mamori/rules/rule.h"

namespace mamori::rules::internal {

// Collects diagnostics for one document; positions come from yaml-cpp marks (0-based).
class Diags {
 public:
  Diags(std::string file, std::vector<Diagnostic>* out, int line_offset = 0)
      : file_(std::move(file)), out_(out), line_offset_(line_offset) {}
  int line_offset() const { return line_offset_; }
  void Add(Diagnostic::Level level, const YAML::Node& at, std::string_view rule_id,
           std::string message);
  void Add(Diagnostic::Level level, const YAML::Mark& at, std::string_view rule_id,
           std::string message);
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<Diagnostic>* out_;
  int line_offset_ = 0;
};

// "30s", "5m", "1h", "2d", "1w", also "1h30m"; a plain number is seconds. False when malformed.
bool ParseDuration(std::string_view text, std::int64_t* ns);

// A decimal count as rule files write it: digits only (no sign, no spaces), at most 18 of them.
// False otherwise, never an exception (the std::stoull it replaces threw on "abc" and on 20
// digits, which ended the process).
bool ParseCount(std::string_view text, std::uint64_t* out);

std::uint64_t Fnv1a(std::string_view data, std::uint64_t h = 14695981039346656037ull);
// Stable hash of a YAML node's normalized form (YAML::Dump: no comments, canonical layout).
std::uint64_t HashNode(const YAML::Node& node);

// RE2 syntax of a literal.
std::string QuoteRegex(std::string_view literal);
// Checks that a pattern compiles with RE2; the error text otherwise.
bool CheckRegex(const std::string& pattern, std::string* error);

// A Sigma-style condition: `and`, `or`, `not`, parentheses, names, `1 of x*`, `all of x*`,
// `1 of them`, `all of them`. `lookup(name)` returns the expression of a selection.
// Errors: "unknown selection 'x'", "syntax error ..."; features we lack start "unsupported: ".
Result<ExprDef> ParseCondition(std::string_view text, const std::vector<std::string>& names,
                               const std::function<ExprDef(const std::string&)>& lookup);

// Glob match of names ("sel*").
bool GlobMatch(std::string_view pattern, std::string_view name);

// Scalar text of a node ("" for null); false if the node is not a scalar.
bool ScalarText(const YAML::Node& n, std::string* out);
// A scalar or a sequence of scalars as strings; false otherwise.
bool StringList(const YAML::Node& n, std::vector<std::string>* out);

}  // namespace mamori::rules::internal
