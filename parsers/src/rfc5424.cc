// RFC 5424 syslog: "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]".
#include <string>

#include "mamori/parsers/json.h"
#include "mamori/parsers/syslog.h"
#include "text_util.h"

namespace mamori::parsers {
namespace {

using internal::ReadIsoTime;
using internal::WallTime;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// The next space-delimited header token; NILVALUE gives an empty view. Advances past one space.
std::string_view NextToken(std::string_view s, std::size_t* pos) {
  std::size_t start = *pos;
  if (start >= s.size()) return {};
  std::size_t end = s.find(' ', start);
  if (end == std::string_view::npos) end = s.size();
  *pos = end < s.size() ? end + 1 : end;
  std::string_view tok = s.substr(start, end - start);
  return tok == "-" ? std::string_view() : tok;
}

// Appends `v` with \" \\ \] decoded (other backslashes are kept, as RFC 5424 6.3.3 says).
void AppendUnescaped(std::string_view v, std::string* out) {
  out->reserve(out->size() + v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size() &&
        (v[i + 1] == '"' || v[i + 1] == '\\' || v[i + 1] == ']')) {
      ++i;
    }
    out->push_back(v[i]);
  }
}

// Parses "[ID k="v" ...][ID2 ...]" at *pos into fields. Lenient about spaces around '='.
// Returns false on malformed structured data; fields parsed so far are kept.
bool ReadStructuredData(std::string_view s, std::size_t* pos, Event* out) {
  std::size_t i = *pos;
  while (i < s.size() && s[i] == '[') {
    ++i;
    std::size_t id_start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != ']' && s[i] != '=' && s[i] != '"') ++i;
    if (i >= s.size() || i == id_start) return false;
    std::string_view id = s.substr(id_start, i - id_start);
    while (i < s.size() && s[i] != ']') {
      while (i < s.size() && s[i] == ' ') ++i;
      if (i < s.size() && s[i] == ']') break;
      std::size_t name_start = i;
      while (i < s.size() && s[i] != '=' && s[i] != ' ' && s[i] != ']' && s[i] != '"') ++i;
      std::string_view name = s.substr(name_start, i - name_start);
      while (i < s.size() && s[i] == ' ') ++i;
      if (name.empty() || i >= s.size() || s[i] != '=') return false;
      ++i;
      while (i < s.size() && s[i] == ' ') ++i;
      if (i >= s.size() || s[i] != '"') return false;
      ++i;
      std::size_t value_start = i;
      bool escaped = false;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) {
          escaped = true;
          ++i;
        }
        ++i;
      }
      if (i >= s.size()) return false;  // unterminated value
      std::string_view raw_value = s.substr(value_start, i - value_start);
      ++i;  // closing quote
      Field f;
      f.key.reserve(4 + id.size() + name.size());
      f.key.append("sd.").append(id).append(".").append(name);
      if (escaped) {
        AppendUnescaped(raw_value, &f.value);
      } else {
        f.value.assign(raw_value);
      }
      out->fields.push_back(std::move(f));
    }
    if (i >= s.size()) return false;  // unterminated element
    ++i;                              // ']'
  }
  *pos = i;
  return true;
}

}  // namespace

bool ParseRfc5424(std::string_view s, std::int64_t received_ns, const ParseContext& ctx,
                  Event* out) {
  std::size_t i = 0;
  int pri;
  if (!internal::ReadPri(s, &i, &pri)) return false;
  if (i + 1 >= s.size() || s[i] != '1' || s[i + 1] != ' ') {
    // "<PRI>1" at the very end is still a (truncated) 5424 message.
    if (!(i + 1 == s.size() && s[i] == '1')) return false;
  }
  i += 2;
  out->format = "rfc5424";
  internal::SetPri(pri, out);
  out->time_flags = 0;

  // TIMESTAMP
  WallTime t;
  std::size_t ts_pos = i;
  std::uint8_t flags = 0;
  std::int64_t ns = 0;
  if (ts_pos < s.size() && s[ts_pos] != '-' && ReadIsoTime(s, &ts_pos, /*strict=*/true, &t) &&
      internal::ResolveTime(t, received_ns, ctx, &ns, &flags)) {
    out->event_time_ns = ns;
    out->time_flags = flags;
    i = ts_pos < s.size() ? ts_pos + 1 : ts_pos;
  } else {
    NextToken(s, &i);  // NILVALUE or an invalid timestamp: skip it
    out->event_time_ns = received_ns;
    out->time_flags = kTimeFromReceipt;
  }

  out->host.assign(NextToken(s, &i));
  out->app.assign(NextToken(s, &i));
  out->procid.assign(NextToken(s, &i));
  out->msgid.assign(NextToken(s, &i));
  out->fields.clear();
  out->message.clear();
  if (i >= s.size()) return true;

  // STRUCTURED-DATA
  if (s[i] == '-') {
    ++i;
  } else if (s[i] == '[') {
    out->fields.reserve(8);  // one allocation for typical SD instead of 1, 2, 4, 8
    if (!ReadStructuredData(s, &i, out)) {
      out->Set("parse.error", "malformed structured data");
      return true;  // best effort: the fields parsed so far, no message
    }
  } else {
    // No SD at all (a sender that skipped it): the rest is the message.
    out->Set("parse.error", "missing structured data");
    --i;  // i > 0 here: NextToken stopped after a space; let the check below skip it
  }
  if (i < s.size() && s[i] == ' ') ++i;
  std::string_view msg = i < s.size() ? s.substr(i) : std::string_view();
  if (msg.substr(0, kBom.size()) == kBom) msg.remove_prefix(kBom.size());
  out->message.assign(msg);
  std::string_view json;
  if (internal::JsonBody(msg, &json)) AppendJsonFields(json, out);
  return true;
}

}  // namespace mamori::parsers
