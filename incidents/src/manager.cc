#include "mamori/incidents/manager.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <map>

namespace mamori::incidents {

IncidentManager::IncidentManager(IncidentStore& store, const Clock& clock,
                                 prometheus::Registry& registry, ManagerOptions options)
    : store_(store), clock_(clock), options_(options) {
  auto& opened = prometheus::BuildCounter()
                     .Name("mamori_incidents_opened_total")
                     .Help("Incidents opened, by severity")
                     .Register(registry);
  auto& open = prometheus::BuildGauge()
                   .Name("mamori_incidents_open")
                   .Help("Open incidents (not resolved or closed), by current severity")
                   .Register(registry);
  for (int i = 0; i < kNumSeverities; ++i) {
    std::string sev(SeverityName(static_cast<Severity>(i)));
    opened_total_[i] = &opened.Add({{"severity", sev}});
    open_gauge_[i] = &open.Add({{"severity", sev}});
  }
  alerts_total_ = &prometheus::BuildCounter()
                       .Name("mamori_incidents_alerts_total")
                       .Help("Alerts received by the incident manager")
                       .Register(registry)
                       .Add({});
  write_errors_total_ = &prometheus::BuildCounter()
                             .Name("mamori_incidents_write_errors_total")
                             .Help("Failed incident batch writes (their changes were lost)")
                             .Register(registry)
                             .Add({});
}

IncidentManager::~IncidentManager() = default;

Result<std::unique_ptr<IncidentManager>> IncidentManager::Create(IncidentStore& store,
                                                                 const Clock& clock,
                                                                 prometheus::Registry& registry,
                                                                 ManagerOptions options) {
  std::unique_ptr<IncidentManager> m(new IncidentManager(store, clock, registry, options));
  Status st = store.ForEach([&m](const Incident& inc) {
    if (!inc.open()) return;
    m->open_[Key(inc.rule_id, inc.group_key)] = inc.id;
    m->open_gauge_[static_cast<int>(inc.severity)]->Increment();
  });
  if (!st.ok()) return st;
  return m;
}

std::string IncidentManager::Key(const std::string& rule_id, const std::string& group_key) {
  std::string k;
  k.reserve(rule_id.size() + 1 + group_key.size());
  k += rule_id;
  k += '\0';
  k += group_key;
  return k;
}

void IncidentManager::Join(const Alert& a, std::int64_t now, Incident* inc) const {
  ++inc->count;
  inc->severity = std::max(inc->severity, a.severity);
  if (inc->first_seen_ns == 0 || a.event_time_ns < inc->first_seen_ns) {
    inc->first_seen_ns = a.event_time_ns;
  }
  inc->last_seen_ns = std::max(inc->last_seen_ns, a.event_time_ns);
  inc->updated_ns = now;
  inc->last_summary = a.summary;
  for (const auto& t : a.tags) {
    if (std::find(inc->tags.begin(), inc->tags.end(), t) == inc->tags.end()) {
      inc->tags.push_back(t);
    }
  }
  // Evidence: keep the first max_evidence distinct seqs; past that, count the seqs above the
  // highest one seen (records are stored, and reported, in seq order).
  auto& seqs = inc->evidence_seqs;
  for (std::uint64_t s : a.evidence_seqs) {
    if (seqs.size() < options_.max_evidence) {
      if (std::find(seqs.begin(), seqs.end(), s) != seqs.end()) continue;
      seqs.push_back(s);
    } else if (s <= inc->highest_evidence_seq) {
      continue;
    }
    ++inc->evidence_count;
    inc->highest_evidence_seq = std::max(inc->highest_evidence_seq, s);
  }
}

Result<ApplyResult> IncidentManager::OnAlerts(const std::vector<Alert>& alerts) {
  ApplyResult result;
  if (alerts.empty()) return result;
  alerts_total_->Increment(static_cast<double>(alerts.size()));
  const std::int64_t now = clock_.NowNs();
  std::uint64_t next_id = store_.next_id();
  // Changes of this call, by id; applied to the index only when the batch is written.
  std::map<std::uint64_t, Incident> dirty;
  std::map<std::uint64_t, Severity> before;  // severity of joined incidents before this call
  std::unordered_map<std::string, std::uint64_t> new_keys;
  for (const Alert& a : alerts) {
    std::string key = Key(a.rule_id, a.group_key);
    std::uint64_t id = 0;
    if (auto it = new_keys.find(key); it != new_keys.end()) {
      id = it->second;
    } else if (auto it2 = open_.find(key); it2 != open_.end()) {
      id = it2->second;
    }
    if (id != 0 && dirty.count(id) == 0) {
      auto got = store_.Get(id);
      if (!got.ok()) return got.status();
      if (*got && (*got)->open()) {
        before[id] = (*got)->severity;
        dirty.emplace(id, std::move(**got));
        result.joined.push_back(id);
      } else {
        id = 0;  // gone or no longer open (changed by another tool): open a new one
      }
    }
    if (id == 0) {
      Incident inc;
      inc.id = next_id++;
      inc.status = IncidentStatus::kNew;
      inc.severity = a.severity;
      inc.title = a.title;
      inc.rule_id = a.rule_id;
      inc.group_key = a.group_key;
      inc.first_seen_ns = a.event_time_ns;
      inc.last_seen_ns = a.event_time_ns;
      inc.created_ns = now;
      inc.summary = a.summary;
      inc.fields = a.fields;
      id = inc.id;
      new_keys[key] = id;
      dirty.emplace(id, std::move(inc));
      result.opened.push_back(id);
    }
    Join(a, now, &dirty.at(id));
  }
  std::vector<const Incident*> writes;
  writes.reserve(dirty.size());
  for (const auto& [id, inc] : dirty) writes.push_back(&inc);
  if (Status st = store_.Write(writes, next_id); !st.ok()) {
    write_errors_total_->Increment();
    return st;
  }
  for (const auto& [id, inc] : dirty) {
    auto b = before.find(id);
    if (b == before.end()) {
      opened_total_[static_cast<int>(inc.severity)]->Increment();
      open_gauge_[static_cast<int>(inc.severity)]->Increment();
      open_[Key(inc.rule_id, inc.group_key)] = id;
    } else if (b->second != inc.severity) {
      open_gauge_[static_cast<int>(b->second)]->Decrement();
      open_gauge_[static_cast<int>(inc.severity)]->Increment();
    }
  }
  return result;
}

}  // namespace mamori::incidents
