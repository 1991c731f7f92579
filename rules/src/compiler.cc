// Compiles a RuleSetDef: per-field literal scanners, FilteredRE2s and hash sets, expression
// nodes, the per-event field index and the log source index.
#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <set>

#include "compiled.h"
#include "mamori/rules/rule_set.h"

namespace mamori::rules::internal {

FieldRef FieldRef::Of(std::string_view name) {
  static const std::unordered_map<std::string_view, Pseudo> kPseudo = {
      {"host", Pseudo::kHost},          {"app", Pseudo::kApp},
      {"procid", Pseudo::kProcid},      {"msgid", Pseudo::kMsgid},
      {"message", Pseudo::kMessage},    {"format", Pseudo::kFormat},
      {"facility", Pseudo::kFacility},  {"severity", Pseudo::kSeverity},
      {"class", Pseudo::kClass},        {"raw", Pseudo::kRaw},
      {"listener", Pseudo::kListener},  {"peer", Pseudo::kPeer},
      {"_keywords", Pseudo::kKeywords}, {"event_time", Pseudo::kEventTime},
  };
  FieldRef f;
  // A pseudo-field is the field whatever candidates follow it (a mapping's alternatives, e.g.
  // Sigma `message` under linux: "message" then "auditd.message").
  auto it = kPseudo.find(name.substr(0, name.find(kAltSep)));
  if (it != kPseudo.end()) {
    f.pseudo = it->second;
    return f;
  }
  while (true) {
    size_t sep = name.find(kAltSep);
    std::string_view k = name.substr(0, sep);
    if (k.starts_with("fields.")) k.remove_prefix(7);  // a field named like a pseudo-field
    if (!k.empty() && std::find(f.keys.begin(), f.keys.end(), k) == f.keys.end()) {
      f.keys.emplace_back(k);
    }
    if (sep == std::string_view::npos) break;
    name.remove_prefix(sep + 1);
  }
  if (f.keys.empty()) f.keys.emplace_back();
  return f;
}

const std::string& FieldRef::key() const {
  static const std::string kEmpty;
  return keys.empty() ? kEmpty : keys[0];
}

bool KeyMatches(std::string_view pattern, std::string_view key) {
  while (true) {
    size_t pd = pattern.find('.'), kd = key.find('.');
    std::string_view ps = pattern.substr(0, pd), ks = key.substr(0, kd);
    if (ps != "*" && ps != ks) return false;
    if (pd == std::string_view::npos || kd == std::string_view::npos) {
      return pd == std::string_view::npos && kd == std::string_view::npos;
    }
    pattern.remove_prefix(pd + 1);
    key.remove_prefix(kd + 1);
  }
}

static bool NonEmpty(const std::string& s, std::string_view* out) {
  if (s.empty()) return false;
  *out = s;
  return true;
}

bool Resolve(const FieldRef& f, const Record& r, std::string* scratch, std::string_view* out) {
  const Event& e = r.event;
  switch (f.pseudo) {
    case Pseudo::kNone:
      for (const auto& k : f.keys) {
        if (k.find('*') == std::string::npos) {
          if (const std::string* v = e.Get(k)) {
            *out = *v;
            return true;
          }
          continue;
        }
        for (const auto& field : e.fields) {
          if (KeyMatches(k, field.key)) {
            *out = field.value;
            return true;
          }
        }
      }
      return false;
    case Pseudo::kHost:
      return NonEmpty(e.host, out);
    case Pseudo::kApp:
      return NonEmpty(e.app, out);
    case Pseudo::kProcid:
      return NonEmpty(e.procid, out);
    case Pseudo::kMsgid:
      return NonEmpty(e.msgid, out);
    case Pseudo::kMessage:
      *out = e.message;
      return true;
    case Pseudo::kFormat:
      return NonEmpty(e.format, out);
    case Pseudo::kFacility:
      if (e.facility < 0) return false;
      *scratch = std::to_string(e.facility);
      *out = *scratch;
      return true;
    case Pseudo::kSeverity:
      if (e.severity < 0) return false;
      *scratch = std::to_string(e.severity);
      *out = *scratch;
      return true;
    case Pseudo::kClass:
      *out = InfoClassName(e.info_class);
      return true;
    case Pseudo::kRaw:
      *out = r.raw.bytes;
      return true;
    case Pseudo::kListener:
      return NonEmpty(r.raw.listener, out);
    case Pseudo::kPeer:
      return NonEmpty(r.raw.peer, out);
    case Pseudo::kKeywords:
      *out = e.message.empty() ? std::string_view(r.raw.bytes) : std::string_view(e.message);
      return true;
    case Pseudo::kEventTime:
      if (e.event_time_ns == 0) return false;
      *scratch = FormatRfc3339(e.event_time_ns);
      *out = *scratch;
      return true;
  }
  return false;
}

void AsciiLower(std::string_view in, std::string* out) {
  out->resize(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    (*out)[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
}

RE2::Options PatternOptions(std::int64_t max_mem) {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(max_mem);
  o.set_dot_nl(false);
  return o;
}

namespace {

// Literals longer than this are found by their first kMaxKey bytes and verified (bounds the
// scanner's size); FilteredRE2 atoms shorter than kMinAtomLen are not used (the regex then runs
// on every value of the field).
constexpr std::size_t kMaxKey = 16;
constexpr int kMinAtomLen = 3;
// Lazy leaves (compiled.h): a non-trigger leaf with a literal shorter than kNoisyLiteralLen and
// at most kMaxLazyPatterns patterns.
constexpr std::size_t kNoisyLiteralLen = 4;
constexpr std::size_t kMaxLazyPatterns = 16;

std::string FieldName(const FieldRef& f) {
  if (f.pseudo != Pseudo::kNone) return "\x01" + std::to_string(static_cast<int>(f.pseudo));
  std::string name;
  for (const auto& k : f.keys) {
    if (!name.empty()) name += kAltSep;
    name += k;
  }
  return name;
}

// Whether the non-ASCII characters of a UTF-8 string have no case variants (dashes, marks,
// symbols...), so that folding ASCII letters only is exactly RE2's (?i). A character is caseless
// when (?i) does not make RE2's program for it any larger.
bool CaselessBeyondAscii(std::string_view s) {
  static auto* cache = new std::unordered_map<std::string, bool>();
  static std::mutex mu;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    std::string ch(s.substr(i, n));
    i += n;
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache->find(ch);
    if (it == cache->end()) {
      RE2 plain(RE2::QuoteMeta(ch)), folded("(?i)" + RE2::QuoteMeta(ch));
      bool caseless = plain.ok() && folded.ok() && plain.ProgramSize() == folded.ProgramSize();
      it = cache->emplace(ch, caseless).first;
    }
    if (!it->second) return false;
  }
  return true;
}

// Reads a pattern that is a plain literal: an optional flag group "(?i)", "(?s)", "(?si)" or
// "(?is)", an optional '^', a literal quoted like RE2::QuoteMeta, an optional '$'. False for
// anything else, and for case-insensitive literals with non-ASCII letters (RE2 folds Unicode).
bool ParseLiteral(std::string_view p, LiteralPattern* out) {
  bool ci = false;
  if (p.starts_with("(?")) {
    size_t close = p.find(')');
    if (close == std::string_view::npos) return false;
    std::string_view flags = p.substr(2, close - 2);
    if (flags != "i" && flags != "s" && flags != "si" && flags != "is") return false;
    ci = flags.find('i') != std::string_view::npos;
    p.remove_prefix(close + 1);
  }
  out->anchor_start = p.starts_with('^');
  if (out->anchor_start) p.remove_prefix(1);
  std::string text;
  out->anchor_end = false;
  for (size_t i = 0; i < p.size(); ++i) {
    unsigned char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size()) return false;
      unsigned char n = p[i + 1];
      if (n == 'x' && p.substr(i + 2, 2) == "00") {  // QuoteMeta's NUL
        text += '\0';
        i += 3;
        continue;
      }
      if (std::isalnum(n) || n >= 0x80) return false;  // \d, \b, \pL...: a class, not a literal
      text += static_cast<char>(n);
      ++i;
      continue;
    }
    if (c == '$' && i + 1 == p.size()) {
      out->anchor_end = true;
      break;
    }
    if (std::string_view("\\.+*?()|[]{}^$").find(static_cast<char>(c)) != std::string_view::npos) {
      return false;  // an operator
    }
    text += static_cast<char>(c);
  }
  if (ci && !CaselessBeyondAscii(text)) return false;
  out->text = std::move(text);
  out->case_insensitive = ci;
  return true;
}

class Compiler {
 public:
  Compiler(const CompileOptions& options, std::vector<Diagnostic>* diags)
      : max_mem_(options.max_mem),
        prefilter_(options.prefilter),
        diags_(diags),
        out_(std::make_unique<Compiled>()) {}

  std::unique_ptr<Compiled> Run(RuleSetDef def) {
    std::map<std::string, std::vector<int>> groups_by_key;
    for (auto& d : def.detectors) {
      Detector cd;
      // The trigger leaves (chosen on the definition, the most selective branch of each AND);
      // the other string leaves of a hit-driven detector are lazy (see compiled.h).
      std::vector<int> def_triggers;
      int score = 0;
      const bool hit_driven = prefilter_ && TriggersDef(d.cond, d.leaves, &def_triggers, &score);
      std::vector<bool> is_trigger(d.leaves.size(), false);
      for (int t : def_triggers) is_trigger[t] = true;
      std::vector<int> leaf_ids;
      for (size_t i = 0; i < d.leaves.size(); ++i) {
        const bool lazy = hit_driven && !is_trigger[i] && Noisy(d.leaves[i]);
        leaf_ids.push_back(AddLeaf(d.leaves[i], lazy));
      }
      for (size_t i = 0; i < d.leaves.size(); ++i) {
        if (d.leaves[i].capture) cd.capture_leaves.push_back(leaf_ids[i]);
      }
      cd.root = AddNode(d.cond, leaf_ids);
      int det = static_cast<int>(out_->detectors.size());
      out_->detectors.push_back(std::move(cd));
      int group = AddToGroup(d.logsource, det);
      out_->detector_group.push_back(group);
      std::vector<int> triggers;
      for (int t : def_triggers) triggers.push_back(leaf_ids[t]);
      if (hit_driven) {
        std::sort(triggers.begin(), triggers.end());
        triggers.erase(std::unique(triggers.begin(), triggers.end()), triggers.end());
        out_->leaf_triggers.resize(out_->leaves.size());
        for (int l : triggers) {
          out_->leaf_triggers[l].push_back(det);
          auto& groups = out_->matchers[out_->leaves[l].matcher].groups;
          if (std::find(groups.begin(), groups.end(), group) == groups.end()) {
            groups.push_back(group);
          }
          auto& ms = out_->groups[group].matchers;
          if (std::find(ms.begin(), ms.end(), out_->leaves[l].matcher) == ms.end()) {
            ms.push_back(out_->leaves[l].matcher);
          }
        }
      } else {
        out_->groups[group].always.push_back(det);
      }
    }
    out_->leaf_triggers.resize(out_->leaves.size());
    for (size_t m = 0; m < out_->matchers.size(); ++m) {
      const FieldRef& f = out_->matchers[m].field;
      if (f.pseudo == Pseudo::kNone) {
        for (int slot : f.slots) {
          out_->slot_matchers.resize(out_->key_slots.size());
          out_->slot_matchers[slot].push_back(static_cast<int>(m));
        }
      } else {
        out_->pseudo_matchers.push_back(static_cast<int>(m));
      }
    }
    FinishMatchers();
    BuildIndex();
    for (size_t r = 0; r < def.rules.size(); ++r) {
      CompiledRule cr;
      cr.def = std::move(def.rules[r]);
      for (size_t in = 0; in < cr.def.inputs.size(); ++in) {
        out_->detectors[cr.def.inputs[in]].consumers.emplace_back(static_cast<int>(r),
                                                                  static_cast<int>(in));
        std::vector<FieldRef> gb;
        if (in < cr.def.group_by_keys.size()) {
          for (auto& k : cr.def.group_by_keys[in]) gb.push_back(Ref(k));
        }
        cr.group_by.push_back(std::move(gb));
        cr.distinct.push_back(
            Ref(in < cr.def.distinct_keys.size() ? cr.def.distinct_keys[in] : ""));
      }
      out_->by_id[cr.def.info.id] = static_cast<int>(r);
      out_->infos.push_back(cr.def.info);
      out_->rules.push_back(std::move(cr));
    }
    for (auto& d : out_->detectors) {
      std::sort(d.consumers.begin(), d.consumers.end(), [](auto& a, auto& b) {
        return a.first != b.first ? a.first < b.first : a.second > b.second;
      });
    }
    out_->slot_matchers.resize(out_->key_slots.size());
    out_->samples = std::move(def.samples);
    return std::move(out_);
  }

 private:
  struct PendingMatcher {
    std::vector<std::string> patterns;
    std::map<std::string, int> index;
  };

  // A field reference with its slots in the per-event field index.
  FieldRef Ref(std::string_view name) {
    FieldRef f = FieldRef::Of(name);
    if (f.pseudo != Pseudo::kNone || f.key().empty()) return f;
    for (const auto& k : f.keys) {
      const bool inserted = out_->key_slots.Find(k) < 0;
      f.slots.push_back(out_->key_slots.Insert(k));
      size_t star = k.find('*');
      if (inserted && star != std::string::npos) {
        std::string prefix = k.substr(0, star);
        auto& sp = out_->star_prefixes;
        if (std::none_of(sp.begin(), sp.end(), [&](const auto& p) { return p.text == prefix; })) {
          Compiled::StarPrefix p{prefix, 0};
          if (prefix.size() >= 8) std::memcpy(&p.tail8, prefix.data() + prefix.size() - 8, 8);
          sp.push_back(std::move(p));
        }
      }
    }
    return f;
  }

  int MatcherFor(const FieldRef& f) {
    std::string name = FieldName(f);
    auto it = matcher_by_name_.find(name);
    if (it != matcher_by_name_.end()) return it->second;
    int m = static_cast<int>(out_->matchers.size());
    out_->matchers.emplace_back();
    out_->matchers.back().field = f;
    pending_.emplace_back();
    matcher_by_name_[name] = m;
    return m;
  }

  int AddLeaf(const LeafDef& d, bool lazy) {
    int id = static_cast<int>(out_->leaves.size());
    Leaf l;
    l.kind = d.kind;
    l.field = Ref(d.field);
    l.cidrs = d.cidrs;
    l.num_op = d.num_op;
    l.number = d.number;
    l.exists = d.exists;
    l.tz_minutes = d.tz_minutes;
    l.from_min = d.from_min;
    l.to_min = d.to_min;
    l.days = d.days;
    l.outside = d.outside;
    l.ref = d.kind == LeafDef::Kind::kFieldRef ? Ref(d.ref_field) : FieldRef();
    if (d.kind == LeafDef::Kind::kString && lazy) {
      l.lazy = std::make_unique<LazyPatterns>();
      l.lazy->exact_ci = d.case_insensitive;
      for (auto& p : d.patterns) {
        if (!p.is_regex) {
          l.lazy->exact.push_back(p.text);
          continue;
        }
        LiteralPattern lit;
        if (ParseLiteral(p.text, &lit)) {
          if (lit.case_insensitive) AsciiLower(std::string(lit.text), &lit.text);
          l.lazy->literals.push_back(std::move(lit));
          continue;
        }
        auto re = std::make_unique<RE2>(p.text, PatternOptions(max_mem_));
        if (!re->ok()) {
          Diagnostic diag;
          diag.level = Diagnostic::Level::kWarning;
          diag.message = "pattern '" + p.text + "' on field '" + l.field.key() +
                         "' did not compile within max_mem; it never matches";
          diags_->push_back(std::move(diag));
          continue;
        }
        if (d.capture && !re->NamedCapturingGroups().empty()) {
          l.captures.push_back(std::make_unique<RE2>(p.text, PatternOptions(max_mem_)));
        }
        l.lazy->regexes.push_back(std::move(re));
      }
    } else if (d.kind == LeafDef::Kind::kString) {
      l.matcher = MatcherFor(l.field);
      auto& m = out_->matchers[l.matcher];
      auto& pm = pending_[l.matcher];
      for (auto& p : d.patterns) {
        if (!p.is_regex) {
          if (d.case_insensitive) {
            std::string low;
            AsciiLower(p.text, &low);
            int e = m.exact_ci.Insert(low);
            m.exact_ci_leaves.resize(m.exact_ci.size());
            m.exact_ci_leaves[e].push_back(id);
          } else {
            int e = m.exact.Insert(p.text);
            m.exact_leaves.resize(m.exact.size());
            m.exact_leaves[e].push_back(id);
          }
          continue;
        }
        auto [pit, inserted] = pm.index.emplace(p.text, static_cast<int>(pm.patterns.size()));
        if (inserted) {
          pm.patterns.push_back(p.text);
          m.pattern_leaves.emplace_back();
        }
        auto& v = m.pattern_leaves[pit->second];
        if (v.empty() || v.back() != id) v.push_back(id);
        if (d.capture) {
          auto re = std::make_unique<RE2>(p.text, PatternOptions(max_mem_));
          if (re->ok() && !re->NamedCapturingGroups().empty()) l.captures.push_back(std::move(re));
        }
      }
    }
    out_->leaves.push_back(std::move(l));
    return id;
  }

  int AddNode(const ExprDef& e, const std::vector<int>& leaf_ids) {
    int id = static_cast<int>(out_->nodes.size());
    out_->nodes.emplace_back();
    std::vector<int> kids;
    for (auto& k : e.kids) kids.push_back(AddNode(k, leaf_ids));
    Node& n = out_->nodes[id];
    n.kind = e.kind;
    n.leaf = e.kind == ExprDef::Kind::kLeaf ? leaf_ids.at(e.leaf) : -1;
    n.first_kid = static_cast<int>(out_->kids.size());
    n.n_kids = static_cast<int>(kids.size());
    out_->kids.insert(out_->kids.end(), kids.begin(), kids.end());
    return id;
  }

  // How rarely a string leaf can be expected to hit (higher: rarer): an exact value or an
  // anchored literal 1000, another literal its length, any other regex kMinAtomLen (its
  // FilteredRE2 atoms are at least that long); the weakest pattern of the leaf counts.
  static int LeafScore(const LeafDef& l) {
    int score = std::numeric_limits<int>::max();
    for (const auto& p : l.patterns) {
      int s = 1000;
      LiteralPattern lit;
      if (p.is_regex) {
        if (!ParseLiteral(p.text, &lit)) {
          s = kMinAtomLen;
        } else if (!(lit.anchor_start && lit.anchor_end)) {
          s = static_cast<int>(std::min<std::size_t>(lit.text.size(), 1000));
        }
      }
      score = std::min(score, s);
    }
    return score == std::numeric_limits<int>::max() ? 0 : score;
  }

  // Whether a string leaf has a literal pattern so short that it would hit on most values
  // (Sigma `'0'`, `':'`, `'@'`, `'-s'`), and few enough patterns to check one by one: if it is not
  // a trigger, it is better evaluated lazily than scanned for on every value.
  static bool Noisy(const LeafDef& l) {
    if (l.kind != LeafDef::Kind::kString || l.patterns.size() > kMaxLazyPatterns) return false;
    return std::any_of(l.patterns.begin(), l.patterns.end(), [](const LeafDef::Pattern& p) {
      LiteralPattern lit;
      return p.is_regex && ParseLiteral(p.text, &lit) && !(lit.anchor_start && lit.anchor_end) &&
             lit.text.size() < kNoisyLiteralLen;
    });
  }

  // Leaves of which at least one must hit for the expression to be true (indexes into
  // `leaves`); false when no such bound exists (a `not`, or a leaf that is not a string match).
  // Of an AND, the branch whose weakest leaf is the rarest (*score, higher is better), then the
  // one with the fewest leaves: `'init' and ('0' or '6')` triggers on 'init' only.
  static bool TriggersDef(const ExprDef& e, const std::vector<LeafDef>& leaves,
                          std::vector<int>* out, int* score) {
    switch (e.kind) {
      case ExprDef::Kind::kLeaf:
        if (leaves[e.leaf].kind != LeafDef::Kind::kString) return false;
        out->push_back(e.leaf);
        *score = LeafScore(leaves[e.leaf]);
        return true;
      case ExprDef::Kind::kFalse:
        *score = std::numeric_limits<int>::max();
        return true;
      case ExprDef::Kind::kTrue:
      case ExprDef::Kind::kNot:
        return false;
      case ExprDef::Kind::kOr:
        *score = std::numeric_limits<int>::max();
        for (const auto& k : e.kids) {
          int s = 0;
          if (!TriggersDef(k, leaves, out, &s)) return false;
          *score = std::min(*score, s);
        }
        return true;
      case ExprDef::Kind::kAnd: {
        bool found = false;
        std::vector<int> best;
        int best_score = 0;
        for (const auto& k : e.kids) {
          std::vector<int> t;
          int s = 0;
          if (!TriggersDef(k, leaves, &t, &s)) continue;
          if (!found || s > best_score || (s == best_score && t.size() < best.size())) {
            best = std::move(t);
            best_score = s;
            found = true;
          }
        }
        if (found) out->insert(out->end(), best.begin(), best.end());
        *score = best_score;
        return found;
      }
    }
    return false;
  }

  int AddToGroup(const std::vector<LogSourceConstraint>& cs, int det) {
    std::vector<Constraint> norm;
    for (auto& c : cs) {
      Constraint n;
      n.field = Ref(c.field);
      for (auto& v : c.values) {
        std::string low;
        AsciiLower(v, &low);
        n.values.push_back(low);
      }
      std::sort(n.values.begin(), n.values.end());
      n.values.erase(std::unique(n.values.begin(), n.values.end()), n.values.end());
      norm.push_back(std::move(n));
    }
    std::stable_sort(norm.begin(), norm.end(), [](const Constraint& a, const Constraint& b) {
      return FieldName(a.field) < FieldName(b.field);
    });
    // Constraints on the same field hold together: keep the intersection of their values (a
    // product's formats and a category's, `format: [rfc3164, ..., auditd]` and `format:
    // [auditd]`, become `format: [auditd]`), so that the group is indexed on what it needs.
    for (size_t i = 0; i + 1 < norm.size();) {
      Constraint& a = norm[i];
      Constraint& b = norm[i + 1];
      if (FieldName(a.field) != FieldName(b.field)) {
        ++i;
        continue;
      }
      std::vector<std::string> both;
      if (a.values.empty() || b.values.empty()) {
        both = a.values.empty() ? b.values : a.values;
      } else {
        std::set_intersection(a.values.begin(), a.values.end(), b.values.begin(), b.values.end(),
                              std::back_inserter(both));
        if (both.empty()) {  // never holds; keep both so that the group never matches
          ++i;
          continue;
        }
      }
      a.values = std::move(both);
      norm.erase(norm.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    }
    std::string key;
    for (auto& c : norm) {
      key += FieldName(c.field) + "=";
      for (auto& v : c.values) key += v + "\x1f";
      key += "\x1e";
    }
    auto it = group_by_key_.find(key);
    if (it == group_by_key_.end()) {
      it = group_by_key_.emplace(key, static_cast<int>(out_->groups.size())).first;
      out_->groups.emplace_back();
      out_->groups.back().constraints = std::move(norm);
    }
    out_->groups[it->second].detectors.push_back(det);
    return it->second;
  }

  // Literal patterns become scanner keys; the others go into a FilteredRE2 whose atoms become
  // scanner keys too.
  void FinishMatchers() {
    for (size_t i = 0; i < out_->matchers.size(); ++i) {
      auto& m = out_->matchers[i];
      auto& pm = pending_[i];
      m.pattern_base = static_cast<int>(out_->patterns);
      out_->patterns += pm.patterns.size();
      std::vector<int> complex;
      for (size_t p = 0; p < pm.patterns.size(); ++p) {
        LiteralPattern lit;
        if (!ParseLiteral(pm.patterns[p], &lit)) {
          complex.push_back(static_cast<int>(p));
          continue;
        }
        lit.pattern = static_cast<int>(p);
        if (lit.text.empty()) {
          m.empty_literals.push_back(std::move(lit));
          continue;
        }
        lit.key_len = static_cast<std::uint32_t>(std::min<size_t>(lit.text.size(), kMaxKey));
        m.scanner.Add(std::string_view(lit.text).substr(0, lit.key_len));
        m.literals.push_back(std::move(lit));
      }
      if (!complex.empty()) AddFiltered(&m, pm.patterns, complex);
      m.scanner.Build();
    }
  }

  void AddFiltered(FieldMatcher* m, const std::vector<std::string>& patterns,
                   const std::vector<int>& complex) {
    m->filtered = std::make_unique<re2::FilteredRE2>(kMinAtomLen);
    std::vector<int> always;  // regexp ids whose atoms cannot be scanned for
    for (int p : complex) {
      int id = -1;
      if (m->filtered->Add(patterns[p], PatternOptions(max_mem_), &id) == RE2::NoError) {
        m->filtered_pattern.push_back(p);
        if (!ScannableAtoms(patterns[p])) always.push_back(id);
        continue;
      }
      Diagnostic d;
      d.level = Diagnostic::Level::kWarning;
      d.message = "pattern '" + patterns[p] + "' on field '" + m->field.key() +
                  "' did not compile within max_mem; it never matches";
      diags_->push_back(std::move(d));
    }
    if (m->filtered_pattern.empty()) {
      m->filtered.reset();
      return;
    }
    std::vector<std::string> atoms;
    m->filtered->Compile(&atoms);
    m->filtered->AllPotentials({}, &m->unfiltered);
    for (int id : always) {
      if (std::find(m->unfiltered.begin(), m->unfiltered.end(), id) == m->unfiltered.end()) {
        m->unfiltered.push_back(id);
      }
    }
    for (auto& a : atoms) m->scanner.Add(a);
  }

  // Whether the scanner can find FilteredRE2's atoms for the pattern: it folds ASCII case only,
  // so an atom with a non-ASCII letter that has case variants could be missed in text that
  // differs in case; caseless characters (CJK such as 個人番号, dashes, symbols) are fine.
  bool ScannableAtoms(const std::string& pattern) {
    re2::FilteredRE2 one(kMinAtomLen);
    int id;
    if (one.Add(pattern, PatternOptions(max_mem_), &id) != RE2::NoError) return true;
    std::vector<std::string> atoms;
    one.Compile(&atoms);
    return std::all_of(atoms.begin(), atoms.end(),
                       [](const std::string& a) { return CaselessBeyondAscii(a); });
  }

  // Each group is indexed on its most selective valued constraint: the one with the fewest
  // values (`app: [sshd]` rather than the nine Linux formats), then the one whose field is the
  // most common (fewer index lookups per event).
  void BuildIndex() {
    std::map<std::string, int> freq;
    for (auto& g : out_->groups) {
      for (auto& c : g.constraints) {
        if (!c.values.empty()) ++freq[FieldName(c.field)];
      }
    }
    std::map<std::string, int> primary_by_name;
    for (size_t gi = 0; gi < out_->groups.size(); ++gi) {
      auto& g = out_->groups[gi];
      int best = -1;
      for (size_t ci = 0; ci < g.constraints.size(); ++ci) {
        if (g.constraints[ci].values.empty()) continue;
        const auto& c = g.constraints[ci];
        const auto& b = g.constraints[best < 0 ? 0 : best];
        if (best < 0 || c.values.size() < b.values.size() ||
            (c.values.size() == b.values.size() &&
             freq[FieldName(c.field)] > freq[FieldName(b.field)])) {
          best = static_cast<int>(ci);
        }
      }
      if (best < 0) {
        out_->unindexed_groups.push_back(static_cast<int>(gi));
        continue;
      }
      g.primary = best;
      std::string name = FieldName(g.constraints[best].field);
      auto it = primary_by_name.find(name);
      if (it == primary_by_name.end()) {
        it = primary_by_name.emplace(name, static_cast<int>(out_->primaries.size())).first;
        out_->primaries.emplace_back();
        out_->primaries.back().field = g.constraints[best].field;
      }
      for (auto& v : g.constraints[best].values) {
        auto& primary = out_->primaries[it->second];
        int id = primary.values.Insert(v);
        primary.groups.resize(primary.values.size());
        primary.groups[id].push_back(static_cast<int>(gi));
      }
    }
  }

  std::int64_t max_mem_;
  bool prefilter_;
  std::vector<Diagnostic>* diags_;
  std::unique_ptr<Compiled> out_;
  std::vector<PendingMatcher> pending_;
  std::unordered_map<std::string, int> matcher_by_name_;
  std::map<std::string, int> group_by_key_;
};

}  // namespace

std::unique_ptr<Compiled> Compile(RuleSetDef def, const CompileOptions& options,
                                  std::vector<Diagnostic>* diags) {
  return Compiler(options, diags).Run(std::move(def));
}

}  // namespace mamori::rules::internal

namespace mamori::rules {

RuleSet::RuleSet() : compiled_(std::make_unique<internal::Compiled>()) {}
RuleSet::RuleSet(std::unique_ptr<internal::Compiled> compiled) : compiled_(std::move(compiled)) {}
RuleSet::~RuleSet() = default;
std::size_t RuleSet::size() const { return compiled_->infos.size(); }
const RuleInfo& RuleSet::info(std::size_t i) const { return compiled_->infos[i]; }
int RuleSet::Find(std::string_view id) const {
  auto it = compiled_->by_id.find(std::string(id));
  return it == compiled_->by_id.end() ? -1 : it->second;
}
const std::vector<RuleSample>& RuleSet::samples() const { return compiled_->samples; }
std::size_t RuleSet::pattern_count() const { return compiled_->patterns; }
std::size_t RuleSet::field_matcher_count() const { return compiled_->matchers.size(); }

}  // namespace mamori::rules
