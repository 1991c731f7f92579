#include "mamori/incidents/incident.h"

#include <array>

namespace mamori::incidents {
namespace {

constexpr std::array<std::string_view, kNumSeverities> kSeverityNames = {"info", "low", "medium",
                                                                         "high", "critical"};
constexpr std::array<std::string_view, 6> kStatusNames = {"new",      "acknowledged", "in_progress",
                                                          "resolved", "closed",       "reopened"};

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

std::string_view SeverityName(Severity s) {
  auto i = static_cast<std::size_t>(s);
  return i < kSeverityNames.size() ? kSeverityNames[i] : "unknown";
}

bool ParseSeverity(std::string_view name, Severity* out) {
  for (std::size_t i = 0; i < kSeverityNames.size(); ++i) {
    if (kSeverityNames[i] == name) {
      *out = static_cast<Severity>(i);
      return true;
    }
  }
  return false;
}

std::string_view StatusName(IncidentStatus s) {
  auto i = static_cast<std::size_t>(s);
  return i < kStatusNames.size() ? kStatusNames[i] : "unknown";
}

bool ParseStatus(std::string_view name, IncidentStatus* out) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) {
      *out = static_cast<IncidentStatus>(i);
      return true;
    }
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
    return inc;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("incident record: ") + e.what());
  }
}

}  // namespace mamori::incidents
