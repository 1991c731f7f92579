// Compiles a RuleSetDef: per-field RE2::Sets and hash sets, expression nodes, log source index.
#include <algorithm>
#include <map>
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
      {"_keywords", Pseudo::kKeywords},
  };
  FieldRef f;
  auto it = kPseudo.find(name);
  if (it != kPseudo.end()) {
    f.pseudo = it->second;
  } else if (name.starts_with("fields.")) {
    f.key = std::string(name.substr(7));  // escape hatch for a field named like a pseudo-field
  } else {
    f.key = std::string(name);
  }
  return f;
}

static bool NonEmpty(const std::string& s, std::string_view* out) {
  if (s.empty()) return false;
  *out = s;
  return true;
}

bool Resolve(const FieldRef& f, const Record& r, std::string* scratch, std::string_view* out) {
  const Event& e = r.event;
  switch (f.pseudo) {
    case Pseudo::kNone: {
      const std::string* v = e.Get(f.key);
      if (v == nullptr) return false;
      *out = *v;
      return true;
    }
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

std::string FieldName(const FieldRef& f) {
  return f.pseudo == Pseudo::kNone ? f.key : "\x01" + std::to_string(static_cast<int>(f.pseudo));
}

class Compiler {
 public:
  Compiler(std::int64_t max_mem, std::vector<Diagnostic>* diags)
      : max_mem_(max_mem), diags_(diags), out_(std::make_unique<Compiled>()) {}

  std::unique_ptr<Compiled> Run(RuleSetDef def) {
    std::map<std::string, std::vector<int>> groups_by_key;
    for (auto& d : def.detectors) {
      Detector cd;
      std::vector<int> leaf_ids;
      for (auto& l : d.leaves) leaf_ids.push_back(AddLeaf(l));
      for (size_t i = 0; i < d.leaves.size(); ++i) {
        if (d.leaves[i].capture) cd.capture_leaves.push_back(leaf_ids[i]);
      }
      cd.root = AddNode(d.cond, leaf_ids);
      int det = static_cast<int>(out_->detectors.size());
      out_->detectors.push_back(std::move(cd));
      int group = AddToGroup(d.logsource, det);
      out_->detector_group.push_back(group);
      std::vector<int> triggers;
      if (Triggers(out_->detectors[det].root, &triggers)) {
        std::sort(triggers.begin(), triggers.end());
        triggers.erase(std::unique(triggers.begin(), triggers.end()), triggers.end());
        out_->leaf_triggers.resize(out_->leaves.size());
        for (int l : triggers) out_->leaf_triggers[l].push_back(det);
      } else {
        out_->groups[group].always.push_back(det);
      }
    }
    out_->leaf_triggers.resize(out_->leaves.size());
    for (size_t m = 0; m < out_->matchers.size(); ++m) {
      const FieldRef& f = out_->matchers[m].field;
      if (f.pseudo == Pseudo::kNone) {
        out_->matcher_by_key[f.key] = static_cast<int>(m);
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
          for (auto& k : cr.def.group_by_keys[in]) gb.push_back(FieldRef::Of(k));
        }
        cr.group_by.push_back(std::move(gb));
        cr.distinct.push_back(
            FieldRef::Of(in < cr.def.distinct_keys.size() ? cr.def.distinct_keys[in] : ""));
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
    out_->samples = std::move(def.samples);
    return std::move(out_);
  }

 private:
  struct PendingMatcher {
    std::vector<std::string> patterns;
    std::map<std::string, int> index;
  };

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

  int AddLeaf(const LeafDef& d) {
    int id = static_cast<int>(out_->leaves.size());
    Leaf l;
    l.kind = d.kind;
    l.field = FieldRef::Of(d.field);
    l.cidrs = d.cidrs;
    l.num_op = d.num_op;
    l.number = d.number;
    l.exists = d.exists;
    l.ref = FieldRef::Of(d.ref_field);
    if (d.kind == LeafDef::Kind::kString) {
      l.matcher = MatcherFor(l.field);
      auto& m = out_->matchers[l.matcher];
      auto& pm = pending_[l.matcher];
      for (auto& p : d.patterns) {
        if (!p.is_regex) {
          if (d.case_insensitive) {
            std::string low;
            AsciiLower(p.text, &low);
            m.exact_ci[low].push_back(id);
          } else {
            m.exact[p.text].push_back(id);
          }
          continue;
        }
        auto [pit, inserted] = pm.index.emplace(p.text, static_cast<int>(pm.patterns.size()));
        if (inserted) {
          pm.patterns.push_back(p.text);
          m.set_leaves.emplace_back();
        }
        auto& v = m.set_leaves[pit->second];
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

  // Leaves of which at least one must hit for the node to be true; false when no such bound
  // exists (a `not`, or a leaf that is not a string match).
  bool Triggers(int ni, std::vector<int>* out) {
    const Node& n = out_->nodes[ni];
    switch (n.kind) {
      case ExprDef::Kind::kLeaf:
        if (out_->leaves[n.leaf].kind != LeafDef::Kind::kString) return false;
        out->push_back(n.leaf);
        return true;
      case ExprDef::Kind::kFalse:
        return true;
      case ExprDef::Kind::kTrue:
      case ExprDef::Kind::kNot:
        return false;
      case ExprDef::Kind::kOr:
        for (int k = 0; k < n.n_kids; ++k) {
          if (!Triggers(out_->kids[n.first_kid + k], out)) return false;
        }
        return true;
      case ExprDef::Kind::kAnd: {
        bool found = false;
        std::vector<int> best;
        for (int k = 0; k < n.n_kids; ++k) {
          std::vector<int> t;
          if (Triggers(out_->kids[n.first_kid + k], &t) && (!found || t.size() < best.size())) {
            best = std::move(t);
            found = true;
          }
        }
        if (found) out->insert(out->end(), best.begin(), best.end());
        return found;
      }
    }
    return false;
  }

  int AddToGroup(const std::vector<LogSourceConstraint>& cs, int det) {
    std::vector<Constraint> norm;
    for (auto& c : cs) {
      Constraint n;
      n.field = FieldRef::Of(c.field);
      for (auto& v : c.values) {
        std::string low;
        AsciiLower(v, &low);
        n.values.push_back(low);
      }
      std::sort(n.values.begin(), n.values.end());
      n.values.erase(std::unique(n.values.begin(), n.values.end()), n.values.end());
      norm.push_back(std::move(n));
    }
    std::sort(norm.begin(), norm.end(), [](const Constraint& a, const Constraint& b) {
      return FieldName(a.field) < FieldName(b.field);
    });
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

  void FinishMatchers() {
    for (size_t i = 0; i < out_->matchers.size(); ++i) {
      auto& m = out_->matchers[i];
      auto& pm = pending_[i];
      if (pm.patterns.empty()) continue;
      out_->patterns += pm.patterns.size();
      auto set = std::make_unique<RE2::Set>(PatternOptions(max_mem_), RE2::UNANCHORED);
      bool ok = true;
      for (auto& p : pm.patterns) {
        if (set->Add(p, nullptr) < 0) ok = false;
        m.singles.push_back(std::make_unique<RE2>(p, PatternOptions(max_mem_)));
      }
      if (ok && set->Compile()) {
        m.set = std::move(set);
      } else {
        Diagnostic d;
        d.level = Diagnostic::Level::kWarning;
        d.message = "RE2::Set for field '" + m.field.key + "' did not compile within max_mem (" +
                    std::to_string(pm.patterns.size()) + " patterns); matching one by one";
        diags_->push_back(std::move(d));
      }
    }
  }

  // Each group is indexed on the valued constraint whose field is the most common one.
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
        if (best < 0 ||
            freq[FieldName(g.constraints[ci].field)] > freq[FieldName(g.constraints[best].field)]) {
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
        out_->primaries[it->second].groups[v].push_back(static_cast<int>(gi));
      }
    }
  }

  std::int64_t max_mem_;
  std::vector<Diagnostic>* diags_;
  std::unique_ptr<Compiled> out_;
  std::vector<PendingMatcher> pending_;
  std::unordered_map<std::string, int> matcher_by_name_;
  std::map<std::string, int> group_by_key_;
};

}  // namespace

std::unique_ptr<Compiled> Compile(RuleSetDef def, std::int64_t max_mem,
                                  std::vector<Diagnostic>* diags) {
  return Compiler(max_mem, diags).Run(std::move(def));
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
