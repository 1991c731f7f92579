// RFC 3164 (BSD) syslog and the variants real senders produce.
#include <array>
#include <cstdint>

#include "mamori/parsers/json.h"
#include "mamori/parsers/syslog.h"
#include "text_util.h"

namespace mamori::parsers {
namespace {

using internal::WallTime;

constexpr bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || internal::IsDigit(c) || c == '.' ||
         c == '-' || c == '_';
}

// A HOSTNAME candidate: host name or IPv4 characters, or an IPv6 address (hex digits and at
// least two ':'). A token ending in ':' or holding '[' is a TAG, not a host.
// Character classes of LooksLikeHost, one table lookup per character.
enum : std::uint8_t { kHostChar = 1, kV6Char = 2 /* hex digit, '.' or ':' */, kColon = 4 };
constexpr std::array<std::uint8_t, 256> kHostClasses = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t k = 0;
    if (IsHostChar(static_cast<char>(c))) k |= kHostChar;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.') {
      k |= kV6Char;
    }
    if (c == ':') k |= kColon | kV6Char;  // v6: every character is a hex digit, '.' or ':'
    t[c] = k;
  }
  return t;
}();

bool LooksLikeHost(std::string_view tok) {
  if (tok.empty()) return false;
  std::uint8_t all = kHostChar | kV6Char | kColon;  // classes every character had so far
  int colons = 0;
  for (char c : tok) {
    const std::uint8_t k = kHostClasses[static_cast<unsigned char>(c)];
    all &= k;
    colons += k >> 2;  // kColon
  }
  const bool plain = (all & kHostChar) != 0;
  const bool v6 = (all & kV6Char) != 0;
  return plain || (v6 && colons >= 2 && tok.back() != ':');
}

// Splits a TAG ("app", "app:", "app[pid]:", "app[pid]") into app and procid.
void SetTag(std::string_view tag, Event* out) {
  if (!tag.empty() && tag.back() == ':') tag.remove_suffix(1);
  std::size_t lb = tag.find('[');
  if (lb == std::string_view::npos) {
    out->app.assign(tag);
    out->procid.clear();
    return;
  }
  out->app.assign(tag.substr(0, lb));
  std::string_view pid = tag.substr(lb + 1);
  std::size_t rb = pid.find(']');
  out->procid.assign(rb == std::string_view::npos ? pid : pid.substr(0, rb));
}

}  // namespace

bool ParseRfc3164(std::string_view s, std::int64_t received_ns, const ParseContext& ctx,
                  Event* out) {
  return internal::ParseRfc3164At(s, received_ns, ctx, out, nullptr);
}

namespace internal {

bool ParseRfc3164At(std::string_view s, std::int64_t received_ns, const ParseContext& ctx,
                    Event* out, std::size_t* tag_pos) {
  std::size_t i = 0;
  int pri = -1;
  bool has_pri = internal::ReadPri(s, &i, &pri);
  while (i < s.size() && s[i] == ' ') ++i;

  // TIMESTAMP: BSD "Mmm dd hh:mm:ss" or RFC 3339, or none.
  WallTime t;
  std::size_t ts_end = i;
  bool has_ts = false;
  if (i < s.size()) {
    if (internal::IsDigit(s[i])) {
      has_ts = internal::ReadIsoTime(s, &ts_end, /*strict=*/false, &t);
      if (has_ts && ts_end < s.size() && s[ts_end] == ':') ++ts_end;  // "...Z: host"
      if (has_ts && ts_end < s.size() && s[ts_end] != ' ') has_ts = false;
    } else {
      has_ts = internal::ReadBsdTime(s, &ts_end, &t);
      if (has_ts && ts_end < s.size() && s[ts_end] != ' ') has_ts = false;
    }
  }
  if (!has_pri && !has_ts) return false;

  out->format = "rfc3164";
  internal::SetPri(pri, out);
  out->msgid.clear();
  out->fields.clear();
  std::uint8_t flags = 0;
  std::int64_t ns = 0;
  if (has_ts && internal::ResolveTime(t, received_ns, ctx, &ns, &flags)) {
    out->event_time_ns = ns;
    out->time_flags = flags;
  } else {
    out->event_time_ns = received_ns;
    out->time_flags = kTimeFromReceipt;
  }
  if (has_ts) {
    i = ts_end;
    while (i < s.size() && s[i] == ' ') ++i;
  }

  // HOSTNAME: only after a timestamp (without one, the first word is the TAG).
  out->host.clear();
  if (has_ts && i < s.size()) {
    std::size_t end = s.find(' ', i);
    if (end == std::string_view::npos) end = s.size();
    std::string_view tok = s.substr(i, end - i);
    if (LooksLikeHost(tok)) {
      out->host.assign(tok);
      i = end < s.size() ? end + 1 : end;
    }
  }

  // TAG: up to the first ':' (included) or space. A word starting with '[' is not a tag.
  out->app.clear();
  out->procid.clear();
  if (tag_pos != nullptr) *tag_pos = i;
  if (i < s.size() && s[i] != '[' && s[i] != ' ') {
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != ':') ++j;
    bool colon = j < s.size() && s[j] == ':';
    SetTag(s.substr(i, j - i), out);
    i = colon ? j + 1 : j;
  }
  if (i < s.size() && s[i] == ' ') ++i;

  std::string_view msg = i < s.size() ? s.substr(i) : std::string_view();
  out->message.assign(msg);
  std::string_view json;
  if (internal::JsonBody(msg, &json)) AppendJsonFields(json, out);
  return true;
}

}  // namespace internal
}  // namespace mamori::parsers
