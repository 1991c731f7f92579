// The collect stage for Sigma rules and Sigma correlation rules.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <set>

#include "collect.h"

namespace mamori::rules::internal {

namespace {

using Level = Diagnostic::Level;

// Thrown inside this file only, caught in CollectSigma: a rule uses a feature we lack.
struct Unsupported {
  std::string reason;
  YAML::Mark mark;
};
struct Invalid {
  std::string reason;
  YAML::Mark mark;
};

[[noreturn]] void ThrowUnsupported(const YAML::Node& at, std::string reason) {
  throw Unsupported{std::move(reason), at.IsDefined() ? at.Mark() : YAML::Mark::null_mark()};
}
[[noreturn]] void ThrowInvalid(const YAML::Node& at, std::string reason) {
  throw Invalid{std::move(reason), at.IsDefined() ? at.Mark() : YAML::Mark::null_mark()};
}

std::string Base64(std::string_view in) {
  static const char* kAlpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  while (i + 2 < in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
    out += kAlpha[v & 63];
    i += 3;
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// The three shifted encodings of pySigma's base64offset.
std::vector<std::string> Base64Offsets(const std::string& v) {
  static const int kStart[3] = {0, 2, 3};
  static const int kEnd[3] = {0, 3, 2};  // chars dropped at the end, by (len + shift) % 3
  std::vector<std::string> out;
  for (int i = 0; i < 3; ++i) {
    std::string enc = Base64(std::string(i, ' ') + v);
    int drop = kEnd[(v.size() + i) % 3];
    int len = static_cast<int>(enc.size()) - kStart[i] - drop;
    if (len > 0) out.push_back(enc.substr(kStart[i], len));
  }
  return out;
}

// UTF-8 to UTF-16 (little or big endian).
std::string Utf16(std::string_view s, bool big_endian) {
  std::string out;
  auto put = [&](unsigned u) {
    char lo = static_cast<char>(u & 0xff), hi = static_cast<char>(u >> 8);
    if (big_endian) {
      out += hi;
      out += lo;
    } else {
      out += lo;
      out += hi;
    }
  };
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    unsigned cp;
    int n;
    if (c < 0x80) {
      cp = c;
      n = 1;
    } else if ((c >> 5) == 6 && i + 1 < s.size()) {
      cp = ((c & 0x1f) << 6) | (s[i + 1] & 0x3f);
      n = 2;
    } else if ((c >> 4) == 14 && i + 2 < s.size()) {
      cp = ((c & 0x0f) << 12) | ((s[i + 1] & 0x3f) << 6) | (s[i + 2] & 0x3f);
      n = 3;
    } else if ((c >> 3) == 30 && i + 3 < s.size()) {
      cp = ((c & 0x07) << 18) | ((s[i + 1] & 0x3f) << 12) | ((s[i + 2] & 0x3f) << 6) |
           (s[i + 3] & 0x3f);
      n = 4;
    } else {
      cp = c;
      n = 1;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put(0xd800 + (cp >> 10));
      put(0xdc00 + (cp & 0x3ff));
    } else {
      put(cp);
    }
    i += n;
  }
  return out;
}

bool IsWord(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// windash: '-' or '/' starting a flag ("\B[-/]\b") may be any of - / – — ―.
std::vector<std::string> Windash(const std::string& v) {
  static const char* kDashes[] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"};
  std::vector<size_t> pos;
  for (size_t i = 0; i < v.size(); ++i) {
    if ((v[i] == '-' || v[i] == '/') && (i == 0 || !IsWord(v[i - 1])) && i + 1 < v.size() &&
        IsWord(v[i + 1])) {
      pos.push_back(i);
    }
  }
  if (pos.empty()) return {v};
  std::vector<std::string> out;
  if (pos.size() > 3) {  // all the same dash, to bound the expansion
    for (const char* d : kDashes) {
      std::string s;
      size_t k = 0;
      for (size_t i = 0; i < v.size(); ++i) {
        if (k < pos.size() && pos[k] == i) {
          s += d;
          ++k;
        } else {
          s += v[i];
        }
      }
      out.push_back(s);
    }
    return out;
  }
  size_t combos = 1;
  for (size_t k = 0; k < pos.size(); ++k) combos *= 5;
  for (size_t c = 0; c < combos; ++c) {
    std::string s;
    size_t k = 0, code = c;
    for (size_t i = 0; i < v.size(); ++i) {
      if (k < pos.size() && pos[k] == i) {
        s += kDashes[code % 5];
        code /= 5;
        ++k;
      } else {
        s += v[i];
      }
    }
    out.push_back(s);
  }
  return out;
}

// The candidate keys of a Sigma field name, as one IR field name (see FieldRef::Of).
std::string MapFieldKeys(const SigmaMapping& m, std::string_view product, std::string_view name) {
  std::string out;
  for (const auto& k : m.MapFieldCandidates(product, name)) {
    if (!out.empty()) out += kAltSep;
    out += k;
  }
  return out;
}

struct Token {
  enum Kind { kLit, kStar, kAny } kind;
  std::string text;
};

// Sigma value with wildcards and escapes (\* \? \\) into tokens.
std::vector<Token> Tokenize(const std::string& v, bool wildcards) {
  std::vector<Token> out;
  auto lit = [&](char c) {
    if (out.empty() || out.back().kind != Token::kLit) out.push_back({Token::kLit, ""});
    out.back().text += c;
  };
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (!wildcards) {
      lit(c);
    } else if (c == '\\' && i + 1 < v.size() &&
               (v[i + 1] == '*' || v[i + 1] == '?' || v[i + 1] == '\\')) {
      lit(v[++i]);
    } else if (c == '*') {
      if (out.empty() || out.back().kind != Token::kStar) out.push_back({Token::kStar, ""});
    } else if (c == '?') {
      out.push_back({Token::kAny, ""});
    } else {
      lit(c);
    }
  }
  return out;
}

enum class Mode { kExact, kContains, kStartsWith, kEndsWith };

LeafDef::Pattern MakePattern(const std::string& value, Mode mode, bool wildcards, bool cased) {
  std::vector<Token> t = Tokenize(value, wildcards);
  if (mode == Mode::kContains || mode == Mode::kEndsWith) t.insert(t.begin(), {Token::kStar, ""});
  if (mode == Mode::kContains || mode == Mode::kStartsWith) t.push_back({Token::kStar, ""});
  bool anchor_start = true, anchor_end = true;
  while (!t.empty() && t.front().kind == Token::kStar) {
    anchor_start = false;
    t.erase(t.begin());
  }
  while (!t.empty() && t.back().kind == Token::kStar) {
    anchor_end = false;
    t.pop_back();
  }
  if (anchor_start && anchor_end && t.size() <= 1 && (t.empty() || t[0].kind == Token::kLit)) {
    return {false, t.empty() ? "" : t[0].text};
  }
  std::string p = cased ? "(?s)" : "(?si)";
  if (anchor_start) p += '^';
  for (auto& tok : t) {
    p += tok.kind == Token::kLit ? QuoteRegex(tok.text) : tok.kind == Token::kStar ? ".*" : ".";
  }
  if (anchor_end) p += '$';
  return {true, p};
}

const std::set<std::string> kKnownModifiers = {
    "contains", "startswith", "endswith",     "all",     "re",      "i",     "m",        "s",
    "cidr",     "base64",     "base64offset", "utf16le", "utf16be", "utf16", "wide",     "windash",
    "exists",   "gt",         "gte",          "lt",      "lte",     "cased", "fieldref", "neq"};

class SigmaRule {
 public:
  SigmaRule(const YAML::Node& doc, const LoadOptions& options, Diags& diags)
      : doc_(doc), options_(options), diags_(diags) {}

  void Build(PendingRule* out) {
    RuleInfo& info = out->def.info;
    info.origin = "sigma";
    info.kind = "match";
    info.file = diags_.file();
    info.line = doc_.Mark().line + 1 + diags_.line_offset();
    info.title = Str(doc_["title"]);
    info.description = Str(doc_["description"]);
    std::string level = Str(doc_["level"]);
    if (!level.empty() && !ParseSeverity(level, &info.severity)) {
      ThrowInvalid(doc_["level"], "unknown level '" + level + "'");
    }
    if (doc_["tags"] && !StringList(doc_["tags"], &info.tags)) {
      ThrowInvalid(doc_["tags"], "'tags' must be a list of strings");
    }
    if (doc_["detection"]["timeframe"]) {
      ThrowUnsupported(doc_["detection"]["timeframe"], "timeframe (legacy aggregation)");
    }
    const YAML::Node ls = doc_["logsource"];
    if (!ls || !ls.IsMap()) ThrowInvalid(doc_, "missing 'logsource'");
    product_ = Str(ls["product"]);
    std::vector<std::string> unmapped;
    DetectorDef d;
    d.logsource = options_.sigma_mapping.Constraints(product_, Str(ls["category"]),
                                                     Str(ls["service"]), &unmapped);
    for (auto& c : d.logsource) {  // a key and its alternatives: the first present is checked
      std::string keys;
      for (const auto& k : options_.sigma_mapping.KeyCandidates(product_, c.field)) {
        if (!keys.empty()) keys += kAltSep;
        keys += k;
      }
      c.field = std::move(keys);
    }
    for (auto& u : unmapped) {
      diags_.Add(Level::kWarning, ls, id_,
                 "logsource " + u + " is not in the mapping; not restricted");
    }
    const YAML::Node det = doc_["detection"];
    if (!det.IsMap()) ThrowInvalid(doc_, "missing 'detection'");
    std::vector<std::string> names;
    std::map<std::string, ExprDef> sel;
    for (auto it = det.begin(); it != det.end(); ++it) {
      std::string name = it->first.Scalar();
      if (name == "condition") continue;
      names.push_back(name);
      sel[name] = Selection(it->second, &d);
    }
    const YAML::Node cond = det["condition"];
    if (!cond) ThrowInvalid(det, "missing 'condition' in detection");
    std::vector<std::string> conds;
    if (!StringList(cond, &conds) || conds.empty()) {
      ThrowInvalid(cond, "'condition' must be a string or a list of strings");
    }
    std::vector<ExprDef> alts;
    for (auto& c : conds) {
      auto r = ParseCondition(c, names, [&](const std::string& n) { return sel[n]; });
      if (!r.ok()) {
        const std::string& m = r.status().message();
        if (m.starts_with("unsupported: ")) ThrowUnsupported(cond, m.substr(13));
        ThrowInvalid(cond, m);
      }
      alts.push_back(std::move(r.value()));
    }
    d.cond =
        alts.size() == 1 ? std::move(alts[0]) : ExprDef::Of(ExprDef::Kind::kOr, std::move(alts));
    out->detectors.push_back(std::move(d));
    out->def.inputs = {0};
    out->def.group_by_keys = {{}};
  }

  void set_id(std::string id) { id_ = std::move(id); }
  const std::string& product() const { return product_; }

 private:
  static std::string Str(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : ""; }

  int Add(DetectorDef* d, LeafDef l) {
    d->leaves.push_back(std::move(l));
    return static_cast<int>(d->leaves.size()) - 1;
  }

  ExprDef Selection(const YAML::Node& s, DetectorDef* d) {
    if (s.IsMap()) {
      std::vector<ExprDef> kids;
      for (auto it = s.begin(); it != s.end(); ++it) {
        kids.push_back(FieldCond(it->first, it->second, d));
      }
      if (kids.empty()) ThrowInvalid(s, "empty selection");
      return kids.size() == 1 ? std::move(kids[0])
                              : ExprDef::Of(ExprDef::Kind::kAnd, std::move(kids));
    }
    if (s.IsSequence()) {
      bool maps = s.size() > 0 && s[0].IsMap();
      if (!maps) return Keywords(s, {}, d);
      std::vector<ExprDef> kids;
      for (const auto& item : s) {
        if (!item.IsMap()) ThrowInvalid(item, "a list of maps may not mix in plain values");
        kids.push_back(Selection(item, d));
      }
      return ExprDef::Of(ExprDef::Kind::kOr, std::move(kids));
    }
    if (s.IsScalar()) return Keywords(s, {}, d);
    ThrowInvalid(s, "a selection must be a map, a list or a value");
  }

  ExprDef Keywords(const YAML::Node& values, const std::vector<std::string>& mods, DetectorDef* d) {
    return Values("_keywords", mods.empty() ? std::vector<std::string>{"contains"} : mods, values,
                  values, d);
  }

  ExprDef FieldCond(const YAML::Node& key, const YAML::Node& value, DetectorDef* d) {
    std::string k = key.Scalar();
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      size_t bar = k.find('|', start);
      parts.push_back(k.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    std::string name = parts[0];
    std::vector<std::string> mods(parts.begin() + 1, parts.end());
    for (auto& m : mods) {
      if (!kKnownModifiers.count(m)) ThrowUnsupported(key, "modifier '" + m + "'");
    }
    if (name.empty()) {
      if (std::find(mods.begin(), mods.end(), "contains") == mods.end()) mods.push_back("contains");
      return Values("_keywords", mods, value, key, d);
    }
    return Values(MapFieldKeys(options_.sigma_mapping, product_, name), mods, value, key, d);
  }

  ExprDef Values(const std::string& field, const std::vector<std::string>& mods,
                 const YAML::Node& value, const YAML::Node& at, DetectorDef* d) {
    auto has = [&](const char* m) { return std::find(mods.begin(), mods.end(), m) != mods.end(); };
    std::vector<YAML::Node> items;
    if (value.IsSequence()) {
      for (const auto& v : value) items.push_back(v);
    } else {
      items.push_back(value);
    }
    for (auto& v : items) {
      if (!v.IsScalar() && !v.IsNull())
        ThrowInvalid(v, "a field value must be a plain value or a list");
    }
    if (items.empty()) ThrowInvalid(at, "empty list of values");
    const bool all = has("all");
    const bool neq = has("neq");
    auto finish = [&](std::vector<ExprDef> kids) {
      ExprDef e = kids.size() == 1 ? std::move(kids[0])
                                   : ExprDef::Of(all ? ExprDef::Kind::kAnd : ExprDef::Kind::kOr,
                                                 std::move(kids));
      return neq ? ExprDef::Of(ExprDef::Kind::kNot, {std::move(e)}) : e;
    };

    if (has("exists")) {
      if (items.size() != 1 || (items[0].Scalar() != "true" && items[0].Scalar() != "false")) {
        ThrowInvalid(at, "'exists' takes true or false");
      }
      LeafDef l;
      l.kind = LeafDef::Kind::kExists;
      l.field = field;
      l.exists = items[0].Scalar() == "true";
      return ExprDef::Leaf(Add(d, std::move(l)));
    }
    if (has("expand")) ThrowUnsupported(at, "placeholder expansion (expand)");
    std::vector<ExprDef> kids;
    // Null values: field absent or empty.
    for (auto& v : items) {
      if (v.IsNull()) {
        LeafDef l;
        l.kind = LeafDef::Kind::kEmpty;
        l.field = field;
        kids.push_back(ExprDef::Leaf(Add(d, std::move(l))));
      }
    }
    std::vector<std::string> vals;
    for (auto& v : items) {
      if (!v.IsNull()) vals.push_back(v.Scalar());
    }
    if (vals.empty()) return finish(std::move(kids));

    if (has("fieldref")) {
      if (has("contains") || has("startswith") || has("endswith")) {
        ThrowUnsupported(at, "fieldref combined with contains/startswith/endswith");
      }
      for (auto& v : vals) {
        LeafDef l;
        l.kind = LeafDef::Kind::kFieldRef;
        l.field = field;
        l.ref_field = MapFieldKeys(options_.sigma_mapping, product_, v);
        kids.push_back(ExprDef::Leaf(Add(d, std::move(l))));
      }
      return finish(std::move(kids));
    }
    if (has("cidr")) {
      LeafDef l;
      l.kind = LeafDef::Kind::kCidr;
      l.field = field;
      for (auto& v : vals) {
        Cidr c;
        if (!ParseCidr(v, &c)) ThrowInvalid(at, "bad CIDR '" + v + "'");
        if (all) {
          LeafDef one = l;
          one.cidrs = {c};
          kids.push_back(ExprDef::Leaf(Add(d, std::move(one))));
        } else {
          l.cidrs.push_back(c);
        }
      }
      if (!all) kids.push_back(ExprDef::Leaf(Add(d, std::move(l))));
      return finish(std::move(kids));
    }
    for (const char* op : {"gt", "gte", "lt", "lte"}) {
      if (!has(op)) continue;
      for (auto& v : vals) {
        LeafDef l;
        l.kind = LeafDef::Kind::kNumeric;
        l.field = field;
        l.num_op = std::string_view(op) == "gt"    ? LeafDef::NumOp::kGt
                   : std::string_view(op) == "gte" ? LeafDef::NumOp::kGte
                   : std::string_view(op) == "lt"  ? LeafDef::NumOp::kLt
                                                   : LeafDef::NumOp::kLte;
        char* end = nullptr;
        l.number = std::strtod(v.c_str(), &end);
        if (end == v.c_str() || *end != '\0')
          ThrowInvalid(at, "'" + std::string(op) + "' takes a number");
        kids.push_back(ExprDef::Leaf(Add(d, std::move(l))));
      }
      return finish(std::move(kids));
    }
    if (has("re")) {
      std::string flags;
      if (has("i")) flags += 'i';
      if (has("m")) flags += 'm';
      if (has("s")) flags += 's';
      LeafDef l;
      l.field = field;
      for (auto& v : vals) {
        std::string p = flags.empty() ? v : "(?" + flags + ")" + v;
        std::string err;
        if (!CheckRegex(p, &err))
          ThrowUnsupported(at, "regular expression not supported by RE2: " + err);
        if (all) {
          LeafDef one = l;
          one.patterns = {{true, p}};
          kids.push_back(ExprDef::Leaf(Add(d, std::move(one))));
        } else {
          l.patterns.push_back({true, p});
        }
      }
      if (!all) kids.push_back(ExprDef::Leaf(Add(d, std::move(l))));
      return finish(std::move(kids));
    }
    if (has("i") || has("m") || has("s")) ThrowUnsupported(at, "i/m/s modifiers without re");
    // Strings.
    Mode mode = has("contains")     ? Mode::kContains
                : has("startswith") ? Mode::kStartsWith
                : has("endswith")   ? Mode::kEndsWith
                                    : Mode::kExact;
    bool encoded = has("base64") || has("base64offset") || has("utf16le") || has("utf16be") ||
                   has("utf16") || has("wide");
    bool cased = has("cased") || has("base64") || has("base64offset");
    LeafDef any;
    any.field = field;
    any.case_insensitive = !cased;
    for (auto& v : vals) {
      std::vector<std::string> variants = has("windash") ? Windash(v) : std::vector<std::string>{v};
      if (has("utf16le") || has("wide")) {
        for (auto& s : variants) s = Utf16(s, false);
      } else if (has("utf16be")) {
        for (auto& s : variants) s = Utf16(s, true);
      } else if (has("utf16")) {
        for (auto& s : variants) s = "\xff\xfe" + Utf16(s, false);
      }
      if (has("base64")) {
        for (auto& s : variants) s = Base64(s);
      } else if (has("base64offset")) {
        std::vector<std::string> shifted;
        for (auto& s : variants) {
          for (auto& b : Base64Offsets(s)) shifted.push_back(b);
        }
        variants = std::move(shifted);
      }
      LeafDef one = any;
      one.patterns.clear();
      for (auto& s : variants) one.patterns.push_back(MakePattern(s, mode, !encoded, cased));
      if (all) {
        kids.push_back(ExprDef::Leaf(Add(d, std::move(one))));
      } else {
        for (auto& p : one.patterns) any.patterns.push_back(std::move(p));
      }
    }
    if (!all) kids.push_back(ExprDef::Leaf(Add(d, std::move(any))));
    return finish(std::move(kids));
  }

  const YAML::Node& doc_;
  const LoadOptions& options_;
  Diags& diags_;
  std::string id_;
  std::string product_;
};

// The rule's id; its name, then its title, when it has none (the loader warns).
std::string IdOf(const YAML::Node& doc) {
  if (doc["id"] && doc["id"].IsScalar()) return doc["id"].Scalar();
  if (doc["name"] && doc["name"].IsScalar()) return doc["name"].Scalar();
  if (doc["title"] && doc["title"].IsScalar()) return doc["title"].Scalar();
  return "";
}

}  // namespace

void CollectSigma(const YAML::Node& doc, Diags& diags, const LoadOptions& options, Collected* out) {
  std::string id = IdOf(doc);
  if (doc["correlation"]) {
    out->correlations.push_back(PendingCorrelation{doc, diags.file(), diags.line_offset()});
    return;
  }
  if (id.empty()) {
    diags.Add(Level::kError, doc, "", "Sigma rule without 'id', 'name' or 'title'");
    return;
  }
  if (!doc["id"])
    diags.Add(Level::kWarning, doc, id, "no 'id'; the rule is known by its name or title");
  if (doc["action"]) {
    diags.Add(Level::kUnsupported, doc["action"], id, "unsupported: multi-document action");
    return;
  }
  PendingRule p;
  p.def.info.id = id;
  p.def.info.definition_hash = Fnv1a(id, HashNode(doc));
  SigmaRule rule(doc, options, diags);
  rule.set_id(id);
  try {
    rule.Build(&p);
  } catch (const Unsupported& u) {
    diags.Add(Level::kUnsupported, u.mark, id, "unsupported: " + u.reason);
    return;
  } catch (const Invalid& e) {
    diags.Add(Level::kError, e.mark, id, e.reason);
    return;
  } catch (const YAML::Exception& e) {
    diags.Add(Level::kError, e.mark, id, std::string("malformed rule: ") + e.msg);
    return;
  }
  std::string name = doc["name"] && doc["name"].IsScalar() ? doc["name"].Scalar() : "";
  int det = static_cast<int>(out->def.detectors.size());
  int index = static_cast<int>(out->def.rules.size());
  if (!out->Commit(std::move(p), diags, doc)) return;
  out->sigma_refs[id] = {det, rule.product()};
  out->sigma_rule_index[id] = index;
  if (!name.empty()) {
    out->sigma_refs[name] = {det, rule.product()};
    out->sigma_rule_index[name] = index;
  }
}

void ResolveSigmaCorrelation(const PendingCorrelation& c, std::vector<Diagnostic>* all,
                             const LoadOptions& options, Collected* out) {
  Diags diags(c.file, all, c.line_offset);
  const YAML::Node& doc = c.doc;
  std::string id = IdOf(doc);
  const YAML::Node corr = doc["correlation"];
  auto unsupported = [&](const YAML::Node& at, const std::string& why) {
    diags.Add(Level::kUnsupported, at, id, "unsupported: " + why);
  };
  auto error = [&](const YAML::Node& at, const std::string& why) {
    diags.Add(Level::kError, at, id, why);
  };
  if (id.empty()) return error(doc, "Sigma correlation without 'id', 'name' or 'title'");
  if (!doc["id"])
    diags.Add(Level::kWarning, doc, id, "no 'id'; the rule is known by its name or title");
  if (!corr.IsMap()) return error(corr, "'correlation' must be a map");
  PendingRule p;
  RuleDef& def = p.def;
  def.info.id = id;
  def.info.origin = "sigma";
  def.info.file = c.file;
  def.info.line = doc.Mark().line + 1 + c.line_offset;
  def.info.title = doc["title"] && doc["title"].IsScalar() ? doc["title"].Scalar() : id;
  def.info.description =
      doc["description"] && doc["description"].IsScalar() ? doc["description"].Scalar() : "";
  if (doc["level"] && doc["level"].IsScalar())
    ParseSeverity(doc["level"].Scalar(), &def.info.severity);
  if (doc["tags"]) (void)StringList(doc["tags"], &def.info.tags);
  std::string type = corr["type"] && corr["type"].IsScalar() ? corr["type"].Scalar() : "";
  def.info.kind = type;
  if (type == "event_count") {
    def.corr = CorrType::kCount;
  } else if (type == "value_count") {
    def.corr = CorrType::kDistinct;
  } else if (type == "temporal") {
    def.corr = CorrType::kTemporal;
  } else if (type == "temporal_ordered") {
    def.corr = CorrType::kOrdered;
  } else if (type == "value_sum") {
    def.corr = CorrType::kSum;
  } else if (type == "value_avg") {
    def.corr = CorrType::kAvg;
  } else if (type == "value_percentile") {
    def.corr = CorrType::kPercentile;
  } else {
    return error(corr["type"] ? corr["type"] : corr, "unknown correlation type '" + type + "'");
  }
  if (corr["aliases"]) return unsupported(corr["aliases"], "correlation field aliases");
  std::vector<std::string> refs;
  if (!corr["rules"] || !StringList(corr["rules"], &refs) || refs.empty()) {
    return error(corr["rules"] ? corr["rules"] : corr, "'rules' must list rule ids or names");
  }
  std::uint64_t hash = Fnv1a(id, HashNode(doc));
  std::vector<std::string> products;
  for (auto& r : refs) {
    auto it = out->sigma_refs.find(r);
    if (it == out->sigma_refs.end()) {
      bool is_corr = false;
      for (auto& other : out->correlations) is_corr |= IdOf(other.doc) == r;
      if (is_corr) return unsupported(corr["rules"], "correlation of correlations ('" + r + "')");
      return error(corr["rules"], "references rule '" + r + "' which is not loaded");
    }
    def.inputs.push_back(it->second.first);
    products.push_back(it->second.second);
    hash =
        Fnv1a(std::to_string(out->def.rules[out->sigma_rule_index[r]].info.definition_hash), hash);
  }
  def.info.definition_hash = hash;
  std::vector<std::string> group_by;
  if (corr["group-by"] && !StringList(corr["group-by"], &group_by)) {
    return error(corr["group-by"], "'group-by' must be a list of field names");
  }
  def.group_by_names = group_by;
  for (auto& prod : products) {
    std::vector<std::string> keys;
    for (auto& g : group_by) keys.push_back(MapFieldKeys(options.sigma_mapping, prod, g));
    def.group_by_keys.push_back(std::move(keys));
  }
  std::string ts = corr["timespan"] && corr["timespan"].IsScalar() ? corr["timespan"].Scalar() : "";
  if (!ParseDuration(ts, &def.window_ns)) {
    return error(corr["timespan"] ? corr["timespan"] : corr,
                 "'timespan' must be a duration like 1h");
  }
  const YAML::Node cond = corr["condition"];
  if (def.corr == CorrType::kCount || def.corr == CorrType::kDistinct) {
    if (!cond || !cond.IsMap()) return error(corr, "'condition' is required for " + type);
    bool have = false;
    for (auto it = cond.begin(); it != cond.end(); ++it) {
      std::string op = it->first.Scalar();
      if (op == "field") {
        for (auto& prod : products) {
          def.distinct_keys.push_back(
              MapFieldKeys(options.sigma_mapping, prod, it->second.Scalar()));
        }
        continue;
      }
      std::uint64_t n = 0;
      if (!it->second.IsScalar() || !ParseCount(it->second.Scalar(), &n)) {
        return error(it->second, "condition '" + op + "' takes a count");
      }
      if (op == "gte") {
        def.threshold = n;
      } else if (op == "gt") {
        def.threshold = n + 1;
      } else {
        return unsupported(it->first, "condition '" + op +
                                          "' (a stream can only fire when a count reaches gt/gte)");
      }
      have = true;
    }
    if (!have) return error(cond, "condition needs gte or gt");
    if (def.threshold == 0) def.threshold = 1;
    if (def.threshold > kMaxGroupEvents) {
      return unsupported(cond, "a count above " + std::to_string(kMaxGroupEvents) +
                                   " (the events a group keeps of its window)");
    }
    if (def.corr == CorrType::kDistinct && def.distinct_keys.empty()) {
      return error(cond, "value_count needs condition.field");
    }
  } else if (def.corr == CorrType::kSum || def.corr == CorrType::kAvg ||
             def.corr == CorrType::kPercentile) {
    // One field and one comparison with a number. A sum only grows as events come, so it can
    // fire on reaching gt/gte; an average or a share can be compared either way.
    if (!cond || !cond.IsMap()) return error(corr, "'condition' is required for " + type);
    int ops = 0;
    for (auto it = cond.begin(); it != cond.end(); ++it) {
      const std::string op = it->first.Scalar();
      if (op == "field") {
        if (!it->second.IsScalar() || it->second.Scalar().empty()) {
          return error(it->second, "condition 'field' must name one field");
        }
        def.metric_field = it->second.Scalar();
        for (auto& prod : products) {
          def.distinct_keys.push_back(
              MapFieldKeys(options.sigma_mapping, prod, it->second.Scalar()));
        }
        continue;
      }
      static const std::pair<const char*, CmpOp> kOps[] = {
          {"gt", CmpOp::kGt}, {"gte", CmpOp::kGte}, {"lt", CmpOp::kLt}, {"lte", CmpOp::kLte}};
      const auto* found = std::find_if(std::begin(kOps), std::end(kOps),
                                       [&](const auto& o) { return op == o.first; });
      if (found == std::end(kOps)) {
        if (op == "eq" || op == "neq") {
          return unsupported(it->first, "condition '" + op + "' on " + type +
                                            " (a computed number: use gt/gte/lt/lte)");
        }
        return error(it->first, "unknown condition '" + op + "'");
      }
      if (def.corr == CorrType::kSum &&
          (found->second == CmpOp::kLt || found->second == CmpOp::kLte)) {
        return unsupported(it->first, "condition '" + op +
                                          "' on value_sum (a stream can only fire when a sum "
                                          "reaches gt/gte)");
      }
      const std::string text = it->second.IsScalar() ? it->second.Scalar() : "";
      char* end = nullptr;
      const double x = std::strtod(text.c_str(), &end);
      if (text.empty() || end == text.c_str() || *end != '\0' || !std::isfinite(x)) {
        return error(it->second, "condition '" + op + "' takes a number");
      }
      def.metric_op = found->second;
      def.metric_value = x;
      ++ops;
    }
    if (ops != 1) return error(cond, type + " needs exactly one of gt, gte, lt, lte");
    if (def.distinct_keys.empty()) return error(cond, type + " needs condition.field");
  } else if (cond) {
    std::uint64_t n = refs.size();
    if (cond["gte"] && (!cond["gte"].IsScalar() || !ParseCount(cond["gte"].Scalar(), &n))) {
      return error(cond["gte"], "condition 'gte' takes a count");
    }
    if (n != refs.size()) return unsupported(cond, "temporal condition on fewer than all rules");
  }
  YAML::Node gen = corr["generate"] ? corr["generate"] : doc["generate"];
  bool generate = gen && gen.IsScalar() && gen.Scalar() == "true";
  if (!generate) {
    for (auto& r : refs) out->def.rules[out->sigma_rule_index[r]].info.alerting = false;
  }
  out->Commit(std::move(p), diags, doc);
  out->sigma_refs.erase(id);  // not usable as an input
}

}  // namespace mamori::rules::internal
