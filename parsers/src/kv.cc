// key=value bodies: FortiGate (FortiOS), generic key=value, Check Point (syslog exporter).
#include <string>

#include "body.h"

namespace mamori::parsers::internal {
namespace {

std::string Lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = ToLower(c);
  return o;
}

// Firewall decision words of every vendor -> "deny" / "allow" ("" when not a decision).
std::string_view FirewallDecision(std::string_view a) {
  std::string l = Lower(a);
  if (l == "deny" || l == "denied" || l == "drop" || l == "dropped" || l == "block" ||
      l == "blocked" || l == "reject" || l == "rejected" || l == "reset" || l == "reset-both" ||
      l == "reset-client" || l == "reset-server" || l == "prevent") {
    return "deny";
  }
  if (l == "accept" || l == "accepted" || l == "allow" || l == "allowed" || l == "pass" ||
      l == "permit" || l == "permitted" || l == "passthrough" || l == "close" || l == "timeout" ||
      l == "server-rst" || l == "client-rst") {
    return "allow";
  }
  return {};
}

}  // namespace

// Shared with the other firewall parsers via SetFirewallDecision below.
void SetFirewallDecision(Event* e, std::string_view decision) {
  SetAction(e, decision, decision == "deny" ? "failure" : "success");
}

bool ParseFortigate(const Body& b, Event* out) {
  std::string_view s = b.full;
  if (!(StartsWith(s, "date=") || StartsWith(s, "logver=") || StartsWith(s, "devname=") ||
        StartsWith(s, "eventtime=") || StartsWith(s, "itime=") || StartsWith(s, "timestamp="))) {
    // Behind a header we did not read ("2018 Apr 09 16:03:37 mgr->1.2.3.4 date=...").
    std::size_t d = FindByLast(s.substr(0, 128), " date=");
    if (d == std::string_view::npos) return false;
    s = s.substr(d + 1);
  }
  if (s.find("devid=") == std::string_view::npos && s.find("logid=") == std::string_view::npos &&
      s.find("device_id=") == std::string_view::npos &&
      s.find("log_id=") == std::string_view::npos) {
    return false;
  }
  out->format = "fortigate";
  Add(out, "observer.vendor", "Fortinet");
  Add(out, "observer.product", "FortiGate");
  std::string_view type, action, status, ui, user, remip;
  bool have_src = false;
  ForEachKv(s, ' ', [&](std::string_view k, std::string_view v) {
    std::string key = "fortinet.";
    key.append(k);
    Add(out, key, v);
    if (v.empty() || v == "N/A") return;
    if (k == "srcip" || k == "src") {
      Add(out, "source.ip", v);
      have_src = true;
    } else if (k == "dstip" || k == "dst") {
      Add(out, "destination.ip", v);
    } else if (k == "srcport" || k == "src_port") {
      Add(out, "source.port", v);
    } else if (k == "dstport" || k == "dst_port") {
      Add(out, "destination.port", v);
    } else if (k == "proto") {
      Add(out, "network.transport", ProtoName(v));
    } else if (k == "srcintf") {
      Add(out, "observer.ingress.interface.name", v);
    } else if (k == "dstintf") {
      Add(out, "observer.egress.interface.name", v);
    } else if (k == "policyid") {
      Add(out, "rule.id", v);
    } else if (k == "policyname") {
      Add(out, "rule.name", v);
    } else if (k == "devname") {
      Add(out, "observer.name", v);
    } else if (k == "logid" || k == "log_id") {
      Add(out, "event.code", v);
    } else if (k == "type") {
      type = v;
    } else if (k == "action") {
      action = v;
    } else if (k == "status") {
      status = v;
      if (action.empty() && !FirewallDecision(v).empty()) action = v;  // FortiOS 4
    } else if (k == "user" || k == "srcuser") {
      if (user.empty()) user = v;
    } else if (k == "ui") {
      ui = v;
    } else if (k == "remip" || (k == "ip" && IsIp(v))) {
      remip = v;  // the remote end of a VPN / FortiClient connection
    } else if (k == "server" && IsIp(v)) {
      Add(out, "destination.ip", v);
    } else if (k == "url") {
      Add(out, "url.original", v);
    } else if (k == "attack") {
      Add(out, "rule.name", v);
    }
  });
  if (!user.empty()) Add(out, "user.name", user);
  if (!have_src) {
    // ui=ssh(1.2.3.4) or ui=https(1.2.3.4): where an administrator came from.
    std::size_t lp = ui.find('(');
    if (lp != std::string_view::npos && ui.back() == ')') {
      std::string_view inner = ui.substr(lp + 1, ui.size() - lp - 2);
      if (IsIp(inner)) Add(out, "source.ip", inner);
    } else if (IsIp(remip)) {
      Add(out, "source.ip", remip);
    }
  }
  std::string_view decision = FirewallDecision(action);
  if (type == "traffic" && !decision.empty()) {
    SetFirewallDecision(out, decision);
  } else if (!action.empty()) {
    std::string st = Lower(status);
    std::string_view outcome = (st == "success" || st == "succeeded") ? "success"
                               : (st == "failed" || st == "failure")  ? "failure"
                               : decision == "deny"                   ? "failure"
                                                                      : "";
    SetAction(out, decision == "deny" ? "deny" : action, outcome);
  }
  return true;
}

namespace {

struct KvKey {
  std::string_view key, normalized;
};
constexpr KvKey kKvKeys[] = {
    {"src", "source.ip"},
    {"srcip", "source.ip"},
    {"src_ip", "source.ip"},
    {"dst", "destination.ip"},
    {"dstip", "destination.ip"},
    {"dst_ip", "destination.ip"},
    {"spt", "source.port"},
    {"sport", "source.port"},
    {"srcport", "source.port"},
    {"src_port", "source.port"},
    {"dpt", "destination.port"},
    {"dport", "destination.port"},
    {"dstport", "destination.port"},
    {"dst_port", "destination.port"},
    {"user", "user.name"},
    {"username", "user.name"},
    {"usr", "user.name"},
    {"proto", "network.transport"},
    {"protocol", "network.transport"},
    {"action", "event.action"},
    {"url", "url.original"},
    {"rule", "rule.name"},
};

}  // namespace

bool ParseKv(const Body& b, Event* out) {
  std::string_view s = Trim(b.text);
  // Must start with "key=" and hold at least three pairs.
  std::size_t eq = FindStartingBy(s, "=", 64);
  if (eq == 0 || eq == std::string_view::npos) return false;
  for (std::size_t i = 0; i < eq; ++i) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || Digit(c) || c == '_' || c == '.' ||
          c == '-')) {
      return false;
    }
  }
  std::size_t pairs = ForEachKv(
      s, ' ', [](std::string_view, std::string_view) {}, 3);
  if (pairs < 3) return false;
  out->format = "kv";
  ForEachKv(s, ' ', [&](std::string_view k, std::string_view v) {
    std::string key = "kv.";
    key.append(k);
    Add(out, key, v);
    if (v.empty()) return;
    for (const KvKey& m : kKvKeys) {
      if (EqualsNoCase(k, m.key)) {
        if (out->Get(m.normalized) != nullptr) break;
        if (m.normalized == "network.transport") {
          Add(out, m.normalized, ProtoName(v));
        } else if (m.normalized == "event.action") {
          std::string_view d = FirewallDecision(v);
          if (!d.empty()) {
            SetFirewallDecision(out, d);
          } else {
            Add(out, m.normalized, v);
          }
        } else {
          Add(out, m.normalized, v);
        }
        break;
      }
    }
  });
  return true;
}

namespace {

// Check Point "key:"value"; key:"value"" pairs (inside [] in the syslog exporter format, or bare).
template <typename F>
std::size_t ForEachColonPair(std::string_view s, F&& f) {
  std::size_t i = 0, n = 0;
  while (i < s.size() && n < 1024) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ';' || s[i] == '[' || s[i] == '|')) ++i;
    std::size_t k = i;
    while (i < s.size() && s[i] != ':' && s[i] != ' ' && s[i] != ';') ++i;
    // keys like "ike::" hold two colons: take up to the ':' that is followed by '"'.
    while (i + 1 < s.size() && s[i] == ':' && s[i + 1] == ':') ++i;
    if (i + 1 >= s.size() || s[i] != ':' || s[i + 1] != '"') {
      std::size_t next = s.find(';', i);
      if (next == std::string_view::npos) break;
      i = next + 1;
      continue;
    }
    std::string_view key = s.substr(k, i - k);
    i += 2;
    std::size_t v = i;
    while (i < s.size() && s[i] != '"') i += (s[i] == '\\' && i + 1 < s.size()) ? 2 : 1;
    std::string_view value = s.substr(v, (i < s.size() ? i : s.size()) - v);
    if (i < s.size()) ++i;
    if (!key.empty()) {
      f(key, value);
      ++n;
    }
  }
  return n;
}

}  // namespace

bool ParseCheckpoint(const Body& b, Event* out) {
  std::string_view s = Trim(b.text);
  std::size_t lb = FindStartingBy(s, "[", 128);
  if (lb == std::string_view::npos) return false;
  std::string_view inner = s.substr(lb + 1);
  // The first pair must be key:"value" (Check Point's non-standard structured data).
  std::size_t colon = inner.find(':');
  if (colon == std::string_view::npos || colon > 64 || colon + 1 >= inner.size() ||
      inner[colon + 1] != '"') {
    return false;
  }
  if (b.standalone) {
    // "1 2019-05-15T16:25:50Z HOSTNAME CheckPoint 19710 - [..." without PRI: read the host.
    std::string_view head = s.substr(0, lb);
    std::size_t p1 = head.find(' ');
    std::size_t p2 = p1 == std::string_view::npos ? p1 : head.find(' ', p1 + 1);
    std::size_t p3 = p2 == std::string_view::npos ? p2 : head.find(' ', p2 + 1);
    if (p3 != std::string_view::npos && out->host.empty()) {
      out->host.assign(head.substr(p2 + 1, p3 - p2 - 1));
    }
  }
  out->format = "checkpoint";
  Add(out, "observer.vendor", "Check Point");
  std::string_view action, product;
  ForEachColonPair(inner, [&](std::string_view k, std::string_view v) {
    std::string key = "checkpoint.";
    key.append(k);
    Add(out, key, v);
    if (v.empty()) return;
    if (k == "src") {
      Add(out, "source.ip", v);
    } else if (k == "dst") {
      Add(out, "destination.ip", v);
    } else if (k == "s_port") {
      Add(out, "source.port", v);
    } else if (k == "service") {
      if (AllDigits(v)) Add(out, "destination.port", v);
    } else if (k == "proto") {
      Add(out, "network.transport", ProtoName(v));
    } else if (k == "origin") {
      Add(out, "observer.ip", v);
    } else if (k == "rule_name") {
      Add(out, "rule.name", v);
    } else if (k == "ifname") {
      Add(out, "observer.ingress.interface.name", v);
    } else if (k == "user" || k == "src_user_name") {
      if (out->Get("user.name") == nullptr) Add(out, "user.name", v);
    } else if (k == "action") {
      action = v;
    } else if (k == "product") {
      product = v;
    }
  });
  if (!product.empty()) Add(out, "observer.product", product);
  std::string_view d = FirewallDecision(action);
  if (!d.empty()) {
    SetFirewallDecision(out, d);
  } else if (!action.empty()) {
    Add(out, "event.action", Lower(action));
  }
  return true;
}

}  // namespace mamori::parsers::internal
