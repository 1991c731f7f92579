#include "mamori/incidents/incident.h"

#include <array>

namespace mamori::incidents {
namespace {

constexpr std::array<std::string_view, kNumSeverities> kSeverityNames = {"info", "low", "medium",
                                                                         "high", "critical"};
constexpr std::array<std::string_view, 6> kStatusNames = {"new",      "acknowledged", "in_progress",
                                                          "resolved", "closed",       "reopened"};

constexpr std::array<std::string_view, 5> kActionNames = {"acknowledge", "start", "resolve",
                                                          "close", "reopen"};
constexpr std::array<std::string_view, 5> kKindNames = {"created", "alert", "state", "assign",
                                                        "note"};

// The name of an enum value, by its index in `names`; "unknown" outside the table.
template <typename E, std::size_t N>
std::string_view NameOf(const std::array<std::string_view, N>& names, E value) {
  auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : "unknown";
}

// The enum value whose name is `name`; false (and *out untouched) if there is none.
template <typename E, std::size_t N>
bool ParseEnum(const std::array<std::string_view, N>& names, std::string_view name, E* out) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) {
      *out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

nlohmann::json TimeOrNull(std::int64_t ns) {
  return ns == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatRfc3339(ns));
}

nlohmann::json FieldsObject(const std::vector<Field>& fields) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& f : fields) {
    if (!out.contains(f.key)) out[f.key] = f.value;  // the first value wins
  }
  return out;
}

template <typename T>
T Take(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

}  // namespace

std::string_view SeverityName(Severity s) { return NameOf(kSeverityNames, s); }
bool ParseSeverity(std::string_view name, Severity* out) {
  return ParseEnum(kSeverityNames, name, out);
}

std::string_view StatusName(IncidentStatus s) { return NameOf(kStatusNames, s); }
bool ParseStatus(std::string_view name, IncidentStatus* out) {
  return ParseEnum(kStatusNames, name, out);
}

std::string_view ActionName(Action a) { return NameOf(kActionNames, a); }
bool ParseAction(std::string_view name, Action* out) { return ParseEnum(kActionNames, name, out); }

std::string_view TimelineKindName(TimelineKind k) { return NameOf(kKindNames, k); }
bool ParseTimelineKind(std::string_view name, TimelineKind* out) {
  return ParseEnum(kKindNames, name, out);
}

bool Transition(IncidentStatus from, Action action, IncidentStatus* to) {
  using S = IncidentStatus;
  switch (action) {
    case Action::kAcknowledge:
      if (from != S::kNew && from != S::kReopened) return false;
      *to = S::kAcknowledged;
      return true;
    case Action::kStart:
      if (from != S::kNew && from != S::kAcknowledged && from != S::kReopened) return false;
      *to = S::kInProgress;
      return true;
    case Action::kResolve:
      if (!IsOpen(from)) return false;
      *to = S::kResolved;
      return true;
    case Action::kClose:
      if (from == S::kClosed) return false;
      *to = S::kClosed;
      return true;
    case Action::kReopen:
      if (IsOpen(from)) return false;
      *to = S::kReopened;
      return true;
  }
  return false;
}

nlohmann::json IncidentToJson(const Incident& inc) {
  nlohmann::json j;
  j["id"] = inc.id;
  j["status"] = StatusName(inc.status);
  j["severity"] = SeverityName(inc.severity);
  j["title"] = inc.title;
  j["rule_id"] = inc.rule_id;
  j["group_key"] = inc.group_key;
  j["first_seen"] = FormatRfc3339(inc.first_seen_ns);
  j["last_seen"] = FormatRfc3339(inc.last_seen_ns);
  j["created"] = FormatRfc3339(inc.created_ns);
  j["updated"] = FormatRfc3339(inc.updated_ns);
  j["count"] = inc.count;
  j["evidence_seqs"] = inc.evidence_seqs;
  j["evidence_count"] = inc.evidence_count;
  j["tags"] = inc.tags;
  j["summary"] = inc.summary;
  j["last_summary"] = inc.last_summary;
  j["fields"] = FieldsObject(inc.fields);
  j["owner"] = inc.owner;
  j["acknowledged"] = TimeOrNull(inc.acknowledged_ns);
  j["resolved"] = TimeOrNull(inc.resolved_ns);
  nlohmann::json tl = nlohmann::json::array();
  for (const auto& e : inc.timeline) {
    nlohmann::json x;
    x["time"] = FormatRfc3339(e.time_ns);
    x["actor"] = e.actor;
    x["kind"] = TimelineKindName(e.kind);
    if (e.kind == TimelineKind::kState) {
      x["from"] = StatusName(e.from);
      x["to"] = StatusName(e.to);
    }
    x["text"] = e.text;
    if (e.kind == TimelineKind::kAlert) x["count"] = e.count;
    tl.push_back(std::move(x));
  }
  j["timeline"] = std::move(tl);
  return j;
}

std::string EncodeIncident(const Incident& inc) {
  nlohmann::json j;
  j["v"] = 1;
  j["id"] = inc.id;
  j["status"] = StatusName(inc.status);
  j["severity"] = SeverityName(inc.severity);
  j["title"] = inc.title;
  j["rule_id"] = inc.rule_id;
  j["group_key"] = inc.group_key;
  j["first_seen_ns"] = inc.first_seen_ns;
  j["last_seen_ns"] = inc.last_seen_ns;
  j["created_ns"] = inc.created_ns;
  j["updated_ns"] = inc.updated_ns;
  j["count"] = inc.count;
  j["evidence_seqs"] = inc.evidence_seqs;
  j["evidence_count"] = inc.evidence_count;
  j["highest_evidence_seq"] = inc.highest_evidence_seq;
  j["tags"] = inc.tags;
  j["summary"] = inc.summary;
  j["last_summary"] = inc.last_summary;
  nlohmann::json fields = nlohmann::json::array();
  for (const auto& f : inc.fields) fields.push_back({f.key, f.value});
  j["fields"] = std::move(fields);
  j["owner"] = inc.owner;
  j["acknowledged_ns"] = inc.acknowledged_ns;
  j["resolved_ns"] = inc.resolved_ns;
  nlohmann::json tl = nlohmann::json::array();
  for (const auto& e : inc.timeline) {
    nlohmann::json x = {
        {"t", e.time_ns}, {"actor", e.actor}, {"kind", TimelineKindName(e.kind)}, {"text", e.text}};
    if (e.kind == TimelineKind::kState) {
      x["from"] = StatusName(e.from);
      x["to"] = StatusName(e.to);
    }
    if (e.count != 1) x["count"] = e.count;
    tl.push_back(std::move(x));
  }
  j["timeline"] = std::move(tl);
  // Strings come from rules and logs; invalid UTF-8 is replaced rather than thrown on.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Incident> DecodeIncident(std::string_view bytes) {
  nlohmann::json j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || Take<int>(j, "v", 0) != 1) {
    return Status::Corruption("incident record: not a version 1 JSON object");
  }
  try {
    Incident inc;
    inc.id = Take<std::uint64_t>(j, "id", 0);
    if (!ParseStatus(Take<std::string>(j, "status", ""), &inc.status) ||
        !ParseSeverity(Take<std::string>(j, "severity", ""), &inc.severity)) {
      return Status::Corruption("incident " + std::to_string(inc.id) + ": bad status or severity");
    }
    inc.title = Take<std::string>(j, "title", "");
    inc.rule_id = Take<std::string>(j, "rule_id", "");
    inc.group_key = Take<std::string>(j, "group_key", "");
    inc.first_seen_ns = Take<std::int64_t>(j, "first_seen_ns", 0);
    inc.last_seen_ns = Take<std::int64_t>(j, "last_seen_ns", 0);
    inc.created_ns = Take<std::int64_t>(j, "created_ns", 0);
    inc.updated_ns = Take<std::int64_t>(j, "updated_ns", 0);
    inc.count = Take<std::uint64_t>(j, "count", 0);
    inc.evidence_seqs = Take<std::vector<std::uint64_t>>(j, "evidence_seqs", {});
    inc.evidence_count = Take<std::uint64_t>(j, "evidence_count", 0);
    inc.highest_evidence_seq = Take<std::uint64_t>(j, "highest_evidence_seq", 0);
    inc.tags = Take<std::vector<std::string>>(j, "tags", {});
    inc.summary = Take<std::string>(j, "summary", "");
    inc.last_summary = Take<std::string>(j, "last_summary", "");
    if (auto it = j.find("fields"); it != j.end() && it->is_array()) {
      for (const auto& f : *it) {
        inc.fields.push_back(Field{f.at(0).get<std::string>(), f.at(1).get<std::string>()});
      }
    }
    inc.owner = Take<std::string>(j, "owner", "");
    inc.acknowledged_ns = Take<std::int64_t>(j, "acknowledged_ns", 0);
    inc.resolved_ns = Take<std::int64_t>(j, "resolved_ns", 0);
    if (auto it = j.find("timeline"); it != j.end() && it->is_array()) {
      for (const auto& x : *it) {
        TimelineEntry e;
        e.time_ns = Take<std::int64_t>(x, "t", 0);
        e.actor = Take<std::string>(x, "actor", "");
        if (!ParseTimelineKind(Take<std::string>(x, "kind", ""), &e.kind)) {
          return Status::Corruption("incident " + std::to_string(inc.id) + ": bad timeline kind");
        }
        if (e.kind == TimelineKind::kState &&
            (!ParseStatus(Take<std::string>(x, "from", ""), &e.from) ||
             !ParseStatus(Take<std::string>(x, "to", ""), &e.to))) {
          return Status::Corruption("incident " + std::to_string(inc.id) + ": bad timeline state");
        }
        e.text = Take<std::string>(x, "text", "");
        e.count = Take<std::uint64_t>(x, "count", 1);
        inc.timeline.push_back(std::move(e));
      }
    }
    return inc;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("incident record: ") + e.what());
  }
}

}  // namespace mamori::incidents
