// Firewalls with positional or KEY=VALUE bodies: PAN-OS CSV, iptables/netfilter kernel lines,
// pfSense/OPNsense filterlog.
#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "body.h"

namespace mamori::parsers::internal {
namespace {

constexpr std::size_t kMaxCsv = 128;

// The position of the first ',' at or after i, or s.size(). Firewall CSV fields are short: a
// plain loop for the first 16 bytes, memchr (call overhead, then fast) only for long ones.
std::size_t NextComma(std::string_view s, std::size_t i) {
  for (const std::size_t short_end = std::min(s.size(), i + 16); i < short_end; ++i) {
    if (s[i] == ',') return i;
  }
  if (i >= s.size()) return s.size();
  const void* p = std::memchr(s.data() + i, ',', s.size() - i);
  return p == nullptr ? s.size() : static_cast<std::size_t>(static_cast<const char*>(p) - s.data());
}

// Splits a CSV line (RFC 4180 quotes; "" inside quotes) into at most `max` views, from *pos
// (where a field starts; npos: the line has ended). Quoted fields are returned without their
// quotes (inner "" left as is). Returns the count; *pos is left where the next field starts (npos
// after the last field), so that a second call goes on where the first stopped.
std::size_t SplitCsv(std::string_view s, std::string_view* f, std::size_t max, std::size_t* pos) {
  std::size_t n = 0, i = *pos;
  if (i == std::string_view::npos) return 0;
  while (n < max) {
    if (i < s.size() && s[i] == '"') {
      std::size_t start = ++i;
      while (i < s.size() && !(s[i] == '"' && (i + 1 >= s.size() || s[i + 1] != '"'))) {
        i += (s[i] == '"') ? 2 : 1;
      }
      f[n++] = s.substr(start, (i < s.size() ? i : s.size()) - start);
      if (i < s.size()) ++i;
      i = NextComma(s, i);
    } else {
      std::size_t start = i;
      i = NextComma(s, i);
      f[n++] = s.substr(start, i - start);
    }
    if (i >= s.size()) {
      *pos = std::string_view::npos;
      return n;
    }
    ++i;  // ','
  }
  *pos = i;
  return n;
}

// "YYYY/MM/DD hh:mm:ss"
bool IsPanTime(std::string_view s) {
  return s.size() == 19 && s[4] == '/' && s[7] == '/' && s[10] == ' ' && s[13] == ':' &&
         Digit(s[0]) && Digit(s[18]);
}

bool IsUpperWord(std::string_view s) {
  if (s.empty() || s.size() > 24) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || c == '_' || c == '-')) return false;
  }
  return true;
}

void AddIf(Event* out, std::string_view key, std::string_view v) {
  if (!v.empty()) Add(out, key, v);
}

std::string_view PanDecision(std::string_view a) {
  if (a == "allow") return "allow";
  if (a == "deny" || a == "drop" || a == "drop-icmp" || a == "reset-client" ||
      a == "reset-server" || a == "reset-both" || a == "block-url" || a == "block-ip" ||
      a == "sinkhole" || a == "block" || a == "drop-all-packets") {
    return "deny";
  }
  return {};
}

}  // namespace

bool ParsePanos(const Body& b, Event* out) {
  std::string_view s = Trim(b.full);
  std::size_t comma = FindStartingBy(s, ",", 96);
  if (comma == std::string_view::npos) return false;
  if (comma > 12) {
    // A header we did not read ("May 00 00:00:00 fw 1,2020/..."): the CSV starts at the word
    // that holds the first comma.
    std::size_t sp = s.rfind(' ', comma);
    if (sp == std::string_view::npos) return false;
    s = s.substr(sp + 1);
  }
  // The first five fields decide; most lines with a comma are not PAN-OS CSV.
  std::array<std::string_view, 5> head;
  std::size_t pos = 0;
  if (SplitCsv(s, head.data(), head.size(), &pos) < 5 || !IsPanTime(head[1]) ||
      !IsUpperWord(head[3])) {
    return false;
  }
  std::array<std::string_view, kMaxCsv> f;
  std::copy(head.begin(), head.end(), f.begin());  // and the rest from where the head ended
  const std::size_t n =
      head.size() + SplitCsv(s, f.data() + head.size(), f.size() - head.size(), &pos);
  out->format = "panos";
  Add(out, "observer.vendor", "Palo Alto Networks");
  Add(out, "observer.product", "PAN-OS");
  std::string_view type = f[3];
  Add(out, "panos.type", type);
  Add(out, "panos.subtype", f[4]);
  AddIf(out, "observer.serial_number", f[2]);
  Add(out, "panos.receive_time", f[1]);
  if ((type == "TRAFFIC" || type == "THREAT") && n > 30) {
    AddIf(out, "source.ip", f[7]);
    AddIf(out, "destination.ip", f[8]);
    AddIf(out, "source.nat.ip", f[9]);
    AddIf(out, "destination.nat.ip", f[10]);
    AddIf(out, "rule.name", f[11]);
    AddIf(out, "user.name", f[12]);
    AddIf(out, "destination.user.name", f[13]);
    AddIf(out, "network.application", f[14]);
    AddIf(out, "panos.source_zone", f[16]);
    AddIf(out, "panos.destination_zone", f[17]);
    AddIf(out, "observer.ingress.interface.name", f[18]);
    AddIf(out, "observer.egress.interface.name", f[19]);
    AddIf(out, "panos.session_id", f[22]);
    AddIf(out, "source.port", f[24]);
    AddIf(out, "destination.port", f[25]);
    AddIf(out, "network.transport", f[29]);
    AddIf(out, "panos.action", f[30]);
    std::string_view d = PanDecision(f[30]);
    if (!d.empty()) SetFirewallDecision(out, d);
    if (type == "THREAT" && n > 34) {
      AddIf(out, "url.original", f[31]);
      AddIf(out, "panos.threat.name", f[32]);
      AddIf(out, "panos.threat.category", f[33]);
      AddIf(out, "panos.threat.severity", f[34]);
    } else if (n > 31) {
      AddIf(out, "network.bytes", f[31]);
    }
  } else if (type == "SYSTEM" && n > 14) {
    AddIf(out, "panos.event_id", f[8]);
    AddIf(out, "event.code", f[8]);
    AddIf(out, "panos.object", f[9]);
    AddIf(out, "panos.module", f[12]);
    AddIf(out, "panos.severity", f[13]);
    AddIf(out, "panos.description", f[14]);
  } else if (type == "CONFIG" && n > 12) {
    AddIf(out, "panos.command", f[9]);
    AddIf(out, "user.name", f[10]);
    AddIf(out, "source.ip", IsIp(f[11]) ? f[11] : std::string_view());
    AddIf(out, "panos.result", f[12]);
    if (n > 13) AddIf(out, "panos.configuration_path", f[13]);
    SetAction(out, "config-change", f[12] == "Succeeded" ? "success" : "failure");
  }
  return true;
}

bool ParseIptables(const Body& b, Event* out) {
  std::string_view s = b.text;
  std::size_t in = FindStartingBy(s, "IN=", 200);
  if (in == std::string_view::npos ||
      (in > 0 && s[in - 1] != ' ' && s[in - 1] != ')' && s[in - 1] != ':' && s[in - 1] != ']') ||
      FindByLast(s, " OUT=", in) == std::string_view::npos) {
    return false;
  }
  out->format = "iptables";
  std::string_view prefix = Trim(s.substr(0, in));
  // Kernel uptime "[4475569.016000] " before the prefix.
  if (!prefix.empty() && prefix.front() == '[') {
    std::size_t rb = prefix.find(']');
    bool uptime = rb != std::string_view::npos;
    for (std::size_t i = 1; uptime && i < rb; ++i) {
      if (!Digit(prefix[i]) && prefix[i] != '.' && prefix[i] != ' ') uptime = false;
    }
    if (uptime) prefix = Trim(prefix.substr(rb + 1));
  }
  if (!prefix.empty() && prefix.back() == ':') prefix.remove_suffix(1);
  AddIf(out, "iptables.prefix", prefix);
  std::string flags;
  std::string_view proto;
  bool have_id = false;
  std::size_t i = in;
  int guard = 0;
  while (i < s.size() && guard++ < 128) {
    std::size_t e = s.find(' ', i);
    if (e == std::string_view::npos) e = s.size();
    std::string_view w = s.substr(i, e - i);
    i = e + 1;
    std::size_t eq = w.find('=');
    if (eq == std::string_view::npos) {
      if (!w.empty() && IsUpperWord(w)) {
        if (!flags.empty()) flags.push_back(' ');
        flags.append(w);
      }
      continue;
    }
    std::string_view k = w.substr(0, eq), v = w.substr(eq + 1);
    if (v.empty()) continue;
    if (k == "IN") {
      Add(out, "observer.ingress.interface.name", v);
    } else if (k == "OUT") {
      Add(out, "observer.egress.interface.name", v);
    } else if (k == "SRC") {
      Add(out, "source.ip", v);
    } else if (k == "DST") {
      Add(out, "destination.ip", v);
    } else if (k == "SPT") {
      Add(out, "source.port", v);
    } else if (k == "DPT") {
      Add(out, "destination.port", v);
    } else if (k == "PROTO") {
      proto = v;
      Add(out, "network.transport", ProtoName(v));
    } else if (k == "MAC") {
      Add(out, "iptables.mac", v);
    } else if (k == "LEN" && out->Get("iptables.length") == nullptr) {
      Add(out, "iptables.length", v);
    } else if (k == "TTL") {
      Add(out, "iptables.ttl", v);
    } else if (k == "ID" && !have_id) {
      Add(out, "iptables.id", v);
      have_id = true;
    } else if (k == "TYPE") {
      Add(out, "iptables.icmp.type", v);
    } else if (k == "CODE") {
      Add(out, "iptables.icmp.code", v);
    } else if (k == "WINDOW") {
      Add(out, "iptables.tcp.window", v);
    }
  }
  if (!flags.empty()) Add(out, "iptables.flags", flags);
  // The decision is whatever the administrator wrote in the log prefix.
  std::string up(prefix);
  for (char& c : up) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  if (up.find("DROP") != std::string::npos || up.find("REJECT") != std::string::npos ||
      up.find("DENY") != std::string::npos || up.find("BLOCK") != std::string::npos) {
    SetFirewallDecision(out, "deny");
  } else if (up.find("ACCEPT") != std::string::npos || up.find("ALLOW") != std::string::npos) {
    SetFirewallDecision(out, "allow");
  }
  (void)proto;
  return true;
}

bool ParseFilterlog(const Body& b, Event* out) {
  std::string_view s = Trim(b.text);
  std::array<std::string_view, kMaxCsv> f;
  std::size_t pos = 0;
  std::size_t n = SplitCsv(s, f.data(), f.size(), &pos);
  if (n < 10 || !AllDigits(f[0]) || (f[8] != "4" && f[8] != "6")) return false;
  out->format = "pfsense";
  Add(out, "observer.vendor", "Netgate");
  Add(out, "observer.product", "pfSense");
  AddIf(out, "rule.id", f[0]);
  AddIf(out, "pfsense.tracker", f[3]);
  AddIf(out, "observer.ingress.interface.name", f[4]);
  AddIf(out, "pfsense.reason", f[5]);
  AddIf(out, "pfsense.action", f[6]);
  AddIf(out, "network.direction", f[7] == "in" ? "inbound" : f[7] == "out" ? "outbound" : "");
  std::size_t p = 0;  // index of the protocol text
  std::size_t src = 0;
  if (f[8] == "4" && n > 19) {
    p = 16;
    src = 18;
    AddIf(out, "pfsense.ttl", f[11]);
  } else if (f[8] == "6" && n > 16) {
    p = 12;
    src = 15;
  }
  if (p != 0) {
    Add(out, "network.transport", ProtoName(f[p]));
    Add(out, "source.ip", f[src]);
    Add(out, "destination.ip", f[src + 1]);
    if ((f[p] == "tcp" || f[p] == "udp") && n > src + 3) {
      AddIf(out, "source.port", f[src + 2]);
      AddIf(out, "destination.port", f[src + 3]);
    }
  }
  if (f[6] == "block" || f[6] == "reject") {
    SetFirewallDecision(out, "deny");
  } else if (f[6] == "pass") {
    SetFirewallDecision(out, "allow");
  }
  return true;
}

}  // namespace mamori::parsers::internal
