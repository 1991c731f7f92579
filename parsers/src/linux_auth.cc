// Linux authentication and administration: sshd, sudo, su, PAM, shadow-utils (useradd, usermod,
// userdel, groupadd, passwd, chage) and auditd records.
#include <string>

#include "body.h"
#include "text_util.h"

namespace mamori::parsers::internal {
namespace {

// The word after `token` with trailing punctuation removed.
std::string_view Word(std::string_view s, std::string_view token) {
  std::size_t p = s.find(token);
  if (p == std::string_view::npos) return {};
  std::size_t a = p + token.size();
  while (a < s.size() && s[a] == ' ') ++a;
  std::size_t e = s.find(' ', a);
  std::string_view w = s.substr(a, (e == std::string_view::npos ? s.size() : e) - a);
  while (!w.empty() && (w.back() == ':' || w.back() == ',' || w.back() == ';' || w.back() == ']' ||
                        w.back() == ')' || w.back() == '\'' || w.back() == '.')) {
    w.remove_suffix(1);
  }
  while (!w.empty() && (w.front() == '[' || w.front() == '(' || w.front() == '\'')) {
    w.remove_prefix(1);
  }
  return w;
}

bool Has(std::string_view s, std::string_view t) { return s.find(t) != std::string_view::npos; }

// The first IP that follows one of the usual introducers.
std::string_view FindSourceIp(std::string_view s) {
  static constexpr std::string_view kIntro[] = {
      " from ",    "rhost=", "remote host ",       "closed by ", "Connection from ",
      "reset by ", " [",     "Disconnected from ", " with ",     "Address "};
  for (std::string_view t : kIntro) {
    std::size_t p = 0;
    for (int k = 0; k < 4; ++k) {
      p = s.find(t, p);
      if (p == std::string_view::npos) break;
      p += t.size();
      std::size_t e = s.find_first_of(" ]", p);
      std::string_view w = s.substr(p, (e == std::string_view::npos ? s.size() : e) - p);
      while (!w.empty() && (w.back() == ':' || w.back() == ',' || w.back() == '.')) {
        w.remove_suffix(1);
      }
      if (IsIp(w)) return w;
      // "from invalid user x 1.2.3.4" / "closed by authenticating user x 1.2.3.4"
    }
  }
  // "... user root 1.2.3.4 port 22" forms: the word before " port ".
  std::size_t port = s.find(" port ");
  if (port != std::string_view::npos) {
    std::size_t b = s.rfind(' ', port - 1);
    std::string_view w = s.substr(b == std::string_view::npos ? 0 : b + 1,
                                  port - (b == std::string_view::npos ? 0 : b + 1));
    if (IsIp(w)) return w;
  }
  return {};
}

std::string_view FindSshUser(std::string_view s) {
  static constexpr std::string_view kIntro[] = {"for invalid user ",
                                                "Invalid user ",
                                                "invalid user ",
                                                "for illegal user ",
                                                "Illegal user ",
                                                "authenticating user ",
                                                "Disconnected from user ",
                                                " for user ",
                                                "User ",
                                                "user="};
  for (std::string_view t : kIntro) {
    std::string_view w = Word(s, t);
    if (!w.empty() && w != "from" && !IsIp(w)) return w;
  }
  // "Accepted password for root from" / "Failed password for root from"
  std::size_t p = s.find(" for ");
  if (p != std::string_view::npos && (StartsWith(s, "Accepted ") || StartsWith(s, "Failed ") ||
                                      Has(s, "attempts exceeded for "))) {
    std::string_view w = Word(s.substr(p), " for ");
    if (!w.empty()) return w;
  }
  return {};
}

// The value of "key=" up to a space (PAM style "rhost= user=root").
std::string_view KvWord(std::string_view s, std::string_view key) {
  std::size_t p = 0;
  while ((p = s.find(key, p)) != std::string_view::npos) {
    if (p == 0 || s[p - 1] == ' ' || s[p - 1] == ';') break;
    p += key.size();
  }
  if (p == std::string_view::npos) return {};
  p += key.size();
  std::size_t e = s.find_first_of(" ;", p);
  return s.substr(p, (e == std::string_view::npos ? s.size() : e) - p);
}

void AddSource(Event* out, std::string_view s) {
  std::string_view ip = FindSourceIp(s);
  if (ip.empty()) return;
  Add(out, "source.ip", ip);
  std::size_t p = s.find(ip);
  std::string_view port = Word(s.substr(p + ip.size()), " port ");
  if (AllDigits(port) && s.find(" port ", p + ip.size()) == p + ip.size()) {
    Add(out, "source.port", port);
  }
}

}  // namespace

bool ReadPamLine(std::string_view msg, Event* out) {
  std::string_view s = msg;
  if (StartsWith(s, "pam_")) {
    std::size_t lp = s.find('(');
    std::size_t rp = s.find("): ");
    if (lp != std::string_view::npos && rp != std::string_view::npos && lp < rp) {
      Add(out, "pam.module", s.substr(0, lp));
      std::string_view svc = s.substr(lp + 1, rp - lp - 1);
      std::size_t c = svc.find(':');
      Add(out, "pam.service", svc.substr(0, c));
      if (c != std::string_view::npos) Add(out, "pam.type", svc.substr(c + 1));
      s = s.substr(rp + 3);
    } else if (rp == std::string_view::npos && lp == std::string_view::npos) {
      std::size_t colon = s.find(": ");
      if (colon != std::string_view::npos && colon < 32) s = s.substr(colon + 2);
    }
  }
  if (Has(s, "authentication failure") || Has(s, "more authentication failure")) {
    std::string_view rhost = KvWord(s, "rhost=");
    if (IsIp(rhost)) Add(out, "source.ip", rhost);
    std::string_view user = KvWord(s, "user=");
    if (user.empty()) user = KvWord(s, "ruser=");
    if (!user.empty()) Add(out, "user.name", user);
    SetAction(out, "login", "failure");
    return true;
  }
  if (StartsWith(s, "check pass; user unknown")) {
    SetAction(out, "login", "failure");
    return true;
  }
  if (StartsWith(s, "session opened for user ") || StartsWith(s, "session closed for user ")) {
    bool opened = s[8] == 'o';
    std::string_view user = Word(s, "for user ");
    std::size_t lp = user.find('(');
    if (lp != std::string_view::npos) user = user.substr(0, lp);
    if (!user.empty()) Add(out, "user.name", user);
    std::string_view by = Word(s, " by ");
    std::size_t byp = by.find('(');
    if (byp != std::string_view::npos) by = by.substr(0, byp);
    if (!by.empty()) Add(out, "pam.by", by);
    SetAction(out, opened ? "session-opened" : "session-closed", "success");
    return true;
  }
  if (StartsWith(s, "password changed for ")) {
    Add(out, "user.target.name", Word(s, "password changed for "));
    SetAction(out, "password-changed", "success");
    return true;
  }
  return false;
}

bool ParseSshd(const Body& b, Event* out) {
  std::string_view s = Trim(b.text);
  if (StartsWith(s, "message repeated ")) {
    std::size_t lb = s.find("[ ");
    if (lb != std::string_view::npos) s = s.substr(lb + 2);
  }
  out->format = "sshd";
  Add(out, "process.name", "sshd");
  if (StartsWith(s, "pam_") || StartsWith(s, "PAM ")) {
    if (StartsWith(s, "PAM ")) {
      // "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=..."
      ReadPamLine(s.substr(4), out);
    } else {
      ReadPamLine(s, out);
    }
    return true;
  }
  if (ReadPamLine(s, out)) return true;  // "sshd(pam_unix)[1]: authentication failure; ..."
  AddSource(out, s);
  std::string_view user = FindSshUser(s);
  if (!user.empty()) Add(out, "user.name", user);
  if (StartsWith(s, "Accepted ")) {
    Add(out, "sshd.method", Word(s, "Accepted "));
    SetAction(out, "login", "success");
  } else if (StartsWith(s, "Failed ")) {
    Add(out, "sshd.method", Word(s, "Failed "));
    SetAction(out, "login", "failure");
  } else if (StartsWith(s, "Invalid user") || StartsWith(s, "Illegal user") ||
             StartsWith(s, "input_userauth_request: invalid user") ||
             Has(s, "authentication attempts exceeded") || Has(s, " not allowed because ") ||
             StartsWith(s, "Authentication refused") ||
             Has(s, "Too many authentication failures")) {
    SetAction(out, "login", "failure");
  } else if (StartsWith(s, "Received disconnect") || StartsWith(s, "Disconnected from") ||
             StartsWith(s, "Connection closed by") || StartsWith(s, "Disconnecting")) {
    SetAction(out, "disconnect", "");
  } else if (StartsWith(s, "Did not receive identification string") ||
             StartsWith(s, "Bad protocol version identification")) {
    SetAction(out, "connection-refused", "failure");
  } else if (Has(s, "POSSIBLE BREAK-IN ATTEMPT")) {
    SetAction(out, "reverse-mapping-failed", "");
  } else if (StartsWith(s, "Connection from ")) {
    SetAction(out, "connect", "");
  }
  return true;
}

bool ParseSudo(const Body& b, Event* out) {
  std::string_view s = Trim(b.text);
  out->format = "sudo";
  Add(out, "process.name", "sudo");
  if (StartsWith(s, "pam_")) {
    ReadPamLine(s, out);
    return true;
  }
  std::size_t sep = s.find(" : ");
  if (sep == std::string_view::npos || sep > 64) return true;  // other sudo chatter
  Add(out, "user.name", Trim(s.substr(0, sep)));
  std::string_view rest = s.substr(sep + 3);
  bool failed = false;
  std::size_t i = 0;
  int guard = 0;
  while (i < rest.size() && guard++ < 32) {
    std::size_t e = rest.find(" ; ", i);
    std::string_view part = rest.substr(i, (e == std::string_view::npos ? rest.size() : e) - i);
    std::size_t eq = part.find('=');
    std::string_view k = eq == std::string_view::npos ? part : part.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    if (k == "TTY") {
      Add(out, "sudo.tty", v);
    } else if (k == "PWD") {
      Add(out, "sudo.pwd", v);
    } else if (k == "USER") {
      Add(out, "user.target.name", v);
    } else if (k == "COMMAND") {
      Add(out, "process.command_line", v);
    } else if (eq == std::string_view::npos) {
      // "3 incorrect password attempts", "user NOT in sudoers", "command not allowed"
      Add(out, "sudo.error", part);
      failed = true;
    }
    if (e == std::string_view::npos) break;
    i = e + 3;
  }
  SetAction(out, "sudo", failed ? "failure" : "success");
  return true;
}

bool ParseSu(const Body& b, Event* out) {
  std::string_view s = Trim(b.text);
  out->format = "su";
  Add(out, "process.name", "su");
  if (StartsWith(s, "pam_") || StartsWith(s, "authentication failure")) {
    ReadPamLine(s, out);
    return true;
  }
  if (ReadPamLine(s, out)) return true;  // "session opened for user ..." without prefix
  bool failed = StartsWith(s, "BAD SU") || StartsWith(s, "FAILED SU") || StartsWith(s, "failed:") ||
                StartsWith(s, "- ");
  std::string_view user, target;
  if (Has(s, "(to ")) {
    // "(to root) dcid on pts/0", "FAILED SU (to root) dcid on pts/0"
    target = Word(s, "(to ");
    std::size_t rp = s.find(") ");
    if (rp != std::string_view::npos) user = Word(s.substr(rp), ") ");
  } else if (StartsWith(s, "+ ") || StartsWith(s, "- ")) {
    // "+ pts/0 dcid:root"
    std::size_t sp = s.rfind(' ');
    std::string_view pair = s.substr(sp + 1);
    std::size_t c = pair.find(':');
    if (c != std::string_view::npos) {
      user = pair.substr(0, c);
      target = pair.substr(c + 1);
    }
  } else if (Has(s, " to ")) {
    // "BAD SU ger to fwmaster on /dev/ttyp0", "dcid to root on /dev/ttyp1",
    // "failed: ttyq4 changing from ldap to root"
    std::size_t to = s.find(" to ");
    std::size_t b2 = s.rfind(' ', to - 1);
    user = s.substr(b2 == std::string_view::npos ? 0 : b2 + 1,
                    to - (b2 == std::string_view::npos ? 0 : b2 + 1));
    target = Word(s.substr(to), " to ");
  } else if (StartsWith(s, "Successful su for ")) {
    target = Word(s, "su for ");
    user = Word(s, " by ");
  }
  if (!user.empty()) Add(out, "user.name", user);
  if (!target.empty()) Add(out, "user.target.name", target);
  SetAction(out, "su", failed ? "failure" : (user.empty() ? "" : "success"));
  return true;
}

bool ParsePam(const Body& b, Event* out) {
  std::string_view s = Trim(b.text);
  std::size_t n = out->fields.size();
  if (!ReadPamLine(s, out)) {
    out->fields.resize(n);
    return false;
  }
  out->format = "pam";
  return true;
}

bool ParseUserAdmin(const Body& b, Event* out) {
  std::string_view s = Trim(b.text);
  out->format = "linux_user";
  auto quoted = [&](std::size_t from) -> std::string_view {
    std::size_t a = s.find('\'', from);
    if (a == std::string_view::npos) return {};
    std::size_t e = s.find('\'', a + 1);
    return e == std::string_view::npos ? std::string_view() : s.substr(a + 1, e - a - 1);
  };
  if (StartsWith(s, "new user: ") || StartsWith(s, "new group: ")) {
    bool user = s[4] == 'u';
    std::string_view name = KvWord(s, "name=");
    if (!name.empty() && name.back() == ',') name.remove_suffix(1);
    Add(out, user ? "user.target.name" : "group.name", name);
    std::string_view uid = KvWord(s, user ? "UID=" : "GID=");
    if (!uid.empty() && uid.back() == ',') uid.remove_suffix(1);
    if (!uid.empty()) Add(out, user ? "user.target.id" : "group.id", uid);
    SetAction(out, user ? "user-created" : "group-created", "success");
  } else if (StartsWith(s, "add '") || StartsWith(s, "delete '")) {
    Add(out, "user.target.name", quoted(0));
    std::size_t g = s.find("group '");
    if (g != std::string_view::npos) Add(out, "group.name", quoted(g));
    SetAction(out, s[0] == 'a' ? "user-added-to-group" : "user-removed-from-group", "success");
  } else if (StartsWith(s, "delete user '")) {
    Add(out, "user.target.name", quoted(0));
    SetAction(out, "user-deleted", "success");
  } else if (StartsWith(s, "removed group '") || StartsWith(s, "group '")) {
    Add(out, "group.name", quoted(0));
    SetAction(out, "group-deleted", "success");
  } else if (StartsWith(s, "change user '")) {
    Add(out, "user.target.name", quoted(0));
    SetAction(out, "user-changed", "success");
  } else if (StartsWith(s, "password for '")) {
    Add(out, "user.target.name", quoted(0));
    std::size_t by = s.find("by '");
    if (by != std::string_view::npos) Add(out, "user.name", quoted(by));
    SetAction(out, "password-changed", "success");
  } else if (StartsWith(s, "changed password expiry for ")) {
    Add(out, "user.target.name", Word(s, "expiry for "));
    SetAction(out, "user-changed", "success");
  } else if (StartsWith(s, "pam_")) {
    ReadPamLine(s, out);
  } else if (Has(s, "failed")) {
    SetAction(out, "user-change", "failure");
  }
  return true;
}

namespace {

// auditd key=value with single-quoted values (msg='...'); calls f for each pair, descending into
// msg='...'.
template <typename F>
void ForEachAuditPair(std::string_view s, F&& f, int depth = 0) {
  std::size_t i = 0;
  int guard = 0;
  while (i < s.size() && guard++ < 512) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t k = i;
    while (i < s.size() && s[i] != '=' && s[i] != ' ') ++i;
    if (i >= s.size() || s[i] != '=') {
      while (i < s.size() && s[i] != ' ') ++i;
      continue;
    }
    std::string_view key = s.substr(k, i - k);
    ++i;
    std::string_view v;
    char q = i < s.size() ? s[i] : 0;
    if (q == '\'' || q == '"') {
      std::size_t a = ++i;
      while (i < s.size() && s[i] != q) ++i;
      v = s.substr(a, (i < s.size() ? i : s.size()) - a);
      if (i < s.size()) ++i;
      if (q == '\'' && key == "msg" && depth == 0) {
        ForEachAuditPair(v, f, 1);
        continue;
      }
    } else {
      std::size_t a = i;
      while (i < s.size() && s[i] != ' ') ++i;
      v = s.substr(a, i - a);
    }
    f(key, v);
  }
}

}  // namespace

bool ParseAuditd(const Body& b, Event* out) {
  std::string_view s = Trim(b.text);
  std::size_t at = s.find("audit(");
  if (!StartsWith(s, "type=") || at == std::string_view::npos || at > 64) return false;
  std::size_t rp = s.find("):", at);
  if (rp == std::string_view::npos) return false;
  std::string_view type = s.substr(5, s.find(' ') - 5);
  std::string_view stamp = s.substr(at + 6, rp - at - 6);  // 1234567890.123:456
  std::size_t colon = stamp.find(':');
  out->format = "auditd";
  Add(out, "auditd.type", type);
  if (colon != std::string_view::npos) {
    Add(out, "auditd.sequence", stamp.substr(colon + 1));
    std::string_view secs = stamp.substr(0, stamp.find('.'));
    std::int64_t v = 0;
    if (AllDigits(secs) && secs.size() <= 11) {
      for (char c : secs) v = v * 10 + (c - '0');
    }
    if (b.standalone && v > 0 && v < 7'258'118'400) {  // before 2200: no ns overflow
      std::string_view frac = stamp.substr(secs.size(), colon - secs.size());
      std::int64_t ms = 0;
      if (frac.size() == 4 && AllDigits(frac.substr(1))) {
        ms = (frac[1] - '0') * 100 + (frac[2] - '0') * 10 + (frac[3] - '0');
      }
      out->event_time_ns = v * 1'000'000'000 + ms * 1'000'000;
      out->time_flags = 0;
    }
  }
  std::string_view res, op;
  ForEachAuditPair(s.substr(rp + 2), [&](std::string_view k, std::string_view v) {
    std::string key = "auditd.";
    key.append(k);
    Add(out, key, v);
    if (v.empty() || v == "?" || v == "(null)") return;
    if (k == "acct" || k == "id") {
      if (out->Get("user.name") == nullptr) Add(out, "user.name", v);
    } else if (k == "addr" && IsIp(v)) {
      Add(out, "source.ip", v);
    } else if (k == "exe") {
      Add(out, "process.executable", v);
    } else if (k == "comm") {
      Add(out, "process.name", v);
    } else if (k == "pid") {
      if (out->Get("process.pid") == nullptr) Add(out, "process.pid", v);
    } else if (k == "res" || k == "success") {
      res = v;
    } else if (k == "op") {
      op = v;
    }
  });
  std::string action;
  for (char c : (op.empty() ? type : op)) action.push_back(c == '_' ? '-' : ToLower(c));
  std::string_view outcome = (res == "success" || res == "yes" || res == "1") ? "success"
                             : (res == "failed" || res == "no" || res == "0") ? "failure"
                                                                              : "";
  SetAction(out, action, outcome);
  return true;
}

}  // namespace mamori::parsers::internal
