// The collect stage for mamori's own rule format (rules/README.md).
#include <set>

#include "collect.h"
#include "mamori/core/config.h"

namespace mamori::rules::internal {

namespace {

using Level = Diagnostic::Level;

const std::set<std::string> kRuleKeys = {
    "id",      "title",      "description", "severity",    "tags",           "logsource", "absence",
    "match",   "selections", "condition",   "correlation", "suppress",       "group_by",  "summary",
    "tests",   "enabled",    "author",      "references",  "falsepositives", "status",    "date",
    "modified"};

class NativeRule {
 public:
  NativeRule(const YAML::Node& node, Diags& diags, const LoadOptions& options)
      : n_(node), diags_(diags), options_(options) {}

  // False when the rule has an error (already reported).
  bool Build(PendingRule* out) {
    if (!n_.IsMap()) return Error(n_, "a rule must be a map");
    id_ = Str("id");
    if (id_.empty()) return Error(n_, "missing required key 'id'");
    for (auto it = n_.begin(); it != n_.end(); ++it) {
      std::string k = it->first.Scalar();
      if (!kRuleKeys.count(k)) Warn(it->first, "unknown key '" + k + "' (ignored)");
    }
    if (n_["enabled"] && n_["enabled"].IsScalar() && n_["enabled"].Scalar() == "false") {
      return false;
    }
    RuleInfo& info = out->def.info;
    info.id = id_;
    info.origin = "mamori";
    info.file = diags_.file();
    info.line = n_.Mark().line + 1 + diags_.line_offset();
    info.title = Str("title");
    if (info.title.empty()) return Error(n_, "missing required key 'title'");
    info.description = Str("description");
    std::string sev = Str("severity");
    if (sev.empty()) return Error(n_, "missing required key 'severity'");
    if (!ParseSeverity(sev, &info.severity)) {
      return Error(n_["severity"],
                   "unknown severity '" + sev + "' (info, low, medium, high, critical)");
    }
    if (n_["tags"] && !StringList(n_["tags"], &info.tags)) {
      return Error(n_["tags"], "'tags' must be a list of strings");
    }
    out->def.summary = Str("summary");
    info.definition_hash = Fnv1a(id_, HashNode(n_));

    std::vector<LogSourceConstraint> logsource;
    if (!LogSource(&logsource)) return false;
    std::vector<std::string> group_by;
    if (n_["group_by"] && !StringList(n_["group_by"], &group_by)) {
      return Error(n_["group_by"], "'group_by' must be a list of field names");
    }
    if (n_["suppress"]) {
      if (!n_["suppress"].IsScalar() ||
          !ParseDuration(n_["suppress"].Scalar(), &out->def.suppress_ns)) {
        return Error(n_["suppress"], "'suppress' must be a duration like 10m");
      }
    }
    // Selections (for `condition` and sequence steps).
    std::map<std::string, YAML::Node> selections;
    std::vector<std::string> names;
    if (n_["selections"]) {
      if (!n_["selections"].IsMap()) return Error(n_["selections"], "'selections' must be a map");
      for (auto it = n_["selections"].begin(); it != n_["selections"].end(); ++it) {
        names.push_back(it->first.Scalar());
        selections[it->first.Scalar()] = it->second;
      }
    }
    // `absence: {group_by, after}` is shorthand for `correlation: {type: absence, ...}`.
    const bool absence = static_cast<bool>(n_["absence"]);
    if (absence && n_["correlation"]) {
      return Error(n_["absence"], "use either 'absence' or 'correlation'");
    }
    const YAML::Node corr = absence ? n_["absence"] : n_["correlation"];
    std::string type = "match";
    if (corr) {
      if (!corr.IsMap()) {
        return Error(corr, absence ? "'absence' must be a map {group_by: [...], after: DURATION}"
                                   : "'correlation' must be a map");
      }
      type = absence                                   ? "absence"
             : corr["type"] && corr["type"].IsScalar() ? corr["type"].Scalar()
                                                       : "";
      for (auto it = corr.begin(); it != corr.end(); ++it) {
        static const std::set<std::string> kKeys = {"type",  "group_by", "window", "after",
                                                    "count", "field",    "steps"};
        static const std::set<std::string> kAbsenceKeys = {"group_by", "after"};
        if (!(absence ? kAbsenceKeys : kKeys).count(it->first.Scalar())) {
          return Error(it->first, "unknown key '" + it->first.Scalar() + "' in " +
                                      (absence ? "absence" : "correlation"));
        }
      }
      if (corr["group_by"]) {
        group_by.clear();
        if (!StringList(corr["group_by"], &group_by)) {
          return Error(corr["group_by"], "'group_by' must be a list of field names");
        }
      }
    }
    info.kind = type;
    if (type == "sequence") {
      // A step is a selection name, or {selection: NAME, count: N} (N occurrences in order).
      std::vector<std::string> steps;
      const YAML::Node sn = corr["steps"];
      if (!sn || !sn.IsSequence() || sn.size() < 2) {
        return Error(sn ? sn : corr,
                     "a sequence needs 'steps': a list of at least two selection names");
      }
      for (const auto& step : sn) {
        std::uint64_t count = 1;
        if (step.IsScalar()) {
          steps.push_back(step.Scalar());
        } else if (step.IsMap()) {
          for (auto it = step.begin(); it != step.end(); ++it) {
            if (it->first.Scalar() != "selection" && it->first.Scalar() != "count") {
              return Error(it->first, "unknown key '" + it->first.Scalar() +
                                          "' in a sequence step (selection, count)");
            }
          }
          if (!step["selection"] || !step["selection"].IsScalar()) {
            return Error(step, "a sequence step map needs 'selection: NAME'");
          }
          steps.push_back(step["selection"].Scalar());
          if (step["count"]) {
            const std::string c = step["count"].IsScalar() ? step["count"].Scalar() : "";
            if (c.size() > 9 || !ParseCount(c, &count) || count == 0) {
              return Error(step["count"], "a step's 'count' must be a positive integer");
            }
          }
        } else {
          return Error(step, "a sequence step is a selection name or {selection: NAME, count: N}");
        }
        out->def.step_counts.push_back(count);
      }
      for (auto& s : steps) {
        auto it = selections.find(s);
        if (it == selections.end()) return Error(corr["steps"], "unknown selection '" + s + "'");
        DetectorDef d;
        d.logsource = logsource;
        if (!Match(it->second, &d, &d.cond)) return false;
        out->def.inputs.push_back(static_cast<int>(out->detectors.size()));
        out->detectors.push_back(std::move(d));
      }
      out->def.corr = CorrType::kOrdered;
    } else {
      DetectorDef d;
      d.logsource = logsource;
      if (n_["match"] && n_["condition"]) {
        return Error(n_["condition"], "use either 'match' or 'selections' + 'condition'");
      }
      if (n_["match"]) {
        if (!Match(n_["match"], &d, &d.cond)) return false;
      } else if (n_["condition"]) {
        if (!Condition(selections, names, &d)) return false;
      } else if (type == "absence") {
        d.cond = ExprDef::Of(ExprDef::Kind::kTrue);  // every event of the log source counts
      } else {
        return Error(n_, "missing 'match' (or 'selections' and 'condition')");
      }
      out->def.inputs.push_back(0);
      out->detectors.push_back(std::move(d));
      if (type == "threshold" || type == "distinct") {
        out->def.corr = type == "threshold" ? CorrType::kCount : CorrType::kDistinct;
        std::string count = corr["count"] && corr["count"].IsScalar() ? corr["count"].Scalar() : "";
        if (!ParseCount(count, &out->def.threshold) || out->def.threshold == 0) {
          return Error(corr["count"] ? corr["count"] : corr, "'count' must be a positive integer");
        }
        if (out->def.threshold > kMaxGroupEvents) {
          return Error(corr["count"], "'count' must be at most " + std::to_string(kMaxGroupEvents) +
                                          " (the events a group keeps of its window)");
        }
        if (type == "distinct") {
          std::string field =
              corr["field"] && corr["field"].IsScalar() ? corr["field"].Scalar() : "";
          if (field.empty()) return Error(corr, "a distinct correlation needs 'field'");
          out->def.distinct_keys = {field};
        }
      } else if (type == "absence") {
        out->def.corr = CorrType::kAbsence;
      } else if (type != "match") {
        return Error(
            corr["type"] ? corr["type"] : corr,
            "unknown correlation type '" + type + "' (threshold, distinct, sequence, absence)");
      }
    }
    if (out->def.corr == CorrType::kAbsence) {
      // `after` (or `window` in the correlation form): the silence that raises the alert.
      const YAML::Node a = corr["after"] ? corr["after"] : corr["window"];
      if (!a || !a.IsScalar() || !ParseDuration(a.Scalar(), &out->def.window_ns) ||
          out->def.window_ns <= 0) {
        return Error(a ? a : corr, "'after' must be a duration like 15m");
      }
    } else if (out->def.corr != CorrType::kNone) {
      std::string w = corr["window"] && corr["window"].IsScalar() ? corr["window"].Scalar() : "";
      if (!ParseDuration(w, &out->def.window_ns)) {
        return Error(corr["window"] ? corr["window"] : corr, "'window' must be a duration like 5m");
      }
    }
    out->def.group_by_names = group_by;
    out->def.group_by_keys.assign(out->def.inputs.size(), group_by);
    if (out->def.corr == CorrType::kDistinct) {
      out->def.distinct_keys.resize(out->def.inputs.size(), out->def.distinct_keys[0]);
    }
    return Samples(&out->samples);
  }

  const std::string& id() const { return id_; }

 private:
  bool Error(const YAML::Node& at, std::string m) {
    diags_.Add(Level::kError, at, id_, std::move(m));
    return false;
  }
  void Warn(const YAML::Node& at, std::string m) {
    diags_.Add(Level::kWarning, at, id_, std::move(m));
  }
  std::string Str(const char* key) {
    const YAML::Node v = n_[key];
    return v && v.IsScalar() ? v.Scalar() : "";
  }

  bool LogSource(std::vector<LogSourceConstraint>* out) {
    const YAML::Node ls = n_["logsource"];
    if (!ls) return true;
    if (!ls.IsMap()) return Error(ls, "'logsource' must be a map");
    std::string product, category, service;
    for (auto it = ls.begin(); it != ls.end(); ++it) {
      std::string k = it->first.Scalar();
      std::vector<std::string> values;
      if (!StringList(it->second, &values)) {
        return Error(it->second, "logsource '" + k + "' must be a value or a list of values");
      }
      if (k == "product" || k == "category" || k == "service") {
        if (values.size() != 1) return Error(it->second, "logsource '" + k + "' takes one value");
        (k == "product" ? product : k == "category" ? category : service) = values[0];
      } else {
        out->push_back(LogSourceConstraint{k, values});
      }
    }
    std::vector<std::string> unmapped;
    auto cs = options_.sigma_mapping.Constraints(product, category, service, &unmapped);
    for (auto& u : unmapped) Warn(ls, "logsource " + u + " is not in the mapping; not restricted");
    out->insert(out->end(), cs.begin(), cs.end());
    return true;
  }

  bool Condition(const std::map<std::string, YAML::Node>& selections,
                 const std::vector<std::string>& names, DetectorDef* d) {
    std::map<std::string, ExprDef> built;
    for (auto& [name, node] : selections) {
      ExprDef e;
      if (!Match(node, d, &e)) return false;
      built[name] = std::move(e);
    }
    const YAML::Node c = n_["condition"];
    if (!c.IsScalar()) return Error(c, "'condition' must be a string");
    auto r = ParseCondition(c.Scalar(), names, [&](const std::string& n) { return built[n]; });
    if (!r.ok()) return Error(c, r.status().message());
    d->cond = std::move(r.value());
    return true;
  }

  // A match map: fields ANDed; `all`, `any`, `not` compose.
  bool Match(const YAML::Node& m, DetectorDef* d, ExprDef* out) {
    if (m.IsSequence()) {  // a list of match maps: any of
      std::vector<ExprDef> kids;
      for (const auto& item : m) {
        ExprDef e;
        if (!Match(item, d, &e)) return false;
        kids.push_back(std::move(e));
      }
      *out = ExprDef::Of(ExprDef::Kind::kOr, std::move(kids));
      return true;
    }
    if (!m.IsMap()) return Error(m, "a match must be a map of field: condition");
    std::vector<ExprDef> kids;
    for (auto it = m.begin(); it != m.end(); ++it) {
      std::string key = it->first.Scalar();
      const YAML::Node v = it->second;
      ExprDef e;
      if (key == "all" || key == "any") {
        if (!v.IsSequence()) return Error(v, "'" + key + "' takes a list of match maps");
        std::vector<ExprDef> sub;
        for (const auto& item : v) {
          ExprDef s;
          if (!Match(item, d, &s)) return false;
          sub.push_back(std::move(s));
        }
        e = ExprDef::Of(key == "all" ? ExprDef::Kind::kAnd : ExprDef::Kind::kOr, std::move(sub));
      } else if (key == "not") {
        ExprDef s;
        if (!Match(v, d, &s)) return false;
        e = ExprDef::Of(ExprDef::Kind::kNot, {std::move(s)});
      } else if (!Value(key, v, d, &e)) {
        return false;
      }
      kids.push_back(std::move(e));
    }
    *out =
        kids.size() == 1 ? std::move(kids[0]) : ExprDef::Of(ExprDef::Kind::kAnd, std::move(kids));
    return true;
  }

  int AddLeaf(DetectorDef* d, LeafDef l) {
    d->leaves.push_back(std::move(l));
    return static_cast<int>(d->leaves.size()) - 1;
  }

  bool Regex(const YAML::Node& at, const std::string& pattern, bool icase, LeafDef* l) {
    std::string p = icase ? "(?i)" + pattern : pattern;
    std::string err;
    if (!CheckRegex(p, &err)) return Error(at, "bad regular expression '" + pattern + "': " + err);
    l->patterns.push_back({true, p});
    l->capture = true;
    return true;
  }

  // `field: value`, `field: [values]`, `field: {op: value, ...}`.
  bool Value(const std::string& field, const YAML::Node& v, DetectorDef* d, ExprDef* out) {
    if (v.IsMap()) return Ops(field, v, d, out);
    if (v.IsNull()) {
      LeafDef l;
      l.kind = LeafDef::Kind::kEmpty;
      l.field = field;
      *out = ExprDef::Leaf(AddLeaf(d, std::move(l)));
      return true;
    }
    std::vector<YAML::Node> items;
    if (v.IsSequence()) {
      for (const auto& i : v) items.push_back(i);
    } else {
      items.push_back(v);
    }
    LeafDef str;
    str.kind = LeafDef::Kind::kString;
    str.field = field;
    LeafDef cidr;
    cidr.kind = LeafDef::Kind::kCidr;
    cidr.field = field;
    for (const auto& i : items) {
      if (!i.IsScalar()) return Error(i, "a list of values must hold plain values");
      const std::string& s = i.Scalar();
      if (s.starts_with("re:")) {
        if (!Regex(i, s.substr(3), false, &str)) return false;
      } else if (s.starts_with("cidr:")) {
        Cidr c;
        if (!ParseCidr(s.substr(5), &c)) return Error(i, "bad CIDR '" + s.substr(5) + "'");
        cidr.cidrs.push_back(c);
      } else {
        str.patterns.push_back({false, s});
      }
    }
    std::vector<ExprDef> kids;
    if (!str.patterns.empty()) kids.push_back(ExprDef::Leaf(AddLeaf(d, std::move(str))));
    if (!cidr.cidrs.empty()) kids.push_back(ExprDef::Leaf(AddLeaf(d, std::move(cidr))));
    if (kids.empty()) return Error(v, "empty list of values for '" + field + "'");
    *out = kids.size() == 1 ? std::move(kids[0]) : ExprDef::Of(ExprDef::Kind::kOr, std::move(kids));
    return true;
  }

  bool Ops(const std::string& field, const YAML::Node& m, DetectorDef* d, ExprDef* out) {
    bool icase = m["icase"] && m["icase"].IsScalar() && m["icase"].Scalar() == "true";
    std::vector<ExprDef> kids;
    if (m["within"] || m["outside"] || m["days"] || m["timezone"]) {
      LeafDef l;
      if (!TimeWindow(field, m, &l)) return false;
      kids.push_back(ExprDef::Leaf(AddLeaf(d, std::move(l))));
    }
    for (auto it = m.begin(); it != m.end(); ++it) {
      const std::string op = it->first.Scalar();
      const YAML::Node v = it->second;
      if (op == "icase" || op == "within" || op == "outside" || op == "days" || op == "timezone") {
        continue;
      }
      std::vector<std::string> vals;
      if (!StringList(v, &vals) || vals.empty()) {
        return Error(v, "'" + op + "' takes a value or a list of values");
      }
      LeafDef l;
      l.field = field;
      if (op == "eq") {
        l.case_insensitive = icase;
        for (auto& s : vals) l.patterns.push_back({false, s});
      } else if (op == "contains" || op == "startswith" || op == "endswith") {
        for (auto& s : vals) {
          std::string p =
              (op == "startswith" ? "^" : "") + QuoteRegex(s) + (op == "endswith" ? "$" : "");
          l.patterns.push_back({true, (icase ? "(?i)" : "") + p});
        }
      } else if (op == "re") {
        for (auto& s : vals) {
          if (!Regex(v, s, icase, &l)) return false;
        }
      } else if (op == "cidr") {
        l.kind = LeafDef::Kind::kCidr;
        for (auto& s : vals) {
          Cidr c;
          if (!ParseCidr(s, &c)) return Error(v, "bad CIDR '" + s + "'");
          l.cidrs.push_back(c);
        }
      } else if (op == "gt" || op == "gte" || op == "lt" || op == "lte") {
        l.kind = LeafDef::Kind::kNumeric;
        l.num_op = op == "gt"    ? LeafDef::NumOp::kGt
                   : op == "gte" ? LeafDef::NumOp::kGte
                   : op == "lt"  ? LeafDef::NumOp::kLt
                                 : LeafDef::NumOp::kLte;
        char* end = nullptr;
        l.number = std::strtod(vals[0].c_str(), &end);
        if (vals.size() != 1 || end == vals[0].c_str() || *end != '\0') {
          return Error(v, "'" + op + "' takes a number");
        }
      } else if (op == "exists") {
        l.kind = LeafDef::Kind::kExists;
        if (vals[0] != "true" && vals[0] != "false")
          return Error(v, "'exists' takes true or false");
        l.exists = vals[0] == "true";
      } else {
        return Error(it->first, "unknown operator '" + op +
                                    "' (eq, contains, startswith, endswith, re, cidr, gt, gte, "
                                    "lt, lte, exists, icase, within, outside, days, timezone)");
      }
      kids.push_back(ExprDef::Leaf(AddLeaf(d, std::move(l))));
    }
    if (kids.empty()) return Error(m, "no operator for '" + field + "'");
    *out =
        kids.size() == 1 ? std::move(kids[0]) : ExprDef::Of(ExprDef::Kind::kAnd, std::move(kids));
    return true;
  }

  // `{within|outside: 'HH:MM-HH:MM', days: [mon, ...] or 'mon-fri', timezone: '+09:00'}` on
  // `event_time` (the event's time) or a field holding an RFC 3339 time.
  bool TimeWindow(const std::string& field, const YAML::Node& m, LeafDef* l) {
    l->kind = LeafDef::Kind::kTime;
    l->field = field;
    if (m["within"] && m["outside"]) return Error(m, "use either 'within' or 'outside'");
    const YAML::Node range = m["within"] ? m["within"] : m["outside"];
    l->outside = static_cast<bool>(m["outside"]);
    if (range) {
      auto minutes = [](std::string_view t, int* out) {
        if (t.size() != 5 || t[2] != ':') return false;
        for (int i : {0, 1, 3, 4}) {
          if (t[i] < '0' || t[i] > '9') return false;
        }
        int h = (t[0] - '0') * 10 + (t[1] - '0'), mi = (t[3] - '0') * 10 + (t[4] - '0');
        if (mi > 59 || h > 24 || (h == 24 && mi != 0)) return false;
        *out = h * 60 + mi;
        return true;
      };
      const std::string r = range.IsScalar() ? range.Scalar() : "";
      const size_t dash = r.find('-');
      if (dash == std::string::npos ||
          !minutes(std::string_view(r).substr(0, dash), &l->from_min) ||
          !minutes(std::string_view(r).substr(dash + 1), &l->to_min) || l->from_min == l->to_min) {
        return Error(range,
                     "a time range is 'HH:MM-HH:MM' (e.g. '08:00-19:00'; past midnight: "
                     "'22:00-06:00')");
      }
    }
    if (m["days"]) {
      static const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
      auto day = [](std::string s) {
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (int i = 0; i < 7; ++i) {
          if (s == kDays[i]) return i;
        }
        return -1;
      };
      std::vector<std::string> items;
      if (!StringList(m["days"], &items) || items.empty()) {
        return Error(m["days"], "'days' takes day names (mon, tue, ...) or a range 'mon-fri'");
      }
      l->days = 0;
      for (const auto& item : items) {
        const size_t dash = item.find('-');
        const int a = day(item.substr(0, dash));
        const int b = dash == std::string::npos ? a : day(item.substr(dash + 1));
        if (a < 0 || b < 0) {
          return Error(m["days"], "unknown day '" + item + "' (sun, mon, tue, wed, thu, fri, sat)");
        }
        for (int i = a;; i = (i + 1) % 7) {
          l->days |= static_cast<std::uint8_t>(1u << i);
          if (i == b) break;
        }
      }
    }
    if (m["timezone"]) {
      auto tz =
          m["timezone"].IsScalar() ? ParseUtcOffset(m["timezone"].Scalar()) : ParseUtcOffset("");
      if (!tz.ok()) {
        return Error(m["timezone"], "'timezone' is a UTC offset like '+09:00' or 'UTC'");
      }
      l->tz_minutes = *tz;
    }
    return true;
  }

  bool Samples(std::vector<RuleSample>* out) {
    const YAML::Node t = n_["tests"];
    if (!t) return true;
    if (!t.IsMap()) return Error(t, "'tests' must be a map with 'match' and 'no_match' lists");
    for (auto it = t.begin(); it != t.end(); ++it) {
      std::string k = it->first.Scalar();
      if (k != "match" && k != "no_match")
        return Error(it->first, "unknown key '" + k + "' in tests");
      if (!it->second.IsSequence()) return Error(it->second, "'" + k + "' must be a list of lines");
      const YAML::Node lines = it->second;  // a range-for over `it->second` outlives the proxy
      for (const auto& line : lines) {
        if (!line.IsScalar()) return Error(line, "a sample must be a string");
        out->push_back(RuleSample{id_, k == "match", line.Scalar(), diags_.file(),
                                  line.Mark().line + 1 + diags_.line_offset()});
      }
    }
    return true;
  }

  const YAML::Node& n_;
  Diags& diags_;
  const LoadOptions& options_;
  std::string id_;
};

}  // namespace

bool Collected::Commit(PendingRule rule, Diags& diags, const YAML::Node& at) {
  const std::string& id = rule.def.info.id;
  auto it = where.find(id);
  if (it != where.end()) {
    diags.Add(Diagnostic::Level::kError, at, id,
              "duplicate rule id (first defined at " + it->second.first + ":" +
                  std::to_string(it->second.second) + ")");
    return false;
  }
  where[id] = {diags.file(), at.Mark().line + 1 + diags.line_offset()};
  int base = static_cast<int>(def.detectors.size());
  for (auto& d : rule.detectors) def.detectors.push_back(std::move(d));
  if (!rule.detectors.empty()) {
    for (auto& i : rule.def.inputs) i += base;
  }
  def.rules.push_back(std::move(rule.def));
  for (auto& s : rule.samples) def.samples.push_back(std::move(s));
  return true;
}

void CollectNative(const YAML::Node& doc, Diags& diags, const LoadOptions& options,
                   Collected* out) {
  std::vector<YAML::Node> rules;
  if (doc.IsMap() && doc["rules"]) {
    if (!doc["rules"].IsSequence()) {
      diags.Add(Diagnostic::Level::kError, doc["rules"], "", "'rules' must be a list of rules");
      return;
    }
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      if (it->first.Scalar() != "rules") {
        diags.Add(Diagnostic::Level::kWarning, it->first, "",
                  "unknown top-level key '" + it->first.Scalar() + "' (ignored)");
      }
    }
    for (const auto& r : doc["rules"]) rules.push_back(r);
  } else if (doc.IsSequence()) {
    for (const auto& r : doc) rules.push_back(r);
  } else if (doc.IsMap()) {
    rules.push_back(doc);
  } else if (!doc.IsNull()) {
    diags.Add(Diagnostic::Level::kError, doc, "", "a rule file holds a map or a list of rules");
    return;
  }
  for (const auto& r : rules) {
    PendingRule p;
    NativeRule nr(r, diags, options);
    try {
      if (nr.Build(&p)) out->Commit(std::move(p), diags, r);
    } catch (const YAML::Exception& e) {
      diags.Add(Diagnostic::Level::kError, e.mark, nr.id(),
                std::string("malformed rule: ") + e.msg);
    }
  }
}

}  // namespace mamori::rules::internal
