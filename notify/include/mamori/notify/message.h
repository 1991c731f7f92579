// Notification messages: what is sent about an incident, and the pure functions that decide
// and format it (routing, retry delays, throttling, the webhook signature, the mail text, the
// RFC 5424 line). No I/O here; outbox.h stores messages, notifier.h sends them.
//
// Thread-safety: free functions are pure and thread-safe. Throttle is not thread-safe (its
// owner, the Notifier, calls it under its own mutex).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "mamori/core/config.h"
#include "mamori/incidents/incident.h"

namespace mamori::notify {

// Why a notification is sent.
enum class Kind : std::uint8_t { kCreated, kUpdated, kReopened };
std::string_view KindName(Kind k);  // "created", "updated", "reopened"

// The webhook body (and the source of the mail and syslog texts):
//   {"id": "<outbox instance>-<n>", "kind": "created"|"updated"|"reopened", "time": RFC 3339,
//    "incident": IncidentToJson(incident) without its timeline, "link": URL or absent}
// base_url: NotificationsConfig::base_url ("" = no link).
nlohmann::json NotificationJson(const std::string& id, Kind kind, std::int64_t now_ns,
                                const incidents::Incident& incident, const std::string& base_url);

// Whether `channel` wants an incident of this severity and these tags: severity at least
// min_severity, and (when the channel lists tags) at least one tag in common.
bool Routes(const NotificationChannelConfig& channel, incidents::Severity severity,
            const std::vector<std::string>& tags);

// The delay before retry number `attempt` (1 = after the first failure):
// min(retry_max, retry_initial * 2^(attempt-1)), minus up to retry_jitter_percent of it scaled
// by `random01` (in [0, 1); 0 = no jitter). Milliseconds, at least 1.
std::int64_t RetryDelayMs(const NotificationsConfig& config, std::uint32_t attempt,
                          double random01);

// Throttling per rule id + group key: creations always pass; an update or reopen passes when
// the key's last notification is at least `window_ns` old. Memory: one entry per key notified
// within the window (older ones are pruned on the way).
class Throttle {
 public:
  explicit Throttle(std::int64_t window_ns) : window_ns_(window_ns) {}
  // True when a notification of `kind` for the key should go out now (and records it).
  bool Allow(const std::string& rule_id, const std::string& group_key, Kind kind,
             std::int64_t now_ns);
  std::size_t size() const { return last_.size(); }

 private:
  std::int64_t window_ns_;
  std::unordered_map<std::string, std::int64_t> last_;
  std::int64_t last_prune_ns_ = 0;
};

// HMAC-SHA256 of `body` with `key`, lowercase hex (64 characters). The webhook sends
// "X-Mamori-Signature: sha256=<this>".
std::string HmacSha256Hex(std::string_view key, std::string_view body);

// SMTP DATA: line ends normalized to CRLF, a '.' doubled at the start of every line that
// starts with one (RFC 5321 4.5.2), lines longer than 998 octets split, and the terminating
// "\r\n.\r\n" appended.
std::string SmtpData(std::string_view text);
// Base64 (RFC 4648, with padding), for AUTH PLAIN.
std::string Base64(std::string_view bytes);

// The mail for a notification (payload = NotificationJson): headers (From, To, Subject, Date,
// Message-ID, MIME) and a readable text body; CR and LF are removed from header values.
// Not yet dot-stuffed (see SmtpData).
std::string MailText(const nlohmann::json& payload, const std::string& from,
                     const std::vector<std::string>& to, const std::string& hostname);

// The RFC 5424 message for a notification: facility local0, severity from the incident
// (critical 2, high 3, medium 4, low 5, info 6), app "mamori", msgid "incident", structured
// data [mamori@32473 id= incident= rule= severity= kind=], message "title: summary".
std::string SyslogLine(const nlohmann::json& payload, const std::string& hostname);

}  // namespace mamori::notify
