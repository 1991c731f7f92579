// The streaming engine: per-event evaluation over the compiled rule set, correlation state,
// suppression and statistics.
#include "mamori/rules/engine.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <list>
#include <unordered_map>

#include "compiled.h"
#include "mamori/core/time_util.h"

namespace mamori::rules {

using internal::Compiled;
using internal::CompiledRule;
using internal::CorrType;
using internal::ExprDef;
using internal::LeafDef;

namespace {

constexpr std::size_t kMaxHitsPerGroup = internal::kMaxGroupEvents;
constexpr std::int64_t kNoTime = INT64_MIN;

// A map with least-recently-used order: front = most recent.
template <typename V>
class LruMap {
 public:
  struct Entry {
    std::string key;
    V value;
  };
  // Finds or inserts `key` and makes it the most recent. *evicted counts evictions past `cap`.
  V& Touch(const std::string& key, std::size_t cap, std::uint64_t* evicted) {
    auto it = index_.find(key);
    if (it != index_.end()) {
      list_.splice(list_.begin(), list_, it->second);
      return it->second->value;
    }
    while (!list_.empty() && list_.size() >= cap) {
      index_.erase(list_.back().key);
      list_.pop_back();
      ++*evicted;
    }
    list_.push_front(Entry{key, V{}});
    index_.emplace(key, list_.begin());
    return list_.front().value;
  }
  V* Find(const std::string& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->value;
  }
  // Removes the least recent entries while pred(value) holds.
  template <typename Pred>
  void ExpireWhile(Pred pred) {
    while (!list_.empty() && pred(list_.back().value)) {
      index_.erase(list_.back().key);
      list_.pop_back();
    }
  }
  // Removes the least recent entries while pred(value) holds, moving them into *out.
  template <typename Pred>
  void PopWhile(Pred pred, std::vector<std::pair<std::string, V>>* out) {
    while (!list_.empty() && pred(list_.back().value)) {
      index_.erase(list_.back().key);
      out->emplace_back(std::move(list_.back().key), std::move(list_.back().value));
      list_.pop_back();
    }
  }
  void Erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    list_.erase(it->second);
    index_.erase(it);
  }
  std::size_t size() const { return list_.size(); }

 private:
  std::list<Entry> list_;
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

struct Hit {
  std::int64_t t;
  std::uint64_t seq;
  int input;
  std::string value;
  // Sum / average: the field's number, and the events it stands for (a hit pushed out of a full
  // group is merged into the next one, so that totals stay exact; see Correlate).
  double x = 0;
  std::uint64_t n = 1;
};

struct Group {
  std::int64_t last_t = kNoTime;
  std::deque<Hit> hits;
  std::unordered_map<std::string, int> values;  // distinct, share: value -> hits holding it
  double sum = 0;                               // sum, average: over `hits`
  std::uint64_t n = 0;                          // sum, average: events in `hits`
  std::vector<int> input_hits;                  // temporal: per input
  // Ordered: per step, the start time, last time and evidence of the latest chain through it.
  std::vector<std::int64_t> chain_start, chain_last;
  std::vector<std::vector<std::uint64_t>> chain_seqs;
  // Ordered steps with a count: occurrences of step i since step i - 1 last completed (the
  // completion is identified by its chain_last), and their evidence. Step 0 uses `hits`.
  std::vector<std::uint64_t> step_seen;
  std::vector<std::int64_t> step_after;
  std::vector<std::vector<std::uint64_t>> step_seqs;
  std::vector<Field> key_fields;
  std::uint64_t last_seq = 0;  // absence: the last matching record
};

struct RuleState {
  LruMap<Group> groups;
  LruMap<std::int64_t> suppress;  // group key -> time of the last alert
  RuleStats stats;
  std::int64_t watermark = kNoTime;
  std::int64_t watermark_wall = kNoTime;  // wall time (Wall()) when the watermark last advanced
};

// The wall time of a record: when it was received, or its event time when that is unknown.
std::int64_t Wall(const Record& r) {
  return r.raw.received_ns != 0 ? r.raw.received_ns : r.event.event_time_ns;
}

// ASCII case-insensitive equality.
bool FoldEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

bool ParseNumber(std::string_view s, double* out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    unsigned long long v = 0;
    auto [p, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), v, 16);
    if (ec != std::errc() || p != s.data() + s.size()) return false;
    *out = static_cast<double>(v);
    return true;
  }
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string Expand(const std::string& tmpl, const std::vector<Field>& fields, const Record& r) {
  std::string out;
  std::string scratch;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '{') {
      size_t end = tmpl.find('}', i);
      if (end != std::string::npos) {
        std::string name = tmpl.substr(i + 1, end - i - 1);
        std::string_view v;
        bool found = false;
        for (auto& f : fields) {
          if (f.key == name) {
            v = f.value;
            found = true;
            break;
          }
        }
        if (!found) found = internal::Resolve(internal::FieldRef::Of(name), r, &scratch, &v);
        out.append(found ? v : std::string_view("-"));
        i = end;
        continue;
      }
    }
    out.push_back(tmpl[i]);
  }
  return out;
}

}  // namespace

struct Engine::State {
  const Compiled* c = nullptr;
  std::uint64_t* regex_runs = nullptr;  // EngineStats::regex_runs of the owning Engine
  std::uint32_t since_timed = 0;        // events since the last timed one
  std::vector<std::uint32_t> leaf_hit;
  std::vector<std::uint32_t> leaf_done;  // lazy leaves evaluated for this event
  std::vector<std::uint32_t> matcher_done;
  std::vector<std::uint32_t> matcher_wanted;  // == epoch: an admitting group triggers on it
  std::vector<std::uint32_t> group_ok;
  std::vector<std::uint32_t> detector_queued;
  std::vector<std::uint32_t> pattern_hit;
  // The per-event field index: slot -> the event's value (valid when slot_epoch == epoch).
  std::vector<std::uint32_t> slot_epoch;
  std::vector<const std::string*> slot_value;
  std::vector<int> present;  // slots filled for this event, in event order
  std::vector<int> candidates;
  std::uint32_t epoch = 0;
  std::vector<int> hits, atoms;
  // Potentials(): (matcher, sorted atom ids) as bytes -> FilteredRE2 regexp ids. Bounded: cleared
  // when it holds kPotentialsCacheMax sets (a few hundred KiB at most with short atom sets).
  static constexpr std::size_t kPotentialsCacheMax = 4096;
  std::unordered_map<std::string, std::vector<int>> potentials;
  std::string potentials_key;
  std::string scratch, scratch2, lower, starred;
  std::vector<RuleState> rules;
  const Record* record = nullptr;
  // Log source admission cache: the groups that admit an event depend only on the values (and
  // presence) of the fields the groups' constraints read, so the admitted groups are kept per
  // distinct tuple of those values, in an open-addressing table keyed by a hash of the tuple and
  // verified against the stored tuple. Bounded: at most kAdmissionCacheMax tuples (cleared when
  // full, ~1 MiB with short values); a tuple longer than kAdmissionKeyMax bytes is not cached.
  static constexpr std::size_t kAdmissionCacheMax = 4096;
  static constexpr std::size_t kAdmissionSlots = 2 * kAdmissionCacheMax;  // a power of two
  static constexpr std::size_t kAdmissionKeyMax = 1024;
  // With this many source groups or fewer, the direct lookup (a hash lookup per primary
  // constraint field and a check of the few groups found) costs less than hashing the tuple
  // (measured at 10 corpus rules, 6 groups: the cache costs a syslog line ~100 instructions
  // more than the direct lookup).
  static constexpr std::size_t kAdmissionCacheMinGroups = 8;
  bool use_admission_cache = false;
  static constexpr std::uint32_t kAbsent = 0xffffffffu;
  struct AdmissionEntry {
    std::string bytes;               // the present values, back to back
    std::vector<std::uint32_t> len;  // per field: its value's length, or kAbsent
    std::vector<int> groups;
    // What admitting them does, without duplicates: the matchers their triggers scan and the
    // detectors evaluated on every event.
    std::vector<int> matchers, always;
  };
  struct AdmissionField {
    const internal::FieldRef* field = nullptr;
    const std::string Event::*member = nullptr;  // format, app, host: read directly
    // An event field (no pseudo-field) with slots in the field index: read from the index.
    std::vector<int> slots;
    std::string scratch;     // numeric pseudo-fields
    std::string_view value;  // this event's; data() == nullptr: absent
  };
  std::vector<AdmissionField> admission_fields;
  std::vector<std::uint64_t> admission_slot_hash;  // 0: empty
  std::vector<std::uint32_t> admission_slot_entry;
  std::vector<AdmissionEntry> admission_entries;

  void Reset(const Compiled* compiled) {
    c = compiled;
    potentials.clear();
    admission_entries.clear();
    admission_slot_hash.assign(kAdmissionSlots, 0);
    admission_slot_entry.assign(kAdmissionSlots, 0);
    admission_fields.clear();
    for (const auto& g : c->groups) {
      for (const auto& con : g.constraints) {
        const bool known = std::any_of(
            admission_fields.begin(), admission_fields.end(), [&](const AdmissionField& f) {
              return f.field->pseudo == con.field.pseudo && f.field->keys == con.field.keys;
            });
        if (known) continue;
        AdmissionField& f = admission_fields.emplace_back();
        f.field = &con.field;
        switch (con.field.pseudo) {
          case internal::Pseudo::kFormat:
            f.member = &Event::format;
            break;
          case internal::Pseudo::kApp:
            f.member = &Event::app;
            break;
          case internal::Pseudo::kHost:
            f.member = &Event::host;
            break;
          case internal::Pseudo::kNone:
            f.slots = con.field.slots;
            break;
          default:
            break;
        }
      }
    }
    use_admission_cache = c->groups.size() > kAdmissionCacheMinGroups;
    leaf_hit.assign(c->leaves.size(), 0);
    leaf_done.assign(c->leaves.size(), 0);
    matcher_done.assign(c->matchers.size(), 0);
    matcher_wanted.assign(c->matchers.size(), 0);
    group_ok.assign(c->groups.size(), 0);
    detector_queued.assign(c->detectors.size(), 0);
    pattern_hit.assign(c->patterns, 0);
    slot_epoch.assign(c->key_slots.size(), 0);
    slot_value.assign(c->key_slots.size(), nullptr);
    epoch = 0;
  }

  void NextEpoch() {
    if (++epoch == 0) {
      for (auto* v : {&leaf_hit, &leaf_done, &matcher_done, &matcher_wanted, &group_ok,
                      &detector_queued, &pattern_hit, &slot_epoch}) {
        std::fill(v->begin(), v->end(), 0);
      }
      epoch = 1;
    }
  }

  // Fills the per-event field index from the event's fields (first occurrence of a key wins).
  void IndexFields() {
    present.clear();
    if (c->key_slots.empty()) return;
    auto fill = [&](std::string_view key, const std::string& value) {
      int slot = c->key_slots.Find(key);
      if (slot < 0 || slot_epoch[slot] == epoch) return;
      slot_epoch[slot] = epoch;
      slot_value[slot] = &value;
      present.push_back(slot);
    };
    for (const auto& f : record->event.fields) {
      fill(f.key, f.value);
      for (const auto& sp : c->star_prefixes) {
        const std::string& prefix = sp.text;
        if (f.key.size() <= prefix.size()) continue;
        if (prefix.size() >= 8) {
          std::uint64_t w;
          std::memcpy(&w, f.key.data() + prefix.size() - 8, 8);
          if (w != sp.tail8) continue;
        }
        if (!f.key.starts_with(prefix)) continue;
        size_t dot = f.key.find('.', prefix.size());
        if (dot == std::string::npos) continue;
        starred.assign(prefix);
        starred += '*';
        starred.append(f.key, dot, std::string::npos);
        fill(starred, f.value);
      }
    }
  }

  // Resolve() through the field index.
  bool Get(const internal::FieldRef& f, std::string* buf, std::string_view* out) {
    const Event& e = record->event;
    auto non_empty = [&](const std::string& v) {
      *out = v;
      return !v.empty();
    };
    switch (f.pseudo) {  // the common members inline, the rest through Resolve
      case internal::Pseudo::kNone:
        if (f.slots.empty()) return internal::Resolve(f, *record, buf, out);
        break;
      case internal::Pseudo::kFormat:
        return non_empty(e.format);
      case internal::Pseudo::kApp:
        return non_empty(e.app);
      case internal::Pseudo::kHost:
        return non_empty(e.host);
      case internal::Pseudo::kMessage:
        *out = e.message;
        return true;
      case internal::Pseudo::kKeywords:
        *out =
            e.message.empty() ? std::string_view(record->raw.bytes) : std::string_view(e.message);
        return true;
      default:
        return internal::Resolve(f, *record, buf, out);
    }
    for (int slot : f.slots) {
      if (slot_epoch[slot] == epoch) {
        *out = *slot_value[slot];
        return true;
      }
    }
    return false;
  }

  void Hit(int l) {
    leaf_hit[l] = epoch;
    for (int det : c->leaf_triggers[l]) Queue(det);
  }
  void Queue(int det) {
    if (detector_queued[det] == epoch || group_ok[c->detector_group[det]] != epoch) return;
    detector_queued[det] = epoch;
    candidates.push_back(det);
  }
  void PatternHit(const internal::FieldMatcher& fm, int p) {
    std::uint32_t& stamp = pattern_hit[fm.pattern_base + p];
    if (stamp == epoch) return;
    stamp = epoch;
    for (int l : fm.pattern_leaves[p]) Hit(l);
  }
  // Whether a source group that admitted the event scans this matcher eagerly.
  bool Wanted(int m) const { return matcher_wanted[m] == epoch; }

  static bool VerifyLiteral(const internal::LiteralPattern& lit, std::string_view v,
                            std::size_t start) {
    if (start + lit.text.size() > v.size()) return false;
    if (lit.anchor_start && start != 0) return false;
    if (lit.anchor_end && start + lit.text.size() != v.size()) return false;
    if (!lit.case_insensitive) return v.compare(start, lit.text.size(), lit.text) == 0;
    for (std::size_t i = lit.key_len; i < lit.text.size(); ++i) {  // the key matched folded
      char a = v[start + i], b = lit.text[i];
      if (a >= 'A' && a <= 'Z') a = static_cast<char>(a + 32);
      if (b >= 'A' && b <= 'Z') b = static_cast<char>(b + 32);
      if (a != b) return false;
    }
    return true;
  }

  void Scan(int m) {
    matcher_done[m] = epoch;
    const auto& fm = c->matchers[m];
    std::string_view v;
    if (!Get(fm.field, &scratch, &v)) return;
    if (!fm.exact.empty()) {  // (most matchers have no exact values: no call)
      if (int e = fm.exact.Find(v); e >= 0) {
        for (int l : fm.exact_leaves[e]) Hit(l);
      }
    }
    if (!fm.exact_ci.empty()) {
      if (int e = fm.exact_ci.Find(v); e >= 0) {
        for (int l : fm.exact_ci_leaves[e]) Hit(l);
      }
    }
    for (const auto& lit : fm.empty_literals) {
      if (VerifyLiteral(lit, v, lit.anchor_end ? v.size() : 0)) PatternHit(fm, lit.pattern);
    }
    atoms.clear();
    const int n_literals = static_cast<int>(fm.literals.size());
    fm.scanner.Scan(v, [&](int key, std::size_t end) {
      if (key >= n_literals) {
        atoms.push_back(key - n_literals);
        return;
      }
      const auto& lit = fm.literals[key];
      if (VerifyLiteral(lit, v, end - lit.key_len)) PatternHit(fm, lit.pattern);
    });
    if (fm.filtered == nullptr) return;
    auto run = [&](int id) {
      ++*regex_runs;
      if (RE2::PartialMatch(v, fm.filtered->GetRE2(id))) PatternHit(fm, fm.filtered_pattern[id]);
    };
    for (int id : fm.unfiltered) run(id);
    if (atoms.empty()) return;
    std::sort(atoms.begin(), atoms.end());
    atoms.erase(std::unique(atoms.begin(), atoms.end()), atoms.end());
    for (int id : Potentials(m, fm)) {
      if (pattern_hit[fm.pattern_base + fm.filtered_pattern[id]] != epoch) run(id);
    }
  }

  // FilteredRE2::AllPotentials(atoms) for matcher m, cached per distinct atom set: RE2 builds
  // two sparse arrays the size of its prefilter tree on every call (~1,800 instructions, a fifth
  // of the rule stage in the pipeline benchmark), and log lines repeat a handful of atom sets.
  const std::vector<int>& Potentials(int m, const internal::FieldMatcher& fm) {
    potentials_key.resize(sizeof(int) * (atoms.size() + 1));
    std::memcpy(potentials_key.data(), &m, sizeof(int));
    std::memcpy(potentials_key.data() + sizeof(int), atoms.data(), sizeof(int) * atoms.size());
    if (auto it = potentials.find(potentials_key); it != potentials.end()) return it->second;
    if (potentials.size() >= kPotentialsCacheMax) potentials.clear();
    std::vector<int>& ids = potentials[potentials_key];
    fm.filtered->AllPotentials(atoms, &ids);
    return ids;
  }

  // A lazy leaf (compiled.h), once per event: any of its patterns found in the field value.
  bool EvalLazy(int li, const internal::LazyPatterns& z) {
    if (leaf_done[li] == epoch) return leaf_hit[li] == epoch;
    leaf_done[li] = epoch;
    std::string_view v;
    if (!Get(c->leaves[li].field, &scratch, &v)) return false;
    bool m = std::any_of(z.exact.begin(), z.exact.end(), [&](const std::string& e) {
      return z.exact_ci ? FoldEqual(e, v) : e == v;
    });
    if (!m && !z.literals.empty()) {
      AsciiLowerInto(v, &lower);
      m = std::any_of(z.literals.begin(), z.literals.end(),
                      [&](const internal::LiteralPattern& lit) {
                        return FindLiteral(lit, lit.case_insensitive ? std::string_view(lower) : v);
                      });
    }
    m = m || std::any_of(z.regexes.begin(), z.regexes.end(),
                         [&](const std::unique_ptr<RE2>& re) { return RE2::PartialMatch(v, *re); });
    if (m) leaf_hit[li] = epoch;
    return m;
  }

  // Whether the literal occurs in v where its anchors allow. A case-insensitive literal is
  // folded (compiler) and v must be too.
  static bool FindLiteral(const internal::LiteralPattern& lit, std::string_view v) {
    const std::size_t n = lit.text.size();
    if (n > v.size()) return false;
    if (lit.anchor_start && lit.anchor_end) return v.size() == n && v == lit.text;
    if (lit.anchor_start) return v.starts_with(lit.text);
    if (lit.anchor_end) return v.ends_with(lit.text);
    return v.find(lit.text) != std::string_view::npos;
  }
  static void AsciiLowerInto(std::string_view in, std::string* out) {
    internal::AsciiLower(in, out);
  }

  bool EvalLeaf(int li) {
    const auto& l = c->leaves[li];
    switch (l.kind) {
      case LeafDef::Kind::kString:
        if (l.lazy != nullptr) return EvalLazy(li, *l.lazy);
        if (matcher_done[l.matcher] != epoch) Scan(l.matcher);
        return leaf_hit[li] == epoch;
      case LeafDef::Kind::kExists: {
        std::string_view v;
        return Get(l.field, &scratch, &v) == l.exists;
      }
      case LeafDef::Kind::kEmpty: {
        std::string_view v;
        return !Get(l.field, &scratch, &v) || v.empty();
      }
      case LeafDef::Kind::kNumeric: {
        std::string_view v;
        double x;
        if (!Get(l.field, &scratch, &v) || !ParseNumber(v, &x)) {
          return false;
        }
        switch (l.num_op) {
          case LeafDef::NumOp::kGt:
            return x > l.number;
          case LeafDef::NumOp::kGte:
            return x >= l.number;
          case LeafDef::NumOp::kLt:
            return x < l.number;
          case LeafDef::NumOp::kLte:
            return x <= l.number;
          case LeafDef::NumOp::kEq:
            return x == l.number;
        }
        return false;
      }
      case LeafDef::Kind::kCidr: {
        std::string_view v;
        std::array<std::uint8_t, 16> ip;
        if (!Get(l.field, &scratch, &v) || !internal::ParseIp(v, &ip)) {
          return false;
        }
        for (auto& n : l.cidrs) {
          if (internal::CidrContains(n, ip)) return true;
        }
        return false;
      }
      case LeafDef::Kind::kTime: {
        std::int64_t ns = 0;
        if (l.field.pseudo == internal::Pseudo::kEventTime) {
          ns = record->event.event_time_ns;
          if (ns == 0) return false;
        } else {
          std::string_view v;
          if (!Get(l.field, &scratch, &v)) return false;
          auto parsed = ParseRfc3339(v);
          if (!parsed.ok()) return false;
          ns = *parsed;
        }
        constexpr std::int64_t kMin = 60'000'000'000, kDay = 1440 * kMin;
        const std::int64_t local = ns + l.tz_minutes * kMin;
        std::int64_t day = local / kDay;
        if (local % kDay < 0) --day;
        const int minute = static_cast<int>((local - day * kDay) / kMin);
        const int weekday = static_cast<int>(((day + 4) % 7 + 7) % 7);  // 1970-01-01: Thursday
        const bool in_range = l.from_min <= l.to_min ? minute >= l.from_min && minute < l.to_min
                                                     : minute >= l.from_min || minute < l.to_min;
        const bool within = in_range && (l.days >> weekday & 1) != 0;
        return within != l.outside;
      }
      case LeafDef::Kind::kFieldRef: {
        std::string_view a, b;
        if (!Get(l.field, &scratch, &a)) return false;
        if (!Get(l.ref, &scratch2, &b)) return false;
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i) {
          if (std::tolower(static_cast<unsigned char>(a[i])) !=
              std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
          }
        }
        return true;
      }
    }
    return false;
  }

  bool Eval(int ni) {
    const auto& n = c->nodes[ni];
    switch (n.kind) {
      case ExprDef::Kind::kTrue:
        return true;
      case ExprDef::Kind::kFalse:
        return false;
      case ExprDef::Kind::kLeaf:
        return EvalLeaf(n.leaf);
      case ExprDef::Kind::kNot:
        return !Eval(c->kids[n.first_kid]);
      case ExprDef::Kind::kAnd:
        for (int k = 0; k < n.n_kids; ++k) {
          if (!Eval(c->kids[n.first_kid + k])) return false;
        }
        return true;
      case ExprDef::Kind::kOr:
        for (int k = 0; k < n.n_kids; ++k) {
          if (Eval(c->kids[n.first_kid + k])) return true;
        }
        return false;
    }
    return false;
  }

  // Reads the constraint fields into admission_fields[i].value and returns the tuple's hash (never
  // 0), or 0 when the tuple is too long to cache (then the groups are looked up directly).
  std::uint64_t AdmissionHash() {
    std::uint64_t h = 0x9e3779b97f4a7c15ull;
    std::size_t total = 0;
    for (auto& f : admission_fields) {
      std::string_view v;
      bool present = false;
      if (f.member != nullptr) {
        v = record->event.*f.member;
        present = !v.empty();
      } else if (!f.slots.empty()) {  // Get() through the field index, inline
        for (int slot : f.slots) {
          if (slot_epoch[slot] == epoch) {
            v = *slot_value[slot];
            present = true;
            break;
          }
        }
      } else {
        present = Get(*f.field, &f.scratch, &v);
      }
      std::uint64_t x = 0x51ed270b27e1f3b7ull;  // absent
      if (present) {
        total += v.size();
        if (total > kAdmissionKeyMax) return 0;
        x = internal::KeyIndex<false>::Hash(v);
        f.value = v.data() != nullptr ? v : std::string_view("", 0);
      } else {
        f.value = std::string_view();
      }
      h = (h ^ x) * 0xff51afd7ed558ccdull;
      h ^= h >> 32;
    }
    return h | 1;
  }

  // Whether an entry's stored tuple is this event's.
  bool AdmissionSame(const AdmissionEntry& e) const {
    const char* at = e.bytes.data();
    const std::uint32_t* len = e.len.data();
    for (const auto& f : admission_fields) {
      const std::string_view v = f.value;
      const std::uint32_t n = *len++;
      if (v.data() == nullptr) {
        if (n != kAbsent) return false;
        continue;
      }
      if (n != v.size() || !internal::KeyIndex<false>::Equal(std::string_view(at, n), v)) {
        return false;
      }
      at += n;
    }
    return true;
  }

  // The admitted groups of this event's tuple (hash h), or null.
  const AdmissionEntry* AdmissionFind(std::uint64_t h) const {
    for (std::size_t i = h & (kAdmissionSlots - 1);; i = (i + 1) & (kAdmissionSlots - 1)) {
      if (admission_slot_hash[i] == 0) return nullptr;
      if (admission_slot_hash[i] == h) {
        const auto& e = admission_entries[admission_slot_entry[i]];
        if (AdmissionSame(e)) return &e;
      }
    }
  }

  // A new entry for this event's tuple (hash h), to be filled with its admitted groups.
  AdmissionEntry* AdmissionInsert(std::uint64_t h) {
    if (admission_entries.size() >= kAdmissionCacheMax) {
      admission_entries.clear();
      std::fill(admission_slot_hash.begin(), admission_slot_hash.end(), 0);
    }
    std::size_t i = h & (kAdmissionSlots - 1);
    while (admission_slot_hash[i] != 0) i = (i + 1) & (kAdmissionSlots - 1);
    admission_slot_hash[i] = h;
    admission_slot_entry[i] = static_cast<std::uint32_t>(admission_entries.size());
    auto& e = admission_entries.emplace_back();
    for (const auto& f : admission_fields) {
      const std::string_view v = f.value;
      e.len.push_back(v.data() == nullptr ? kAbsent : static_cast<std::uint32_t>(v.size()));
      e.bytes += v;
    }
    return &e;
  }

  bool GroupMatches(const internal::SourceGroup& g) {
    for (size_t i = 0; i < g.constraints.size(); ++i) {
      if (static_cast<int>(i) == g.primary) continue;
      const auto& con = g.constraints[i];
      std::string_view v;
      if (!Get(con.field, &scratch, &v)) return false;
      if (con.values.empty()) continue;
      if (std::none_of(con.values.begin(), con.values.end(),
                       [&](const std::string& want) { return FoldEqual(want, v); })) {
        return false;
      }
    }
    return true;
  }
};

Engine::Engine(std::shared_ptr<const RuleSet> rules, EngineOptions options)
    : rules_(std::move(rules)), options_(options), state_(std::make_unique<State>()) {
  state_->regex_runs = &engine_stats_.regex_runs;
  state_->Reset(&rules_->compiled());
  state_->rules.resize(rules_->size());
}

Engine::~Engine() = default;

void Engine::Reload(std::shared_ptr<const RuleSet> rules) {
  std::unordered_map<std::uint64_t, int> old_by_hash;
  for (size_t i = 0; i < rules_->size(); ++i) {
    old_by_hash[rules_->info(i).definition_hash] = static_cast<int>(i);
  }
  std::vector<RuleState> next(rules->size());
  for (size_t i = 0; i < rules->size(); ++i) {
    auto it = old_by_hash.find(rules->info(i).definition_hash);
    if (it != old_by_hash.end() && rules_->info(it->second).id == rules->info(i).id) {
      next[i] = std::move(state_->rules[it->second]);
    }
  }
  rules_ = std::move(rules);
  state_->Reset(&rules_->compiled());
  state_->rules = std::move(next);
}

std::vector<RuleStats> Engine::Stats() const {
  std::vector<RuleStats> out;
  out.reserve(state_->rules.size());
  for (auto& r : state_->rules) {
    RuleStats s = r.stats;
    s.state_groups = r.groups.size() + r.suppress.size();
    out.push_back(s);
  }
  return out;
}

namespace {

struct Firing {
  std::string group_key;
  std::vector<Field> fields;
  std::vector<std::uint64_t> seqs;
  std::size_t count = 0;
  double metric = 0;  // sum, average, share: the value that crossed the condition
  std::string value;  // share: the event's value of the field
};

// A computed number for alert text: integral values without a fraction.
std::string NumberText(double x) {
  char buf[32];
  if (std::fabs(x) < 1e15 && x == std::floor(x)) {
    std::snprintf(buf, sizeof(buf), "%.0f", x);
  } else {
    std::snprintf(buf, sizeof(buf), "%.6g", x);
  }
  return buf;
}

bool Compare(double x, internal::CmpOp op, double limit) {
  switch (op) {
    case internal::CmpOp::kGt:
      return x > limit;
    case internal::CmpOp::kGte:
      return x >= limit;
    case internal::CmpOp::kLt:
      return x < limit;
    case internal::CmpOp::kLte:
      return x <= limit;
  }
  return false;
}

bool IsMetric(CorrType c) {
  return c == CorrType::kSum || c == CorrType::kAvg || c == CorrType::kPercentile;
}

// The group-by values: a name that is a named capture of the matching patterns takes the
// captured value (when the capture took part in the match), any other the event field. Writes
// the key ("name=value, name=value") to *key and, when `fields` is not null, appends the values
// to *fields. Callers on the per-event path pass a reused key buffer and no fields (no
// allocation once the buffer has grown); the fields are built when a group is new or fires.
void GroupKeyInto(const CompiledRule& rule, int input, const Record& r,
                  const std::vector<Field>& captures, std::string* scratch, std::string* key,
                  std::vector<Field>* fields) {
  key->clear();
  const auto& refs = rule.group_by[input];
  for (size_t k = 0; k < refs.size(); ++k) {
    const std::string& name = rule.def.group_by_names[k];
    std::string_view v;
    auto cap = std::find_if(captures.begin(), captures.end(),
                            [&](const Field& f) { return f.key == name; });
    if (cap != captures.end()) {
      v = cap->value;
    } else if (!internal::Resolve(refs[k], r, scratch, &v)) {
      v = "";
    }
    if (k > 0) key->append(", ");
    key->append(name);
    key->push_back('=');
    key->append(v);
    if (fields != nullptr) fields->push_back(Field{name, std::string(v)});
  }
}

// The key buffer of the per-event path (an Engine is used by one thread).
std::string& KeyBuffer() {
  thread_local std::string key;
  return key;
}

void TakeEvidence(const std::deque<Hit>& hits, std::size_t max, std::vector<std::uint64_t>* out) {
  std::size_t start = hits.size() > max ? hits.size() - max : 0;
  for (std::size_t i = start; i < hits.size(); ++i) out->push_back(hits[i].seq);
}

// Feeds one matching event into a correlation rule; true (and *f filled) when it fires.
bool Correlate(const CompiledRule& rule, int input, const Record& r,
               const std::vector<Field>& captures, RuleState* st, const EngineOptions& opt,
               std::string* scratch, Firing* f) {
  const auto& def = rule.def;
  const std::int64_t t = r.event.event_time_ns;
  if (st->watermark != kNoTime && t < st->watermark - opt.allowed_lateness_ns) {
    ++st->stats.late_events;
    return false;
  }
  if (t >= st->watermark) {
    st->watermark = t;
    st->watermark_wall = Wall(r);
  }
  const std::int64_t horizon = st->watermark - def.window_ns - opt.allowed_lateness_ns;
  st->groups.ExpireWhile([&](const Group& g) { return g.last_t < horizon; });

  std::string& key = KeyBuffer();
  GroupKeyInto(rule, input, r, captures, scratch, &key, nullptr);
  std::string value;
  double x = 0;
  const bool by_value = def.corr == CorrType::kDistinct || def.corr == CorrType::kPercentile;
  const bool by_number = def.corr == CorrType::kSum || def.corr == CorrType::kAvg;
  if (by_value || by_number) {  // an event without the field (or not a number) does not count
    std::string_view v;
    if (!internal::Resolve(rule.distinct[input], r, scratch, &v) || v.empty()) return false;
    if (by_number && !ParseNumber(v, &x)) return false;
    if (by_value) value.assign(v);
  }
  Group& g = st->groups.Touch(key, opt.max_groups_per_rule, &st->stats.evictions);
  g.last_t = std::max(g.last_t, t);
  const std::size_t n_inputs = def.inputs.size();

  auto drop_front = [&]() {
    const Hit& h = g.hits.front();
    if (by_value) {
      auto it = g.values.find(h.value);
      if (it != g.values.end() && --it->second == 0) g.values.erase(it);
    }
    if (by_number) {
      g.sum -= h.x;
      g.n -= h.n;
    }
    if (def.corr == CorrType::kTemporal) --g.input_hits[h.input];
    g.hits.pop_front();
    if (g.hits.empty()) g.sum = 0;  // no rounding left over
  };
  auto reset = [&]() {
    g.hits.clear();
    g.values.clear();
    g.sum = 0;
    g.n = 0;
    std::fill(g.input_hits.begin(), g.input_hits.end(), 0);
    std::fill(g.chain_start.begin(), g.chain_start.end(), kNoTime);
    std::fill(g.step_after.begin(), g.step_after.end(), kNoTime);
  };

  if (def.corr == CorrType::kOrdered) {
    if (g.chain_start.size() != n_inputs) {
      g.chain_start.assign(n_inputs, kNoTime);
      g.chain_last.assign(n_inputs, kNoTime);
      g.chain_seqs.assign(n_inputs, {});
      g.step_seen.assign(n_inputs, 0);
      g.step_after.assign(n_inputs, kNoTime);
      g.step_seqs.assign(n_inputs, {});
    }
    auto need = [&](int step) -> std::uint64_t {
      return static_cast<std::size_t>(step) < def.step_counts.size() ? def.step_counts[step] : 1;
    };
    auto append = [&](std::vector<std::uint64_t>* seqs) {
      if (seqs->size() >= opt.max_evidence && !seqs->empty()) seqs->erase(seqs->begin());
      seqs->push_back(r.seq);
    };
    int i = input;
    if (i == 0) {
      // The last need(0) occurrences, all within the window: the chain starts at the oldest.
      g.hits.push_back(Hit{t, r.seq, 0, {}});
      while (g.hits.size() > need(0)) g.hits.pop_front();
      while (!g.hits.empty() && g.hits.front().t < t - def.window_ns) g.hits.pop_front();
      if (g.hits.size() < need(0)) return false;
      std::int64_t start = t;
      for (const Hit& h : g.hits) start = std::min(start, h.t);
      g.chain_start[0] = start;
      g.chain_last[0] = t;
      g.chain_seqs[0].clear();
      TakeEvidence(g.hits, opt.max_evidence, &g.chain_seqs[0]);
    } else if (g.chain_start[i - 1] != kNoTime && t >= g.chain_last[i - 1] &&
               t - g.chain_start[i - 1] <= def.window_ns) {
      if (g.step_after[i] != g.chain_last[i - 1]) {  // the first since step i - 1 completed
        g.step_after[i] = g.chain_last[i - 1];
        g.step_seen[i] = 0;
        g.step_seqs[i] = g.chain_seqs[i - 1];
      }
      ++g.step_seen[i];
      append(&g.step_seqs[i]);
      if (g.step_seen[i] < need(i)) return false;
      g.chain_start[i] = g.chain_start[i - 1];
      g.chain_last[i] = t;
      g.chain_seqs[i] = g.step_seqs[i];
      g.step_after[i] = kNoTime;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(i) + 1 < n_inputs) return false;
    f->seqs = g.chain_seqs[i];
    f->count = n_inputs;
    GroupKeyInto(rule, input, r, captures, scratch, &f->group_key, &f->fields);
    reset();
    return true;
  }

  if (g.input_hits.size() != n_inputs) g.input_hits.assign(n_inputs, 0);
  g.hits.push_back(Hit{t, r.seq, input, value, x, 1});
  if (by_value) ++g.values[value];
  if (by_number) {
    g.sum += x;
    ++g.n;
  }
  if (def.corr == CorrType::kTemporal) ++g.input_hits[input];
  while (!g.hits.empty() && g.hits.front().t < g.last_t - def.window_ns) drop_front();
  while (g.hits.size() > kMaxHitsPerGroup) {
    if (by_number) {  // merged into the next (later) hit: the totals stay exact, and the merged
                      // events leave the window with that hit (a little late) instead of early
      Hit& next = g.hits[1];
      next.x += g.hits.front().x;
      next.n += g.hits.front().n;
      g.hits.pop_front();
    } else {
      drop_front();
    }
  }
  bool fire = false;
  switch (def.corr) {
    case CorrType::kCount:
      fire = g.hits.size() >= def.threshold;
      break;
    case CorrType::kDistinct:
      fire = g.values.size() >= def.threshold;
      break;
    case CorrType::kTemporal:
      fire = std::all_of(g.input_hits.begin(), g.input_hits.end(), [](int n) { return n > 0; });
      break;
    case CorrType::kSum:
      f->metric = g.sum;
      fire = Compare(g.sum, def.metric_op, def.metric_value);
      break;
    case CorrType::kAvg:
      f->metric = g.sum / static_cast<double>(g.n);
      fire = Compare(f->metric, def.metric_op, def.metric_value);
      break;
    case CorrType::kPercentile:
      f->metric = 100.0 * g.values[value] / static_cast<double>(g.hits.size());
      fire = Compare(f->metric, def.metric_op, def.metric_value);
      break;
    default:
      break;
  }
  if (!fire) return false;
  f->count = def.corr == CorrType::kDistinct ? g.values.size() : by_number ? g.n : g.hits.size();
  if (def.corr == CorrType::kPercentile) {
    f->seqs.push_back(r.seq);  // the event with the rare (or common) value
  } else {
    TakeEvidence(g.hits, opt.max_evidence, &f->seqs);
  }
  GroupKeyInto(rule, input, r, captures, scratch, &f->group_key, &f->fields);
  if (IsMetric(def.corr)) {
    static const char* kNames[] = {"value_sum", "value_avg", "value_percentile"};
    const int k = def.corr == CorrType::kSum ? 0 : def.corr == CorrType::kAvg ? 1 : 2;
    f->fields.push_back(Field{kNames[k], NumberText(f->metric)});
    if (def.corr == CorrType::kPercentile) {
      f->fields.push_back(Field{"value", value});
      f->value = value;
    }
  }
  // A share keeps its baseline: the group's other values stay the reference for the next events.
  if (def.corr != CorrType::kPercentile) reset();
  return true;
}

// Absence: the group is present again (or for the first time), as of the record's wall time.
void SeenForAbsence(const CompiledRule& rule, int input, const Record& r,
                    const std::vector<Field>& captures, RuleState* st, const EngineOptions& opt,
                    std::string* scratch) {
  std::string& key = KeyBuffer();
  GroupKeyInto(rule, input, r, captures, scratch, &key, nullptr);
  Group& g = st->groups.Touch(key, opt.max_groups_per_rule, &st->stats.evictions);
  g.last_t = std::max(g.last_t, Wall(r));
  g.last_seq = r.seq;
  if (g.key_fields.empty() && !rule.group_by[input].empty()) {
    std::string unused;
    GroupKeyInto(rule, input, r, captures, scratch, &unused, &g.key_fields);
  }
}

std::string WindowText(std::int64_t ns) {
  std::int64_t s = ns / 1'000'000'000;
  if (s % 86400 == 0 && s > 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0 && s > 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0 && s > 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

void ExtractCaptures(const Compiled& c, const internal::Detector& d, const Record& r,
                     std::uint32_t epoch, const std::vector<std::uint32_t>& leaf_hit,
                     std::vector<Field>* out) {
  std::string scratch;
  for (int li : d.capture_leaves) {
    if (leaf_hit[li] != epoch) continue;
    const auto& leaf = c.leaves[li];
    std::string_view v;
    if (!internal::Resolve(leaf.field, r, &scratch, &v)) continue;
    for (auto& re : leaf.captures) {
      int n = re->NumberOfCapturingGroups() + 1;
      std::vector<re2::StringPiece> sub(n);
      if (!re->Match(v, 0, v.size(), RE2::UNANCHORED, sub.data(), n)) continue;
      for (auto& [idx, name] : re->CapturingGroupNames()) {
        if (sub[idx].data() != nullptr) out->push_back(Field{name, std::string(sub[idx])});
      }
    }
  }
}

}  // namespace

void Engine::Process(const Record& record, std::vector<Alert>* alerts) {
  State& s = *state_;
  const Compiled& c = *s.c;
  s.NextEpoch();
  s.record = &record;
  ++engine_stats_.events;
  bool timed = false;  // every timing_sample_every-th event (counted, not divided)
  if (options_.timing_sample_every != 0 && ++s.since_timed >= options_.timing_sample_every) {
    s.since_timed = 0;
    timed = true;
  }

  auto on_match = [&](int det) {
    const auto& d = c.detectors[det];
    std::vector<Field> captures;
    if (!d.capture_leaves.empty()) ExtractCaptures(c, d, record, s.epoch, s.leaf_hit, &captures);
    for (auto [ri, input] : d.consumers) {
      const CompiledRule& rule = c.rules[ri];
      RuleState& st = s.rules[ri];
      ++st.stats.matches;
      Firing f;
      if (rule.def.corr == CorrType::kAbsence) {
        SeenForAbsence(rule, input, record, captures, &st, options_, &s.scratch);
        continue;
      } else if (rule.def.corr == CorrType::kNone) {
        GroupKeyInto(rule, input, record, captures, &s.scratch, &f.group_key, &f.fields);
        f.seqs.push_back(record.seq);
        f.count = 1;
      } else if (!Correlate(rule, input, record, captures, &st, options_, &s.scratch, &f)) {
        continue;
      }
      if (!rule.def.info.alerting) continue;
      if (rule.def.suppress_ns > 0) {
        const std::int64_t t = record.event.event_time_ns;
        st.suppress.ExpireWhile([&](std::int64_t last) {
          return last < t - rule.def.suppress_ns - options_.allowed_lateness_ns;
        });
        std::int64_t* last = st.suppress.Find(f.group_key);
        if (last != nullptr && t >= *last && t - *last < rule.def.suppress_ns) {
          ++st.stats.suppressed;
          continue;
        }
        st.suppress.Touch(f.group_key, options_.max_groups_per_rule, &st.stats.evictions) = t;
        if (st.watermark == kNoTime || t >= st.watermark) {  // for Tick's expiry
          st.watermark = t;
          st.watermark_wall = Wall(record);
        }
      }
      ++st.stats.alerts;
      Alert a;
      a.rule_id = rule.def.info.id;
      a.title = rule.def.info.title;
      a.severity = rule.def.info.severity;
      a.tags = rule.def.info.tags;
      a.group_key = f.group_key;
      a.event_time_ns = record.event.event_time_ns;
      a.evidence_seqs = std::move(f.seqs);
      a.fields = std::move(f.fields);
      for (const auto& cap : captures) {  // a captured group-by value is there already
        if (std::none_of(a.fields.begin(), a.fields.end(), [&](const Field& fl) {
              return fl.key == cap.key && fl.value == cap.value;
            })) {
          a.fields.push_back(cap);
        }
      }
      if (!rule.def.summary.empty()) {
        a.summary = Expand(rule.def.summary, a.fields, record);
      } else if (rule.def.corr == CorrType::kNone) {
        a.summary = a.title + (record.event.host.empty() ? "" : " on " + record.event.host);
        if (!a.group_key.empty()) a.summary += " (" + a.group_key + ")";
      } else if (IsMetric(rule.def.corr)) {
        static const char* kOps[] = {">", ">=", "<", "<="};
        const std::string limit = std::string(" (") + kOps[static_cast<int>(rule.def.metric_op)] +
                                  " " + NumberText(rule.def.metric_value) + ")";
        const std::string n = std::to_string(f.count) + (f.count == 1 ? " event" : " events");
        const std::string& name = rule.def.metric_field;
        if (rule.def.corr == CorrType::kSum) {
          a.summary =
              a.title + ": sum of " + name + " " + NumberText(f.metric) + limit + " over " + n;
        } else if (rule.def.corr == CorrType::kAvg) {
          a.summary =
              a.title + ": average of " + name + " " + NumberText(f.metric) + limit + " over " + n;
        } else {
          a.summary = a.title + ": " + name + " '" + f.value + "' is " + NumberText(f.metric) +
                      "%" + limit + " of " + n;
        }
        a.summary += " within " + WindowText(rule.def.window_ns);
        if (!a.group_key.empty()) a.summary += " for " + a.group_key;
      } else {
        a.summary = a.title + ": " + std::to_string(f.count) +
                    (rule.def.corr == CorrType::kDistinct ? " distinct values"
                     : rule.def.corr == CorrType::kCount  ? " events"
                                                          : " steps") +
                    " within " + WindowText(rule.def.window_ns);
        if (!a.group_key.empty()) a.summary += " for " + a.group_key;
      }
      alerts->push_back(std::move(a));
    }
  };

  auto evaluate = [&](int det) {
    bool m;
    if (timed) {
      auto t0 = std::chrono::steady_clock::now();
      m = s.Eval(c.detectors[det].root);
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::steady_clock::now() - t0)
                    .count();
      for (auto [ri, input] : c.detectors[det].consumers) {
        s.rules[ri].stats.evaluation_ns +=
            static_cast<std::uint64_t>(ns) * options_.timing_sample_every;
      }
    } else {
      m = s.Eval(c.detectors[det].root);
    }
    if (m) on_match(det);
  };

  // 1. Index the event's fields that some rule reads.
  s.IndexFields();
  // 2. Which log source groups does the event belong to? (cached per tuple of the values of the
  // constraint fields)
  s.candidates.clear();
  auto admit = [&](int gi) {
    const auto& g = c.groups[gi];
    s.group_ok[gi] = s.epoch;
    for (int m : g.matchers) s.matcher_wanted[m] = s.epoch;
    for (int det : g.always) s.Queue(det);
  };
  const std::uint64_t tuple = s.use_admission_cache ? s.AdmissionHash() : 0;
  const State::AdmissionEntry* cached = tuple != 0 ? s.AdmissionFind(tuple) : nullptr;
  if (cached != nullptr) {  // admit(gi) for every group, with the lists merged
    for (int gi : cached->groups) s.group_ok[gi] = s.epoch;
    for (int m : cached->matchers) s.matcher_wanted[m] = s.epoch;
    for (int det : cached->always) s.Queue(det);
  } else {
    State::AdmissionEntry* fill = tuple != 0 ? s.AdmissionInsert(tuple) : nullptr;
    auto check = [&](int gi) {
      if (!s.GroupMatches(c.groups[gi])) return;
      admit(gi);
      if (fill != nullptr) fill->groups.push_back(gi);
    };
    for (const auto& p : c.primaries) {
      std::string_view v;
      if (!s.Get(p.field, &s.scratch, &v)) continue;
      int id = p.values.Find(v);
      if (id < 0) continue;
      for (int gi : p.groups[id]) check(gi);
    }
    for (int gi : c.unindexed_groups) check(gi);
    if (fill != nullptr) {
      for (int gi : fill->groups) {
        const auto& g = c.groups[gi];
        for (int m : g.matchers) {
          if (std::find(fill->matchers.begin(), fill->matchers.end(), m) == fill->matchers.end()) {
            fill->matchers.push_back(m);
          }
        }
        fill->always.insert(fill->always.end(), g.always.begin(), g.always.end());
      }
    }
  }
  // 3. Scan, once, every field of the event that a rule of an admitting group matches on; hits
  // queue the rules they can trigger.
  for (int m : c.pseudo_matchers) {
    if (s.Wanted(m)) s.Scan(m);
  }
  for (int slot : s.present) {
    for (int m : c.slot_matchers[slot]) {
      if (s.matcher_done[m] != s.epoch && s.Wanted(m)) s.Scan(m);
    }
  }
  // 4. Evaluate the queued detectors, in rule order.
  std::sort(s.candidates.begin(), s.candidates.end());
  for (size_t i = 0; i < s.candidates.size(); ++i) evaluate(s.candidates[i]);
  s.record = nullptr;
}

void Engine::Tick(std::int64_t now_ns, std::vector<Alert>* alerts) {
  State& s = *state_;
  const Compiled& c = *s.c;
  ++engine_stats_.ticks;
  for (size_t ri = 0; ri < c.rules.size(); ++ri) {
    const CompiledRule& rule = c.rules[ri];
    RuleState& st = s.rules[ri];
    const auto& def = rule.def;
    if (def.corr == CorrType::kAbsence) {
      // Groups are in least-recently-seen order at the back: pop the silent ones.
      std::vector<std::pair<std::string, Group>> silent;
      st.groups.PopWhile([&](const Group& g) { return g.last_t + def.window_ns <= now_ns; },
                         &silent);
      for (auto& [key, g] : silent) {
        if (!def.info.alerting) continue;
        ++st.stats.alerts;
        Alert a;
        a.rule_id = def.info.id;
        a.title = def.info.title;
        a.severity = def.info.severity;
        a.tags = def.info.tags;
        a.group_key = key;
        a.event_time_ns = now_ns;
        if (g.last_seq != 0) a.evidence_seqs.push_back(g.last_seq);
        a.fields = std::move(g.key_fields);
        a.fields.push_back(Field{"last_seen", FormatRfc3339(g.last_t)});
        if (!def.summary.empty()) {
          a.summary = Expand(def.summary, a.fields, Record{});
        } else {
          a.summary = a.title + ": nothing for " + WindowText(def.window_ns) +
                      (key.empty() ? "" : " from " + key) + " (last seen " +
                      FormatRfc3339(g.last_t) + ")";
        }
        alerts->push_back(std::move(a));
      }
      continue;
    }
    // Windows and suppression expire on wall time too, so that state stays bounded when no
    // events come: event time is taken to advance with the wall clock since the watermark moved.
    if (st.watermark == kNoTime) continue;
    const std::int64_t advanced =
        st.watermark + std::max<std::int64_t>(0, now_ns - st.watermark_wall);
    if (def.corr != CorrType::kNone) {
      const std::int64_t horizon = advanced - def.window_ns - options_.allowed_lateness_ns;
      st.groups.ExpireWhile([&](const Group& g) { return g.last_t < horizon; });
    }
    if (def.suppress_ns > 0) {
      const std::int64_t horizon = advanced - def.suppress_ns - options_.allowed_lateness_ns;
      st.suppress.ExpireWhile([&](std::int64_t last) { return last < horizon; });
    }
  }
}

}  // namespace mamori::rules
