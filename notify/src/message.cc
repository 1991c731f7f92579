#include "mamori/notify/message.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace mamori::notify {
namespace {

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

// CR and LF removed: a header value that cannot inject headers.
std::string HeaderValue(std::string s) {
  std::replace_if(
      s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return s;
}

// RFC 5424 PARAM-VALUE: '"', '\' and ']' escaped.
std::string SdValue(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

int SyslogSeverity(const std::string& sev) {
  if (sev == "critical") return 2;
  if (sev == "high") return 3;
  if (sev == "medium") return 4;
  if (sev == "low") return 5;
  return 6;
}

}  // namespace

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kCreated:
      return "created";
    case Kind::kUpdated:
      return "updated";
    case Kind::kReopened:
      return "reopened";
  }
  return "created";
}

nlohmann::json NotificationJson(const std::string& id, Kind kind, std::int64_t now_ns,
                                const incidents::Incident& incident, const std::string& base_url) {
  nlohmann::json inc = incidents::IncidentToJson(incident);
  inc.erase("timeline");
  nlohmann::json j;
  j["id"] = id;
  j["kind"] = KindName(kind);
  j["time"] = FormatRfc3339(now_ns);
  j["incident"] = std::move(inc);
  if (!base_url.empty()) {
    std::string base = base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    j["link"] = base + "/api/v1/incident?id=" + std::to_string(incident.id);
  }
  return j;
}

bool Routes(const NotificationChannelConfig& channel, incidents::Severity severity,
            const std::vector<std::string>& tags) {
  if (static_cast<int>(severity) < channel.min_severity) return false;
  if (channel.tags.empty()) return true;
  for (const auto& want : channel.tags) {
    if (std::find(tags.begin(), tags.end(), want) != tags.end()) return true;
  }
  return false;
}

std::int64_t RetryDelayMs(const NotificationsConfig& config, std::uint32_t attempt,
                          double random01) {
  double delay = static_cast<double>(config.retry_initial_ms);
  const double cap = static_cast<double>(config.retry_max_ms);
  for (std::uint32_t i = 1; i < attempt && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  random01 = std::clamp(random01, 0.0, 1.0);
  delay -= delay * (config.retry_jitter_percent / 100.0) * random01;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(delay));
}

bool Throttle::Allow(const std::string& rule_id, const std::string& group_key, Kind kind,
                     std::int64_t now_ns) {
  if (now_ns - last_prune_ns_ > window_ns_ && last_.size() > 1024) {
    for (auto it = last_.begin(); it != last_.end();) {
      it = now_ns - it->second >= window_ns_ ? last_.erase(it) : std::next(it);
    }
    last_prune_ns_ = now_ns;
  }
  std::string key = rule_id;
  key += '\0';
  key += group_key;
  auto it = last_.find(key);
  if (kind != Kind::kCreated && it != last_.end() && now_ns - it->second < window_ns_) {
    return false;
  }
  last_[key] = now_ns;
  return true;
}

std::string HmacSha256Hex(std::string_view key, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

std::string SmtpData(std::string_view text) {
  constexpr std::size_t kMaxLine = 998;
  std::string out;
  out.reserve(text.size() + text.size() / 64 + 8);
  std::size_t col = 0;
  auto newline = [&] {
    out += "\r\n";
    col = 0;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
      newline();
      continue;
    }
    if (c == '\n') {
      newline();
      continue;
    }
    if (col >= kMaxLine) newline();
    if (col == 0 && c == '.') {
      out += '.';
      ++col;
    }
    out += c;
    ++col;
  }
  if (col != 0 || out.empty()) newline();
  out += ".\r\n";
  return out;
}

std::string Base64(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (bytes.size() - i == 1) {
    unsigned v = b(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (bytes.size() - i == 2) {
    unsigned v = (b(i) << 16) | (b(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string MailText(const nlohmann::json& payload, const std::string& from,
                     const std::vector<std::string>& to, const std::string& hostname) {
  const nlohmann::json& inc = payload.contains("incident") ? payload["incident"] : payload;
  const std::string id = Str(payload, "id"), kind = Str(payload, "kind");
  const std::string inc_id = Str(inc, "id"), severity = Str(inc, "severity");
  std::string upper = severity;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  std::string to_list;
  for (const auto& t : to) to_list += (to_list.empty() ? "" : ", ") + t;
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);

  std::string m;
  m += "From: " + HeaderValue(from) + "\n";
  m += "To: " + HeaderValue(to_list) + "\n";
  m += "Subject: " +
       HeaderValue("[mamori] " + upper + " incident " + inc_id + " " + kind + ": " +
                   Str(inc, "title")) +
       "\n";
  m += std::string("Date: ") + date + "\n";
  m += "Message-ID: <mamori-notification-" + HeaderValue(id) + "@" + HeaderValue(hostname) + ">\n";
  m += "X-Mamori-Notification-Id: " + HeaderValue(id) + "\n";
  m += "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n";
  m += "Content-Transfer-Encoding: 8bit\n\n";

  m += "Incident " + inc_id + " (" + kind + ")\n\n";
  auto line = [&](const char* label, const std::string& v) {
    if (!v.empty()) m += std::string(label) + HeaderValue(v) + "\n";
  };
  line("Rule:        ", Str(inc, "rule_id") + " - " + Str(inc, "title"));
  line("Severity:    ", severity);
  line("Status:      ", Str(inc, "status"));
  line("Group:       ", Str(inc, "group_key"));
  line("First event: ", Str(inc, "first_seen"));
  line("Last event:  ", Str(inc, "last_seen"));
  line("Alerts:      ", Str(inc, "count"));
  line("Owner:       ", Str(inc, "owner"));
  if (inc.contains("tags") && inc["tags"].is_array() && !inc["tags"].empty()) {
    std::string tags;
    for (const auto& t : inc["tags"]) tags += (tags.empty() ? "" : ", ") + t.get<std::string>();
    line("Tags:        ", tags);
  }
  m += "\nSummary: " + Str(inc, "summary") + "\n";
  if (Str(inc, "last_summary") != Str(inc, "summary")) {
    m += "Latest:  " + Str(inc, "last_summary") + "\n";
  }
  if (inc.contains("fields") && inc["fields"].is_object() && !inc["fields"].empty()) {
    m += "\nFields:\n";
    for (const auto& [k, v] : inc["fields"].items()) {
      m += "  " + k + " = " + (v.is_string() ? v.get<std::string>() : v.dump()) + "\n";
    }
  }
  if (inc.contains("evidence_seqs") && inc["evidence_seqs"].is_array() &&
      !inc["evidence_seqs"].empty()) {
    std::string list, shown;
    std::size_t n = 0;
    for (const auto& seq : inc["evidence_seqs"]) {
      if (n++ == 50) {
        shown += ", ...";
        break;
      }
      shown += (list.empty() ? "" : ", ") + seq.dump();
      list += (list.empty() ? "" : ",") + seq.dump();
    }
    m += "\nEvidence records (sequence numbers in the evidence store; " +
         Str(inc, "evidence_count") + " in all):\n  " + shown + "\n";
    m += "  export: mamori export --data-dir DIR --out BUNDLE --seq " + list + "\n";
  }
  if (payload.contains("link")) m += "\nIncident: " + Str(payload, "link") + "\n";
  m += "\nNotification " + id + " from mamori on " + hostname + ".\n";
  return m;
}

// RFC 5424 TIME-SECFRAC has at most 6 digits: "...:00.123456789Z" -> "...:00.123456Z".
std::string SyslogTime(std::string t) {
  auto dot = t.find('.');
  if (dot == std::string::npos) return t.empty() ? "-" : t;
  auto end = t.find_first_not_of("0123456789", dot + 1);
  if (end == std::string::npos) end = t.size();
  if (end - dot - 1 > 6) t.erase(dot + 7, end - dot - 7);
  return t;
}

std::string SyslogLine(const nlohmann::json& payload, const std::string& hostname) {
  const nlohmann::json& inc = payload.contains("incident") ? payload["incident"] : payload;
  const std::string severity = Str(inc, "severity");
  const int pri = 16 * 8 + SyslogSeverity(severity);
  std::string host = hostname.empty() ? "-" : hostname.substr(0, 255);
  std::string msg =
      "<" + std::to_string(pri) + ">1 " + SyslogTime(Str(payload, "time")) + " " + host +
      " mamori - incident [mamori@32473 id=\"" + SdValue(Str(payload, "id")) + "\" incident=\"" +
      SdValue(Str(inc, "id")) + "\" rule=\"" + SdValue(Str(inc, "rule_id")) + "\" severity=\"" +
      SdValue(severity) + "\" kind=\"" + SdValue(Str(payload, "kind")) + "\" group=\"" +
      SdValue(Str(inc, "group_key")) + "\"] " + Str(inc, "title") + ": " + Str(inc, "summary");
  std::replace_if(
      msg.begin(), msg.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return msg;
}

}  // namespace mamori::notify
