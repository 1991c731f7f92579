// Incident: what the CSIRT triages. An alert of a detection rule opens an incident, or joins the
// open incident with the same rule id and group key (see manager.h). This header holds the value
// types: the alert as the incidents module receives it, the incident record, and their JSON form
// (which is also the stored form, so that the record can grow without a migration).
//
// Thread-safety: plain values; safe to copy and move between threads.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/core/record.h"
#include "mamori/core/status.h"

namespace mamori::incidents {

// Severity of an alert or incident, ordered. Same names as the rule language.
enum class Severity : std::uint8_t { kInfo = 0, kLow = 1, kMedium = 2, kHigh = 3, kCritical = 4 };
inline constexpr int kNumSeverities = 5;
std::string_view SeverityName(Severity s);  // "info", "low", "medium", "high", "critical"
bool ParseSeverity(std::string_view name, Severity* out);

// The lifecycle of an incident (docs/incidents.md). Alerts create kNew incidents; people move
// them: new -> acknowledged -> in_progress -> resolved -> closed, and resolved/closed -> reopened
// (which behaves like new). See Transition() for the allowed moves. An incident is "open" (alerts
// join it) unless it is resolved or closed.
enum class IncidentStatus : std::uint8_t {
  kNew = 0,
  kAcknowledged = 1,
  kInProgress = 2,
  kResolved = 3,
  kClosed = 4,
  kReopened = 5,
};
// "new", "acknowledged", "in_progress", "resolved", "closed", "reopened"
std::string_view StatusName(IncidentStatus s);
bool ParseStatus(std::string_view name, IncidentStatus* out);
inline bool IsOpen(IncidentStatus s) {
  return s != IncidentStatus::kResolved && s != IncidentStatus::kClosed;
}
// Not yet looked at by a person: new or reopened.
inline bool IsUnacknowledged(IncidentStatus s) {
  return s == IncidentStatus::kNew || s == IncidentStatus::kReopened;
}

// The actions people take on an incident (API: POST /api/v1/incident/{action}).
enum class Action : std::uint8_t { kAcknowledge, kStart, kResolve, kClose, kReopen };
// "acknowledge", "start", "resolve", "close", "reopen"
std::string_view ActionName(Action a);
bool ParseAction(std::string_view name, Action* out);
// The status an action leads to from `from`, or false when the move is not allowed:
//   acknowledge: new, reopened -> acknowledged
//   start:       new, acknowledged, reopened -> in_progress
//   resolve:     new, acknowledged, in_progress, reopened -> resolved
//   close:       any but closed -> closed (e.g. a false positive closed straight from new)
//   reopen:      resolved, closed -> reopened
bool Transition(IncidentStatus from, Action action, IncidentStatus* to);

// One entry of an incident's timeline.
enum class TimelineKind : std::uint8_t { kCreated, kAlert, kState, kAssign, kNote };
// "created", "alert", "state", "assign", "note"
std::string_view TimelineKindName(TimelineKind k);
bool ParseTimelineKind(std::string_view name, TimelineKind* out);

struct TimelineEntry {
  std::int64_t time_ns = 0;  // wall clock
  std::string actor;         // a person ("local" until API tokens exist) or "mamori"
  TimelineKind kind = TimelineKind::kNote;
  // kState: the move. Unset (kNew, kNew) for other kinds.
  IncidentStatus from = IncidentStatus::kNew;
  IncidentStatus to = IncidentStatus::kNew;
  std::string text;  // note text; the owner (kAssign); the latest summary (kAlert)
  // kAlert: alerts aggregated into this entry (consecutive alerts share one entry). 1 otherwise.
  std::uint64_t count = 1;
};

// An alert as the incidents module receives it (the app converts the rule engine's alert; the
// incidents module does not depend on rules/).
struct Alert {
  std::string rule_id;
  std::string title;
  Severity severity = Severity::kMedium;
  std::vector<std::string> tags;
  std::string group_key;                     // "" when the rule has no group-by
  std::int64_t event_time_ns = 0;            // event time of the record that made it fire
  std::vector<std::uint64_t> evidence_seqs;  // evidence records, oldest first
  std::vector<Field> fields;                 // captures and group-by values
  std::string summary;
};

struct Incident {
  // Kept per incident at most; later evidence is only counted (evidence_count).
  static constexpr std::size_t kDefaultMaxEvidence = 1000;

  std::uint64_t id = 0;  // 1, 2, ... in order of opening; never reused
  IncidentStatus status = IncidentStatus::kNew;
  Severity severity = Severity::kMedium;  // the highest of its alerts
  std::string title;                      // of the rule
  std::string rule_id;                    // a Sigma rule keeps its own id
  std::string group_key;
  std::int64_t first_seen_ns = 0;  // event time of the first alert
  std::int64_t last_seen_ns = 0;   // event time of the latest alert
  std::int64_t created_ns = 0;     // wall clock when opened
  std::int64_t updated_ns = 0;     // wall clock of the latest change
  std::uint64_t count = 0;         // alerts that opened or joined it
  // Sequence numbers of the evidence records that caused it, in the order they were reported,
  // without repeats, at most max_evidence of them (the first ones).
  std::vector<std::uint64_t> evidence_seqs;
  // Evidence records reported in total (those beyond the kept ones included).
  std::uint64_t evidence_count = 0;
  std::uint64_t highest_evidence_seq = 0;  // the highest evidence seq reported
  std::vector<std::string> tags;
  std::string summary;        // of the alert that opened it
  std::string last_summary;   // of the latest alert
  std::vector<Field> fields;  // of the alert that opened it
  std::string owner;          // who works it ("" = nobody yet)
  // Wall clock of the first acknowledgement (first move out of new); 0 before.
  std::int64_t acknowledged_ns = 0;
  // Wall clock of the latest move to resolved or closed; 0 when never.
  std::int64_t resolved_ns = 0;
  // Oldest first. Bounded by the manager: consecutive alerts share one entry, and past
  // kMaxTimeline entries the oldest alert entries are dropped (state changes, assignments and
  // notes are kept).
  std::vector<TimelineEntry> timeline;
  static constexpr std::size_t kMaxTimeline = 500;

  bool open() const { return IsOpen(status); }
};

// The JSON object of an incident: id, status, severity, title, rule_id, group_key, first_seen,
// last_seen, created, updated (RFC 3339 UTC), count, evidence_seqs, evidence_count, tags,
// summary, last_summary, fields (object), owner, acknowledged, resolved (RFC 3339 or null) and
// timeline: [{time, actor, kind, from, to (kState only), text, count (kAlert only)}].
nlohmann::json IncidentToJson(const Incident& incident);

// The stored encoding: a JSON object with integer times and a format version ("v": 1). Unknown
// keys are ignored when decoding, so newer versions may add keys.
std::string EncodeIncident(const Incident& incident);
// Corruption when the bytes are not an incident record.
Result<Incident> DecodeIncident(std::string_view bytes);

}  // namespace mamori::incidents
