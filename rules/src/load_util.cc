#include "load_util.h"

#include <re2/re2.h>

#include <cctype>
#include <charconv>

#include "compiled.h"

namespace mamori::rules::internal {

void Diags::Add(Diagnostic::Level level, const YAML::Mark& at, std::string_view rule_id,
                std::string message) {
  Diagnostic d;
  d.level = level;
  d.file = file_;
  d.line = at.is_null() ? 0 : at.line + 1 + line_offset_;
  d.column = at.is_null() ? 0 : at.column + 1;
  d.rule_id = std::string(rule_id);
  d.message = std::move(message);
  out_->push_back(std::move(d));
}

void Diags::Add(Diagnostic::Level level, const YAML::Node& at, std::string_view rule_id,
                std::string message) {
  Add(level, at.IsDefined() ? at.Mark() : YAML::Mark::null_mark(), rule_id, std::move(message));
}

bool ParseDuration(std::string_view text, std::int64_t* ns) {
  if (text.empty()) return false;
  std::int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (ec != std::errc() || n < 0) return false;
    i = p - text.data();
    std::int64_t unit = 1'000'000'000;
    if (i < text.size()) {
      switch (text[i]) {
        case 's':
          unit = 1'000'000'000;
          break;
        case 'm':
          unit = 60'000'000'000;
          break;
        case 'h':
          unit = 3'600'000'000'000;
          break;
        case 'd':
          unit = 86'400'000'000'000;
          break;
        case 'w':
          unit = 604'800'000'000'000;
          break;
        default:
          return false;
      }
      ++i;
    } else if (total != 0) {
      return false;
    }
    total += n * unit;
  }
  *ns = total;
  return total > 0;
}

bool ParseCount(std::string_view text, std::uint64_t* out) {
  if (text.empty() || text.size() > 18) return false;
  std::uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *out = n;
  return true;
}

std::uint64_t Fnv1a(std::string_view data, std::uint64_t h) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::uint64_t HashNode(const YAML::Node& node) { return Fnv1a(YAML::Dump(node)); }

std::string QuoteRegex(std::string_view literal) {
  return RE2::QuoteMeta(re2::StringPiece(literal.data(), literal.size()));
}

bool CheckRegex(const std::string& pattern, std::string* error) {
  RE2 re(pattern, PatternOptions(8 << 20));
  if (re.ok()) return true;
  *error = re.error();
  return false;
}

bool GlobMatch(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool ScalarText(const YAML::Node& n, std::string* out) {
  if (n.IsNull()) {
    out->clear();
    return true;
  }
  if (!n.IsScalar()) return false;
  *out = n.Scalar();
  return true;
}

bool StringList(const YAML::Node& n, std::vector<std::string>* out) {
  if (n.IsScalar()) {
    out->push_back(n.Scalar());
    return true;
  }
  if (!n.IsSequence()) return false;
  for (const auto& item : n) {
    if (!item.IsScalar()) return false;
    out->push_back(item.Scalar());
  }
  return true;
}

namespace {

class CondParser {
 public:
  CondParser(std::string_view text, const std::vector<std::string>& names,
             const std::function<ExprDef(const std::string&)>& lookup)
      : names_(names), lookup_(lookup) {
    Tokenize(text);
  }

  Result<ExprDef> Run() {
    if (!error_.empty()) return Status::InvalidArgument(error_);
    if (toks_.empty()) return Status::InvalidArgument("empty condition");
    ExprDef e = Or();
    if (error_.empty() && pos_ < toks_.size()) Fail("unexpected '" + toks_[pos_] + "'");
    if (!error_.empty()) return Status::InvalidArgument(error_);
    return e;
  }

 private:
  void Tokenize(std::string_view t) {
    size_t i = 0;
    while (i < t.size()) {
      char c = t[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (c == '(' || c == ')') {
        toks_.emplace_back(1, c);
        ++i;
      } else if (c == '|') {
        error_ = "unsupported: aggregation expression in condition (use a correlation rule)";
        return;
      } else {
        size_t j = i;
        while (j < t.size() && !std::isspace(static_cast<unsigned char>(t[j])) && t[j] != '(' &&
               t[j] != ')' && t[j] != '|') {
          ++j;
        }
        toks_.emplace_back(t.substr(i, j - i));
        i = j;
      }
    }
  }
  void Fail(std::string m) {
    if (error_.empty()) error_ = "condition: " + std::move(m);
  }
  bool Peek(std::string_view w) const { return pos_ < toks_.size() && toks_[pos_] == w; }

  ExprDef Or() {
    std::vector<ExprDef> kids{And()};
    while (error_.empty() && Peek("or")) {
      ++pos_;
      kids.push_back(And());
    }
    return kids.size() == 1 ? std::move(kids[0]) : ExprDef::Of(ExprDef::Kind::kOr, std::move(kids));
  }
  ExprDef And() {
    std::vector<ExprDef> kids{Unary()};
    while (error_.empty() && Peek("and")) {
      ++pos_;
      kids.push_back(Unary());
    }
    return kids.size() == 1 ? std::move(kids[0])
                            : ExprDef::Of(ExprDef::Kind::kAnd, std::move(kids));
  }
  ExprDef Unary() {
    if (Peek("not")) {
      ++pos_;
      return ExprDef::Of(ExprDef::Kind::kNot, {Unary()});
    }
    return Primary();
  }
  ExprDef Primary() {
    if (pos_ >= toks_.size()) {
      Fail("unexpected end");
      return {};
    }
    const std::string tok = toks_[pos_++];
    if (tok == "(") {
      ExprDef e = Or();
      if (!Peek(")")) {
        Fail("missing ')'");
        return {};
      }
      ++pos_;
      return e;
    }
    if (tok == "and" || tok == "or" || tok == ")") {
      Fail("unexpected '" + tok + "'");
      return {};
    }
    if ((tok == "1" || tok == "all" || tok == "any") && Peek("of")) {
      ++pos_;
      if (pos_ >= toks_.size()) {
        Fail("missing pattern after 'of'");
        return {};
      }
      std::string pat = toks_[pos_++];
      std::vector<ExprDef> kids;
      for (const auto& n : names_) {
        if (pat == "them" ? !n.starts_with("_") : GlobMatch(pat, n)) kids.push_back(lookup_(n));
      }
      if (kids.empty()) {
        Fail("'" + tok + " of " + pat + "' matches no selection");
        return {};
      }
      return ExprDef::Of(tok == "all" ? ExprDef::Kind::kAnd : ExprDef::Kind::kOr, std::move(kids));
    }
    if (Peek("of")) {
      error_ = "unsupported: '" + tok + " of' (only '1 of' and 'all of')";
      return {};
    }
    for (const auto& n : names_) {
      if (n == tok) return lookup_(n);
    }
    Fail("unknown selection '" + tok + "'");
    return {};
  }

  const std::vector<std::string>& names_;
  const std::function<ExprDef(const std::string&)>& lookup_;
  std::vector<std::string> toks_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

Result<ExprDef> ParseCondition(std::string_view text, const std::vector<std::string>& names,
                               const std::function<ExprDef(const std::string&)>& lookup) {
  return CondParser(text, names, lookup).Run();
}

}  // namespace mamori::rules::internal
