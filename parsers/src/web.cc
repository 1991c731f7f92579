// Web servers: Apache/Nginx access logs (common and combined, with the variants that put several
// client addresses or a virtual host first) and the Apache and Nginx error logs.
#include <string>

#include "body.h"
#include "text_util.h"

namespace mamori::parsers::internal {
namespace {

int Month(std::string_view m) {
  static constexpr std::string_view kM[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (EqualsNoCase(m, kM[i])) return i + 1;
  }
  return 0;
}

int Num(std::string_view s) {
  if (s.size() > 9) return -1;  // no int overflow (found by fuzz_http_access)
  int v = 0;
  for (char c : s) {
    if (!Digit(c)) return -1;
    v = v * 10 + (c - '0');
  }
  return s.empty() ? -1 : v;
}

void SetTime(const WallTime& t, const Body& b, Event* out) {
  // Years outside 1970..2200 would overflow ns since the epoch (found by fuzz_auto).
  if (!b.standalone || b.ctx == nullptr || t.year < 1970 || t.year > 2200) return;
  std::int64_t ns = 0;
  std::uint8_t flags = 0;
  if (ResolveTime(t, b.received_ns, *b.ctx, &ns, &flags)) {
    out->event_time_ns = ns;
    out->time_flags = flags;
  }
}

// "26/Dec/2016:16:16:29 +0200"
bool ReadClfTime(std::string_view s, WallTime* t) {
  std::string padded;
  if (s.size() > 1 && s[1] == '/') {
    padded = "0";
    padded.append(s);
    s = padded;
  }
  if (s.size() < 20 || s[2] != '/' || s[6] != '/' || s[11] != ':') return false;
  t->day = Num(s.substr(0, 2));
  t->month = Month(s.substr(3, 3));
  t->year = Num(s.substr(7, 4));
  t->hour = Num(s.substr(12, 2));
  t->minute = Num(s.substr(15, 2));
  t->second = Num(s.substr(18, 2));
  if (t->day < 1 || t->month == 0 || t->year < 0 || t->hour < 0 || t->minute < 0 || t->second < 0) {
    return false;
  }
  if (s.size() >= 26 && (s[21] == '+' || s[21] == '-')) {
    int hh = Num(s.substr(22, 2)), mm = Num(s.substr(24, 2));
    if (hh >= 0 && mm >= 0) {
      t->has_offset = true;
      t->offset_minutes = (s[21] == '-' ? -1 : 1) * (hh * 60 + mm);
    }
  }
  return true;
}

// A quoted string at s[*i] ('"' included); advances past the closing quote.
bool ReadQuoted(std::string_view s, std::size_t* i, std::string_view* out) {
  if (*i >= s.size() || s[*i] != '"') return false;
  std::size_t a = ++*i;
  while (*i < s.size() && s[*i] != '"') *i += (s[*i] == '\\' && *i + 1 < s.size()) ? 2 : 1;
  if (*i >= s.size()) return false;
  *out = s.substr(a, *i - a);
  ++*i;
  return true;
}

std::string_view NextWord(std::string_view s, std::size_t* i) {
  while (*i < s.size() && s[*i] == ' ') ++*i;
  std::size_t a = *i;
  while (*i < s.size() && s[*i] != ' ') ++*i;
  return s.substr(a, *i - a);
}

}  // namespace

bool ParseHttpAccess(const Body& b, Event* out) {
  std::string_view s = b.text;
  std::size_t lb = FindStartingBy(s, " [", 512);
  if (lb == std::string_view::npos) return false;
  std::size_t rb = FindByLast(s.substr(0, std::min(s.size(), lb + 40 + 3)), "] \"", lb);
  if (rb == std::string_view::npos) return false;
  WallTime t;
  if (!ReadClfTime(s.substr(lb + 2, rb - lb - 2), &t)) return false;
  // Before the time: CLIENT[, CLIENT...] IDENT USER (the client part may start with a vhost).
  std::string_view head = s.substr(0, lb);
  std::size_t u = head.rfind(' ');
  if (u == std::string_view::npos) return false;
  std::string_view user = head.substr(u + 1);
  std::size_t id = head.rfind(' ', u - 1);
  if (id == std::string_view::npos) return false;
  std::string_view clients = head.substr(0, id);
  std::size_t i = rb + 2;
  std::string_view request;
  if (!ReadQuoted(s, &i, &request)) return false;
  std::string_view status = NextWord(s, &i);
  std::string_view bytes = NextWord(s, &i);
  if (Num(status) < 100 || Num(status) > 999) return false;
  out->format = "http_access";
  // "10.0.0.2, 10.0.0.1, 127.0.0.1" (X-Forwarded-For first) or "vhost:80 1.2.3.4".
  std::string_view first = clients.substr(0, clients.find_first_of(", "));
  if (!IsIp(first)) {
    std::size_t sp = clients.rfind(' ');
    if (sp != std::string_view::npos && IsIp(clients.substr(sp + 1))) {
      Add(out, "url.domain", first);
      first = clients.substr(sp + 1);
    }
  }
  Add(out, IsIp(first) ? "source.ip" : "source.address", first);
  if (clients.size() > first.size() && clients.find(',') != std::string_view::npos) {
    Add(out, "http.forwarded_for", clients);
  }
  if (user != "-" && !user.empty()) Add(out, "user.name", user);
  if (request != "-") {
    std::size_t m = request.find(' ');
    std::size_t v = request.rfind(' ');
    if (m != std::string_view::npos) {
      Add(out, "http.request.method", request.substr(0, m));
      Add(out, "url.original", request.substr(m + 1, (v > m ? v : request.size()) - m - 1));
      if (v > m && StartsWith(request.substr(v + 1), "HTTP/")) {
        Add(out, "http.version", request.substr(v + 6));
      }
    }
  }
  Add(out, "http.response.status_code", status);
  if (AllDigits(bytes)) Add(out, "http.response.body.bytes", bytes);
  std::string_view ref, agent;
  while (i < s.size() && s[i] == ' ') ++i;
  if (ReadQuoted(s, &i, &ref)) {
    if (ref != "-") Add(out, "http.request.referrer", ref);
    while (i < s.size() && s[i] == ' ') ++i;
    if (ReadQuoted(s, &i, &agent) && agent != "-") Add(out, "user_agent.original", agent);
  }
  Add(out, "event.outcome", Num(status) < 400 ? "success" : "failure");
  SetTime(t, b, out);
  return true;
}

namespace {

bool IsLevelWord(std::string_view w) {
  static constexpr std::string_view kLevels[] = {"emerg",  "alert", "crit",  "error", "warn",
                                                 "notice", "info",  "debug", "trace1"};
  for (std::string_view l : kLevels) {
    if (w == l) return true;
  }
  return false;
}

}  // namespace

bool ParseApacheError(const Body& b, Event* out) {
  std::string_view s = b.text;
  if (s.empty() || s[0] != '[') return false;
  std::size_t i = 0;
  std::string_view level, module;
  bool have_time = false;
  WallTime t;
  int guard = 0;
  // Bracketed prefixes: [time] [module:level] [pid N:tid M] [client IP:port]
  while (i < s.size() && s[i] == '[' && guard++ < 8) {
    std::size_t e = s.find(']', i);
    if (e == std::string_view::npos) break;
    std::string_view part = s.substr(i + 1, e - i - 1);
    i = e + 1;
    while (i < s.size() && s[i] == ' ') ++i;
    if (!have_time && part.size() >= 24 && part[3] == ' ' && Month(part.substr(4, 3)) != 0) {
      // "Sun Dec 04 04:47:44 2005" / "Wed Oct 11 14:32:52.123456 2000"
      std::size_t pos = 0;
      std::string_view rest = part.substr(4);
      have_time = ReadBsdTime(rest, &pos, &t);
      continue;
    }
    std::size_t c = part.find(':');
    std::string_view lv = c == std::string_view::npos ? part : part.substr(c + 1);
    if (level.empty() && IsLevelWord(lv)) {
      level = lv;
      if (c != std::string_view::npos) module = part.substr(0, c);
      continue;
    }
    if (StartsWith(part, "pid ")) {
      std::string_view pid = part.substr(4, part.find(':') - 4);
      Add(out, "process.pid", pid);
      continue;
    }
    if (StartsWith(part, "client ")) {
      std::string_view ip, port;
      if (SplitHostPort(part.substr(7), &ip, &port)) {
        Add(out, "source.ip", ip);
        if (!port.empty()) Add(out, "source.port", port);
      }
      continue;
    }
    break;
  }
  if (level.empty()) return false;
  out->format = "apache_error";
  Add(out, "log.level", level);
  if (!module.empty()) Add(out, "apache.module", module);
  Add(out, "error.message", s.substr(i < s.size() ? i : s.size()));
  if (have_time) SetTime(t, b, out);
  return true;
}

bool ParseNginxError(const Body& b, Event* out) {
  std::string_view s = b.text;
  // "2014/12/30 06:07:37 [error] 80#2: *1 message, client: IP, server: x, request: "GET / ..."
  if (s.size() < 22 || s[4] != '/' || s[7] != '/' || s[10] != ' ' || s[13] != ':' || s[20] != '[') {
    return false;
  }
  std::size_t e = s.find(']', 21);
  if (e == std::string_view::npos || e - 21 > 16) return false;
  out->format = "nginx_error";
  Add(out, "log.level", s.substr(21, e - 21));
  std::size_t i = e + 1;
  std::string_view pid = NextWord(s, &i);
  std::size_t hash = pid.find_first_of("#:");
  if (hash != std::string_view::npos && AllDigits(pid.substr(0, hash))) {
    Add(out, "process.pid", pid.substr(0, hash));
  }
  std::string_view client = WordAfter(s, "client: ");
  if (!client.empty() && client.back() == ',') client.remove_suffix(1);
  if (IsIp(client)) Add(out, "source.ip", client);
  std::size_t rq = s.find("request: \"");
  if (rq != std::string_view::npos) {
    std::size_t j = rq + 9;
    std::string_view req;
    if (ReadQuoted(s, &j, &req)) {
      std::size_t m = req.find(' ');
      std::size_t v = req.rfind(' ');
      if (m != std::string_view::npos) {
        Add(out, "http.request.method", req.substr(0, m));
        Add(out, "url.original", req.substr(m + 1, (v > m ? v : req.size()) - m - 1));
      }
    }
  }
  Add(out, "error.message", Trim(s.substr(i < s.size() ? i : s.size())));
  WallTime t;
  t.year = Num(s.substr(0, 4));
  t.month = Num(s.substr(5, 2));
  t.day = Num(s.substr(8, 2));
  t.hour = Num(s.substr(11, 2));
  t.minute = Num(s.substr(14, 2));
  t.second = Num(s.substr(17, 2));
  if (t.year > 0 && t.month > 0 && t.day > 0 && t.hour >= 0 && t.minute >= 0 && t.second >= 0) {
    SetTime(t, b, out);
  }
  return true;
}

}  // namespace mamori::parsers::internal
