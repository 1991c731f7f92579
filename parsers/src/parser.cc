#include "mamori/parsers/parser.h"

#include "mamori/parsers/json.h"
#include "mamori/parsers/syslog.h"

namespace mamori::parsers {
namespace {

constexpr std::string_view kRfc5424 = "rfc5424";
constexpr std::string_view kRfc3164 = "rfc3164";
constexpr std::string_view kJson = "json";
constexpr std::string_view kUnparsed = "unparsed";

void MakeUnparsed(const RawRecord& raw, Event* out) {
  *out = Event();
  out->format = kUnparsed;
  out->message = raw.bytes;
  out->event_time_ns = raw.received_ns;
  out->time_flags = kTimeFromReceipt;
}

// "<PRI>1 " at the start: the RFC 5424 signature.
bool Looks5424(std::string_view s) {
  std::size_t i = 1;
  while (i < s.size() && i <= 4 && s[i] >= '0' && s[i] <= '9') ++i;
  return i > 1 && i + 1 < s.size() && s[i] == '>' && s[i + 1] == '1' &&
         (i + 2 == s.size() || s[i + 2] == ' ');
}

bool ParseAuto(std::string_view s, std::int64_t received_ns, const ParseContext& ctx, Event* out) {
  if (s.empty()) return false;
  switch (s[0]) {
    case '<':
      if (Looks5424(s) && ParseRfc5424(s, received_ns, ctx, out)) return true;
      return ParseRfc3164(s, received_ns, ctx, out);
    case '{':
      return ParseJson(s, received_ns, ctx, out);
    case ' ':
    case '\t': {
      std::size_t i = s.find_first_not_of(" \t");
      if (i != std::string_view::npos && s[i] == '{') return ParseJson(s, received_ns, ctx, out);
      return ParseRfc3164(s, received_ns, ctx, out);
    }
    default:
      return ParseRfc3164(s, received_ns, ctx, out);
  }
}

}  // namespace

Event Parse(const RawRecord& raw, const ParseContext& ctx) {
  Event e;
  std::string_view s = raw.bytes;
  bool ok = false;
  if (ctx.format == "auto") {
    ok = ParseAuto(s, raw.received_ns, ctx, &e);
  } else if (ctx.format == kRfc5424) {
    ok = ParseRfc5424(s, raw.received_ns, ctx, &e);
  } else if (ctx.format == kRfc3164) {
    ok = ParseRfc3164(s, raw.received_ns, ctx, &e);
  } else if (ctx.format == kJson) {
    ok = ParseJson(s, raw.received_ns, ctx, &e);
  }
  if (!ok) MakeUnparsed(raw, &e);
  return e;
}

const std::vector<std::string_view>& FormatNames() {
  static const std::vector<std::string_view>* names =
      new std::vector<std::string_view>{kRfc5424, kRfc3164, kJson, kUnparsed};
  return *names;
}

bool IsKnownFormat(std::string_view name) {
  return name == "auto" || name == kRfc5424 || name == kRfc3164 || name == kJson;
}

}  // namespace mamori::parsers
