#include "mamori/parsers/parser.h"

#include <algorithm>
#include <cstring>

#include "body.h"
#include "mamori/parsers/json.h"
#include "mamori/parsers/syslog.h"
#include "text_util.h"

namespace mamori::parsers {
namespace {

using internal::Body;
using internal::BodyParser;
using internal::StartsWith;

constexpr std::string_view kRfc5424 = "rfc5424";
constexpr std::string_view kRfc3164 = "rfc3164";
constexpr std::string_view kJson = "json";
constexpr std::string_view kUnparsed = "unparsed";

// Body formats: name and parser. The order is the order of FormatNames() after the syslog ones.
struct BodyFormat {
  std::string_view name;
  BodyParser parse;
};
constexpr BodyFormat kBodyFormats[] = {
    {"cef", internal::ParseCef},
    {"leef", internal::ParseLeef},
    {"fortigate", internal::ParseFortigate},
    {"kv", internal::ParseKv},
    {"cisco_asa", internal::ParseCiscoAsa},
    {"panos", internal::ParsePanos},
    {"checkpoint", internal::ParseCheckpoint},
    {"iptables", internal::ParseIptables},
    {"pfsense", internal::ParseFilterlog},
    {"sshd", internal::ParseSshd},
    {"sudo", internal::ParseSudo},
    {"su", internal::ParseSu},
    {"pam", internal::ParsePam},
    {"linux_user", internal::ParseUserAdmin},
    {"auditd", internal::ParseAuditd},
    {"http_access", internal::ParseHttpAccess},
    {"apache_error", internal::ParseApacheError},
    {"nginx_error", internal::ParseNginxError},
    {"snare", internal::ParseSnare},
};
constexpr std::string_view kWindows = "windows";

const BodyFormat* FindBodyFormat(std::string_view name) {
  for (const BodyFormat& f : kBodyFormats) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

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

// Tries one body parser; drops what it appended when it declines.
bool Try(BodyParser p, const Body& b, Event* out) {
  std::size_t n = out->fields.size();
  if (p(b, out)) return true;
  out->fields.resize(n);
  return false;
}

// Body parser chosen by the syslog APP-NAME / TAG (exact, lower case), or null.
bool ByApp(const Body& b, Event* out, bool* known) {
  std::string_view app = b.app;
  bool pam = false;
  std::size_t paren = app.find("(pam_");
  if (paren != std::string_view::npos) {
    app = app.substr(0, paren);
    pam = true;
  }
  *known = true;
  if (app.empty()) {
    *known = false;
    return false;
  }
  switch (app[0]) {
    case 's':
      if (app == "sshd") return Try(internal::ParseSshd, b, out);
      if (app == "sudo") return Try(internal::ParseSudo, b, out);
      if (app == "su") return Try(internal::ParseSu, b, out);
      break;
    case 'k':
      if (app == "kernel") {
        return Try(internal::ParseIptables, b, out) || Try(internal::ParseAuditd, b, out);
      }
      break;
    case 'f':
      if (app == "filterlog") return Try(internal::ParseFilterlog, b, out);
      break;
    case 'u':
    case 'g':
    case 'p':
    case 'c':
    case 'n':
      if (app == "useradd" || app == "usermod" || app == "userdel" || app == "groupadd" ||
          app == "groupdel" || app == "groupmod" || app == "passwd" || app == "chpasswd" ||
          app == "chage" || app == "gpasswd" || app == "newusers") {
        return Try(internal::ParseUserAdmin, b, out);
      }
      if (app == "nginx") {
        return Try(internal::ParseHttpAccess, b, out) || Try(internal::ParseNginxError, b, out);
      }
      break;
    case 'a':
    case 'h':
      if (app == "audit" || app == "auditd" || app == "audispd" || app == "audisp-syslog") {
        return Try(internal::ParseAuditd, b, out);
      }
      if (app == "httpd" || app == "apache" || app == "apache2" || app == "apache-access" ||
          app == "apache-error") {
        return Try(internal::ParseHttpAccess, b, out) || Try(internal::ParseApacheError, b, out);
      }
      break;
    case 'C':
      if (app == "CheckPoint") return Try(internal::ParseCheckpoint, b, out);
      break;
    default:
      break;
  }
  if (pam) return Try(internal::ParsePam, b, out);
  *known = false;
  return false;
}

// Body parser chosen by the content (cheap checks on the first bytes first).
bool BySniff(const Body& b, Event* out) {
  std::string_view s = b.full;
  if (s.empty()) return false;
  std::string_view head = s.substr(0, 160);
  // "CEF:" anywhere in the head wins over "LEEF:": one pass over the "EF:" in it.
  bool leef = false;
  for (std::size_t at = internal::FindBy(head, "EF:", 1); at != std::string_view::npos;
       at = internal::FindBy(head, "EF:", 1, at + 1)) {
    if (at >= 1 && head[at - 1] == 'C') return Try(internal::ParseCef, b, out);
    if (at >= 2 && head[at - 1] == 'E' && head[at - 2] == 'L') leef = true;
  }
  if (leef) return Try(internal::ParseLeef, b, out);
  if (head.find('%') != std::string_view::npos && Try(internal::ParseCiscoAsa, b, out)) {
    return true;
  }
  // Characters each remaining parser cannot do without, and how far into the body its search
  // looks for them: a parser that would decline for want of one is not called. The order of the
  // others is unchanged.
  // Each bound is where the parser's own search stops (after Trim() for those that trim).
  auto first = [](std::string_view v, char ch) {
    const void* p = v.empty() ? nullptr : std::memchr(v.data(), ch, v.size());
    return p == nullptr ? std::string_view::npos
                        : static_cast<std::size_t>(static_cast<const char*>(p) - v.data());
  };
  auto lead = [](std::string_view v) {  // what Trim() takes off the front
    std::size_t n = 0;
    while (n < v.size() && (v[n] == ' ' || v[n] == '\t' || v[n] == '\r' || v[n] == '\n')) ++n;
    return n;
  };
  // The searches are bounded there too, and each is made when a gate first needs it (a long
  // line that PAN-OS takes at once is not scanned for '[' and '=').
  const std::size_t text_lead = lead(b.text);
  const std::size_t full_lead = lead(b.full);
  std::size_t bracket = std::string_view::npos - 1, equals = std::string_view::npos - 1;
  auto bracket_at = [&] {
    if (bracket == std::string_view::npos - 1) {
      bracket = first(b.text.substr(0, std::max<std::size_t>(514, 129 + text_lead)), '[');
    }
    return bracket;
  };
  auto equals_at = [&] {
    if (equals == std::string_view::npos - 1) {
      equals = first(b.text.substr(0, std::max<std::size_t>(203, 65 + text_lead)), '=');
    }
    return equals;
  };
  const bool panos = first(b.full.substr(0, 97 + full_lead), ',') != std::string_view::npos;
  auto checkpoint = [&] { return bracket_at() <= 128 + text_lead; };  // "[" within 128
  auto http = [&] { return bracket_at() <= 513; };          // " [time]" starting within 512
  auto iptables = [&] { return equals_at() <= 202; };       // "IN=" within 200
  auto kv = [&] { return equals_at() <= 64 + text_lead; };  // "key=" within 64
  auto fortigate = [&] { return first(s.substr(0, 128), '=') != std::string_view::npos; };
  char c = s[0];
  if (c >= '0' && c <= '9') {
    if ((panos && Try(internal::ParsePanos, b, out)) || Try(internal::ParseNginxError, b, out) ||
        (checkpoint() && Try(internal::ParseCheckpoint, b, out))) {
      return true;
    }
  } else if (c == '[') {
    if (Try(internal::ParseApacheError, b, out) || Try(internal::ParseCheckpoint, b, out)) {
      return true;
    }
  } else if (c == 't' && StartsWith(s, "type=")) {
    if (Try(internal::ParseAuditd, b, out)) return true;
  } else if (c == 'p' && StartsWith(b.text, "pam_")) {
    if (Try(internal::ParsePam, b, out)) return true;
  }
  if (fortigate() && Try(internal::ParseFortigate, b, out)) return true;
  if (internal::FindBy(head, "MSWinEventLog", 2) != std::string_view::npos &&
      Try(internal::ParseSnare, b, out)) {
    return true;
  }
  if ((iptables() && Try(internal::ParseIptables, b, out)) ||
      (http() && Try(internal::ParseHttpAccess, b, out)) ||
      (panos && Try(internal::ParsePanos, b, out)) ||
      (checkpoint() && Try(internal::ParseCheckpoint, b, out))) {
    return true;
  }
  return kv() && Try(internal::ParseKv, b, out);
}

// After a syslog header: the body parser pinned, or by app name, or by content.
void ParseSyslogBody(const Body& b, const BodyFormat* pinned, Event* out) {
  std::string_view syslog_format = out->format == kRfc5424 ? kRfc5424 : kRfc3164;
  bool ok = false;
  if (pinned != nullptr) {
    ok = Try(pinned->parse, b, out);
  } else if (!out->fields.empty() && internal::StartsWith(internal::Trim(b.text), "{")) {
    ok = internal::NormalizeWindowsJson(out);
  } else {
    bool known = false;
    ok = ByApp(b, out, &known);
    if (!ok && !known) ok = BySniff(b, out);
  }
  if (ok) internal::Add(out, "log.syslog.format", syslog_format);
}

// The RFC 5424 text after HEADER (6 words), for bodies our SD parser rejected (Check Point).
std::string_view After5424Header(std::string_view s) {
  std::size_t i = 0;
  for (int k = 0; k < 6 && i != std::string_view::npos; ++k) {
    i = s.find(' ', i);
    if (i != std::string_view::npos) ++i;
  }
  return i == std::string_view::npos ? std::string_view() : s.substr(i);
}

bool ParseSyslogOrJson(std::string_view s, std::int64_t received_ns, const ParseContext& ctx,
                       const BodyFormat* pinned, Event* out) {
  std::size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\t')) ++start;
  if (start < s.size() && s[start] == '{') {
    if (!ParseJson(s, received_ns, ctx, out)) return false;
    internal::NormalizeWindowsJson(out);
    return true;
  }
  Body b;
  b.received_ns = received_ns;
  b.ctx = &ctx;
  if (!s.empty() && s[0] == '<' && Looks5424(s) && ParseRfc5424(s, received_ns, ctx, out)) {
    b.text = out->message;
    if (out->message.empty() || out->Get("parse.error") != nullptr) b.text = After5424Header(s);
    b.full = b.text;
    b.app = out->app;
    ParseSyslogBody(b, pinned, out);
    return true;
  }
  std::size_t tag_pos = 0;
  if (internal::ParseRfc3164At(s, received_ns, ctx, out, &tag_pos)) {
    b.text = out->message;
    b.full = tag_pos < s.size() ? s.substr(tag_pos) : std::string_view();
    b.app = out->app;
    ParseSyslogBody(b, pinned, out);
    return true;
  }
  return false;
}

// A line without a syslog header: a body format on its own (access logs, CEF, ASA, ...).
bool ParseStandalone(const RawRecord& raw, const ParseContext& ctx, const BodyFormat* pinned,
                     Event* out) {
  MakeUnparsed(raw, out);
  Body b;
  b.text = raw.bytes;
  b.full = raw.bytes;
  b.standalone = true;
  b.received_ns = raw.received_ns;
  b.ctx = &ctx;
  bool ok = pinned != nullptr ? Try(pinned->parse, b, out) : BySniff(b, out);
  if (!ok) return false;
  return true;
}

}  // namespace

Event Parse(const RawRecord& raw, const ParseContext& ctx) {
  Event e;
  Parse(raw, ctx, &e);
  return e;
}

void Parse(const RawRecord& raw, const ParseContext& ctx, Event* out) {
  Event& e = *out;
  std::string_view s = raw.bytes;
  bool ok = false;
  if (ctx.format == "auto") {
    ok = ParseSyslogOrJson(s, raw.received_ns, ctx, nullptr, &e) ||
         ParseStandalone(raw, ctx, nullptr, &e);
  } else if (ctx.format == kRfc5424) {
    ok = ParseRfc5424(s, raw.received_ns, ctx, &e);
  } else if (ctx.format == kRfc3164) {
    ok = ParseRfc3164(s, raw.received_ns, ctx, &e);
  } else if (ctx.format == kJson) {
    ok = ParseJson(s, raw.received_ns, ctx, &e);
  } else if (ctx.format == kWindows) {
    ok = ParseJson(s, raw.received_ns, ctx, &e) && internal::NormalizeWindowsJson(&e);
  } else if (const BodyFormat* f = FindBodyFormat(ctx.format)) {
    // Pinned body format: a syslog header is read when present; the body must be that format.
    ok = ParseSyslogOrJson(s, raw.received_ns, ctx, f, &e) && e.format == f->name;
    if (!ok) ok = ParseStandalone(raw, ctx, f, &e);
  }
  if (!ok) MakeUnparsed(raw, &e);
}

const std::vector<std::string_view>& FormatNames() {
  static const std::vector<std::string_view>* names = [] {
    auto* v = new std::vector<std::string_view>{kRfc5424, kRfc3164, kJson};
    for (const BodyFormat& f : kBodyFormats) v->push_back(f.name);
    v->push_back(kWindows);
    v->push_back(kUnparsed);
    return v;
  }();
  return *names;
}

bool IsKnownFormat(std::string_view name) {
  if (name == kUnparsed) return false;
  if (name == "auto") return true;
  for (std::string_view n : FormatNames()) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace mamori::parsers
