// Internal: the body parsers behind Parse() and the small scanners they share. A body parser reads
// the message body of an event (the MSG of a syslog message, or a whole line that has no syslog
// header), appends normalized and vendor fields to the event and sets Event::format. Not part of
// the public API; the public entry points are in mamori/parsers/formats.h.
//
// Contract of every body parser `bool ParseX(const Body& b, Event* out)`:
//   - returns false when the body is not that format; the caller then drops the fields that were
//     appended (it remembers out->fields.size()) and tries the next parser;
//   - on true it has set out->format and appended fields; it may fill host/app/procid/time only
//     when the body carries them and b.standalone is true (no syslog header decided them);
//   - linear in the body size, no regular expressions, no I/O, no global state.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "mamori/core/record.h"
#include "mamori/parsers/parser.h"

namespace mamori::parsers::internal {

struct Body {
  std::string_view text;    // the body: syslog MSG after the TAG (the whole line when standalone)
  std::string_view full;    // from the TAG on (a "TAG" may be part of a body: "CEF:0|...")
  std::string_view app;     // syslog APP-NAME / TAG, "" when standalone
  bool standalone = false;  // no syslog header: the body is the whole message
  std::int64_t received_ns = 0;
  const ParseContext* ctx = nullptr;
};

using BodyParser = bool (*)(const Body& b, Event* out);

// Body parsers, one per format (Event::format in the comment).
bool ParseCef(const Body& b, Event* out);          // "cef"
bool ParseLeef(const Body& b, Event* out);         // "leef"
bool ParseFortigate(const Body& b, Event* out);    // "fortigate"
bool ParseKv(const Body& b, Event* out);           // "kv"
bool ParseCiscoAsa(const Body& b, Event* out);     // "cisco_asa"
bool ParsePanos(const Body& b, Event* out);        // "panos"
bool ParseCheckpoint(const Body& b, Event* out);   // "checkpoint"
bool ParseIptables(const Body& b, Event* out);     // "iptables"
bool ParseFilterlog(const Body& b, Event* out);    // "pfsense"
bool ParseSshd(const Body& b, Event* out);         // "sshd"
bool ParseSudo(const Body& b, Event* out);         // "sudo"
bool ParseSu(const Body& b, Event* out);           // "su"
bool ParsePam(const Body& b, Event* out);          // "pam"
bool ParseUserAdmin(const Body& b, Event* out);    // "linux_user"
bool ParseAuditd(const Body& b, Event* out);       // "auditd"
bool ParseHttpAccess(const Body& b, Event* out);   // "http_access"
bool ParseApacheError(const Body& b, Event* out);  // "apache_error"
bool ParseNginxError(const Body& b, Event* out);   // "nginx_error"
bool ParseSnare(const Body& b, Event* out);        // "snare"
// JSON: maps an already flattened Windows event (eventchannel, Winlogbeat, NXLog, Sysmon) to the
// dictionary; "windows". Returns false when the fields are not a Windows event.
bool NormalizeWindowsJson(Event* out);

// Shared PAM line reader ("pam_unix(sshd:auth): authentication failure; ... user=x").
bool ReadPamLine(std::string_view msg, Event* out);

// ---- small helpers ----
inline void Add(Event* e, std::string_view key, std::string_view value) {
  e->fields.push_back(Field{std::string(key), std::string(value)});
}
inline bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}
inline bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
// s.find(needle, pos), found by memchr on needle[key] (a character that is rare in log text)
// and comparing the rest around it: much cheaper than std::string_view::find, which stops at
// every occurrence of the first character (' ', ':' and letters are everywhere in logs).
inline std::size_t FindBy(std::string_view s, std::string_view needle, std::size_t key,
                          std::size_t pos = 0) {
  const std::size_t m = needle.size();
  if (pos > s.size()) return std::string_view::npos;
  if (m == 0) return pos;
  const char c = needle[key];
  std::size_t i = pos + key;  // where needle[key] would be
  while (i + (m - key) <= s.size()) {
    const void* p = std::memchr(s.data() + i, c, s.size() - (m - key - 1) - i);
    if (p == nullptr) return std::string_view::npos;
    i = static_cast<std::size_t>(static_cast<const char*>(p) - s.data());
    if (std::memcmp(s.data() + i - key, needle.data(), m) == 0) return i - key;
    ++i;
  }
  return std::string_view::npos;
}
// FindBy on the needle's last character ('=', '[', '"' in the parsers' needles).
inline std::size_t FindByLast(std::string_view s, std::string_view needle, std::size_t pos = 0) {
  return needle.empty() ? (pos <= s.size() ? pos : std::string_view::npos)
                        : FindBy(s, needle, needle.size() - 1, pos);
}
// The first occurrence of `needle` that starts at or before `limit`, or npos: the same answer as
// `p = s.find(needle); p <= limit ? p : npos`, without scanning past limit + needle.size().
inline std::size_t FindStartingBy(std::string_view s, std::string_view needle, std::size_t limit) {
  return FindByLast(s.substr(0, std::min(s.size(), limit + needle.size())), needle);
}
inline bool Digit(char c) { return c >= '0' && c <= '9'; }
inline char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
bool EqualsNoCase(std::string_view a, std::string_view b);
std::string_view Trim(std::string_view s);
bool AllDigits(std::string_view s);  // non-empty and only 0-9
bool IsIpv4(std::string_view s);
bool IsIp(std::string_view s);  // IPv4, or IPv6 (hex, ':' and '.', at least two ':')
// The text between `open` and the next `close` after it, or "" (found=false).
std::string_view Between(std::string_view s, std::string_view open, char close, bool* found);
// The word (up to a space) after `token`, or "".
std::string_view WordAfter(std::string_view s, std::string_view token);
// Splits "ip/port", "ip(port)", "ip:port" (IPv4) into parts; false when ip is not an address.
bool SplitHostPort(std::string_view s, std::string_view* ip, std::string_view* port);
// "tcp"/"udp"/"icmp"... in lower case from a name or an IANA protocol number.
std::string ProtoName(std::string_view p);
// The basename of a Unix or Windows path.
std::string_view BaseName(std::string_view path);
// Adds "event.outcome" and "event.action".
void SetAction(Event* e, std::string_view action, std::string_view outcome);
// A firewall decision: event.action "deny" (event.outcome failure) or "allow" (success).
void SetFirewallDecision(Event* e, std::string_view decision);

// key=value tokenizer: calls f(key, value) for each pair separated by `sep` (space or tab or a
// given char). Values may be double-quoted ("a b", with \" escapes kept as is). A token without
// '=' is skipped. Stops after `max_pairs`. Returns the number of pairs.
template <typename F>
std::size_t ForEachKv(std::string_view s, char sep, F&& f, std::size_t max_pairs = 1024) {
  std::size_t i = 0, n = 0;
  while (i < s.size() && n < max_pairs) {
    while (i < s.size() && (s[i] == sep || s[i] == ' ')) ++i;
    std::size_t k = i;
    while (i < s.size() && s[i] != '=' && s[i] != sep && s[i] != ' ') ++i;
    if (i >= s.size() || s[i] != '=') {
      while (i < s.size() && s[i] != sep) ++i;
      continue;
    }
    std::string_view key = s.substr(k, i - k);
    ++i;
    std::string_view value;
    if (i < s.size() && s[i] == '"') {
      std::size_t v = ++i;
      while (i < s.size() && s[i] != '"') i += (s[i] == '\\' && i + 1 < s.size()) ? 2 : 1;
      value = s.substr(v, (i < s.size() ? i : s.size()) - v);
      if (i < s.size()) ++i;
    } else {
      std::size_t v = i;
      while (i < s.size() && s[i] != sep) ++i;
      value = s.substr(v, i - v);
    }
    if (!key.empty()) {
      f(key, value);
      ++n;
    }
  }
  return n;
}

}  // namespace mamori::parsers::internal
