// Cisco ASA / FTD / PIX: "%ASA-<level>-<id>: <text>" (also "%ASA-session-5-106100:", "%FTD-").
#include <string>

#include "body.h"

namespace mamori::parsers::internal {
namespace {

enum class Kind { kNone, kDeny, kAllow, kTeardown, kAuthOk, kAuthFail, kAcl, kNat, kUrl, kCommand };

struct IdKind {
  int id;
  Kind kind;
};
// The message ids we give an event.action (others keep their fields and message id only).
constexpr IdKind kIds[] = {
    {106001, Kind::kDeny},     {106006, Kind::kDeny},     {106007, Kind::kDeny},
    {106010, Kind::kDeny},     {106012, Kind::kDeny},     {106013, Kind::kDeny},
    {106014, Kind::kDeny},     {106015, Kind::kDeny},     {106016, Kind::kDeny},
    {106017, Kind::kDeny},     {106018, Kind::kDeny},     {106020, Kind::kDeny},
    {106021, Kind::kDeny},     {106022, Kind::kDeny},     {106023, Kind::kDeny},
    {106027, Kind::kDeny},     {313001, Kind::kDeny},     {313004, Kind::kDeny},
    {313005, Kind::kDeny},     {710003, Kind::kDeny},     {304002, Kind::kDeny},
    {106100, Kind::kAcl},      {302013, Kind::kAllow},    {302015, Kind::kAllow},
    {302017, Kind::kAllow},    {302020, Kind::kAllow},    {302303, Kind::kAllow},
    {302014, Kind::kTeardown}, {302016, Kind::kTeardown}, {302018, Kind::kTeardown},
    {302021, Kind::kTeardown}, {302304, Kind::kTeardown}, {305011, Kind::kNat},
    {305012, Kind::kNat},      {304001, Kind::kUrl},      {113004, Kind::kAuthOk},
    {113008, Kind::kAuthOk},   {113012, Kind::kAuthOk},   {605005, Kind::kAuthOk},
    {611101, Kind::kAuthOk},   {716038, Kind::kAuthOk},   {113005, Kind::kAuthFail},
    {113006, Kind::kAuthFail}, {113015, Kind::kAuthFail}, {605004, Kind::kAuthFail},
    {611102, Kind::kAuthFail}, {716039, Kind::kAuthFail}, {113021, Kind::kAuthFail},
    {111008, Kind::kCommand},  {111009, Kind::kCommand},  {111010, Kind::kCommand},
};

Kind KindOf(int id) {
  for (const IdKind& k : kIds) {
    if (k.id == id) return k.kind;
  }
  return Kind::kNone;
}

// Strips punctuation around a token: "(1.2.3.4)", "outside:1.2.3.4/53,", "1.2.3.4:".
std::string_view StripToken(std::string_view t) {
  while (!t.empty() &&
         (t.front() == '(' || t.front() == '[' || t.front() == '\'' || t.front() == '"')) {
    t.remove_prefix(1);
  }
  while (!t.empty() && (t.back() == ',' || t.back() == ':' || t.back() == ']' || t.back() == '\'' ||
                        t.back() == '"' || t.back() == ';' ||
                        (t.back() == ')' && t.find('(') == std::string_view::npos))) {
    t.remove_suffix(1);
  }
  return t;
}

// An endpoint token: [iface: | iface/]ip[/port | (port)].
struct Endpoint {
  std::string_view iface, ip, port;
};
bool ReadEndpoint(std::string_view t, Endpoint* ep) {
  t = StripToken(t);
  if (t.empty()) return false;
  *ep = Endpoint();
  std::string_view rest = t;
  // "iface:ip..." — the interface name is not an address and the part after it is.
  std::size_t c = t.find(':');
  if (c != std::string_view::npos && c > 0 && !IsIpv4(t.substr(0, c)) &&
      t.find(':', c + 1) == std::string_view::npos) {
    ep->iface = t.substr(0, c);
    rest = t.substr(c + 1);
  } else {
    std::size_t sl = t.find('/');
    // "inside/10.1.2.16(2241)"
    if (sl != std::string_view::npos && t.find('(') != std::string_view::npos &&
        !IsIp(t.substr(0, sl))) {
      ep->iface = t.substr(0, sl);
      rest = t.substr(sl + 1);
    }
  }
  std::string_view ip, port;
  if (!SplitHostPort(rest, &ip, &port)) return false;
  ep->ip = ip;
  ep->port = port;
  return true;
}

void AddEndpoint(Event* out, std::string_view side, const Endpoint& ep) {
  std::string k(side);
  Add(out, k + ".ip", ep.ip);
  if (!ep.port.empty()) Add(out, k + ".port", ep.port);
  if (!ep.iface.empty()) {
    Add(out, std::string("cisco.asa.") + std::string(side) + "_interface", ep.iface);
  }
}

// A user named in the text: "user = X", "Username = X", "user \"X\"", "Uname: X", "User <X>",
// "User 'X'".
std::string_view FindUser(std::string_view s) {
  static constexpr std::string_view kKeys[] = {
      "user = ", "Username = ", "Uname: ",    "User <", "User '",
      "user \"", "user '",      "Username: ", "user: "};
  for (std::string_view k : kKeys) {
    std::size_t p = s.find(k);
    if (p == std::string_view::npos) continue;
    p += k.size();
    std::size_t e = p;
    while (e < s.size() && s[e] != ' ' && s[e] != ',' && s[e] != '>' && s[e] != '\'' &&
           s[e] != '"' && s[e] != ':' && s[e] != ')') {
      ++e;
    }
    if (e > p) return s.substr(p, e - p);
  }
  return {};
}

bool IsProtoWord(std::string_view w) {
  return EqualsNoCase(w, "tcp") || EqualsNoCase(w, "udp") || EqualsNoCase(w, "icmp") ||
         EqualsNoCase(w, "gre") || EqualsNoCase(w, "esp") || EqualsNoCase(w, "icmp6");
}

// FTD 43000x: "Key: value, Key: value".
void ParseFtdPairs(std::string_view s, Event* out) {
  std::size_t i = 0;
  int guard = 0;
  while (i < s.size() && guard++ < 256) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
    std::size_t c = s.find(": ", i);
    if (c == std::string_view::npos) break;
    std::string_view key = s.substr(i, c - i);
    std::size_t e = s.find(", ", c + 2);
    std::string_view value = s.substr(c + 2, (e == std::string_view::npos ? s.size() : e) - c - 2);
    if (key.find(' ') != std::string_view::npos) break;
    Add(out, std::string("cisco.ftd.") + std::string(key), value);
    if (key == "SrcIP") Add(out, "source.ip", value);
    if (key == "DstIP") Add(out, "destination.ip", value);
    if (key == "SrcPort") Add(out, "source.port", value);
    if (key == "DstPort") Add(out, "destination.port", value);
    if (key == "Protocol") Add(out, "network.transport", ProtoName(value));
    if (key == "User" && value != "No Authentication Required") Add(out, "user.name", value);
    if (key == "AccessControlRuleName") Add(out, "rule.name", value);
    if (key == "AccessControlRuleAction") {
      bool deny = EqualsNoCase(value, "block") || EqualsNoCase(value, "block with reset");
      SetFirewallDecision(out, deny ? "deny" : "allow");
    }
    if (e == std::string_view::npos) break;
    i = e + 2;
  }
}

}  // namespace

bool ParseCiscoAsa(const Body& b, Event* out) {
  std::string_view s = b.full;
  std::size_t at = s.substr(0, 160).find('%');
  while (at != std::string_view::npos &&
         !(StartsWith(s.substr(at), "%ASA-") || StartsWith(s.substr(at), "%FTD-") ||
           StartsWith(s.substr(at), "%PIX-") || StartsWith(s.substr(at), "%FWSM-"))) {
    at = s.find('%', at + 1);
    if (at > 160) at = std::string_view::npos;
  }
  if (at == std::string_view::npos) return false;
  std::string_view tag = s.substr(at + 1);
  std::size_t colon = tag.find_first_of(": ");
  if (colon == std::string_view::npos || colon > 40) return false;
  std::string_view product = tag.substr(0, tag.find('-'));
  std::string_view head = tag.substr(0, colon);  // ASA-4-106023, ASA-session-5-106100
  std::size_t last = head.rfind('-');
  std::size_t prev = last == std::string_view::npos ? last : head.rfind('-', last - 1);
  if (last == std::string_view::npos || prev == std::string_view::npos) return false;
  std::string_view level = head.substr(prev + 1, last - prev - 1);
  std::string_view id = head.substr(last + 1);
  if (!AllDigits(id) || id.size() > 7 || level.size() != 1 || !Digit(level[0])) return false;
  std::string_view text = Trim(tag.substr(colon + 1));
  out->format = "cisco_asa";
  Add(out, "observer.vendor", "Cisco");
  Add(out, "observer.product", product);
  Add(out, "event.code", id);
  Add(out, "cisco.asa.message_id", id);
  Add(out, "cisco.asa.severity", level);
  int nid = 0;
  for (char c : id) nid = nid * 10 + (c - '0');
  Kind kind = KindOf(nid);
  if (product == "FTD" && nid >= 430001 && nid <= 430005) {
    ParseFtdPairs(text, out);
    return true;
  }

  // Walk the words once: protocol, endpoints after from/src/for (source) and to/dst/-> (dest).
  Endpoint src, dst;
  bool have_src = false, have_dst = false;
  std::string_view proto, acl, prev_word, prev2;
  int want = 0;  // 1: next endpoint is source, 2: destination
  int want_ttl = 0;
  Endpoint first;  // the first endpoint anywhere, for the fallback below
  bool have_first = false;
  std::size_t i = 0;
  int guard = 0;
  while (i < text.size() && guard++ < 256) {
    std::size_t e = text.find(' ', i);
    if (e == std::string_view::npos) e = text.size();
    std::string_view w = text.substr(i, e - i);
    i = e + 1;
    if (w.empty()) continue;
    if (proto.empty() && IsProtoWord(w)) proto = w;
    if (!have_first) {
      Endpoint ep;
      if (w.find('.') != std::string_view::npos && ReadEndpoint(w, &ep)) {
        first = ep;
        have_first = true;
      }
    }
    if (w == "from" || EqualsNoCase(w, "src") || w == "for" || w == "faddr" || w == "remote-peer") {
      want = have_src ? 0 : 1;
      want_ttl = 2;
    } else if (w == "to" || EqualsNoCase(w, "dst") || EqualsNoCase(w, "dest") || w == "->" ||
               w == "laddr") {
      want = have_dst ? 0 : 2;
      want_ttl = 2;
    } else if (w == "=") {
      // "src = 10.1.1.1," keeps waiting for the address
    } else if (want != 0) {
      Endpoint ep;
      if (ReadEndpoint(w, &ep)) {
        if (want == 1) {
          src = ep;
          have_src = true;
        } else {
          dst = ep;
          have_dst = true;
        }
        want = 0;
      } else if (w != "(" && w.front() != '(' && --want_ttl <= 0) {
        want = 0;  // "from IP 1.2.3.4" waits one word
      }
    } else if (!have_src && nid == 106100 && prev_word.size() > 0 &&
               (prev_word == "tcp" || prev_word == "udp" || prev_word == "icmp" ||
                prev_word == "ip")) {
      Endpoint ep;
      if (ReadEndpoint(w, &ep)) {
        src = ep;
        have_src = true;
      }
    } else if (!have_src && (nid == 304001 || nid == 304002) && guard == 1) {
      std::string_view ip = w.substr(w.find('@') == std::string_view::npos ? 0 : w.find('@') + 1);
      Endpoint ep;
      if (ReadEndpoint(ip, &ep)) {
        src = ep;
        have_src = true;
      }
    }
    if ((prev_word == "access-group" || prev_word == "access-list") && acl.empty()) {
      acl = StripToken(w);
    }
    prev2 = prev_word;
    prev_word = w;
  }
  // Outbound connections: the "for" side is the outside (responder).
  bool outbound = text.find("Built outbound") != std::string_view::npos;
  if (outbound && have_src && have_dst) std::swap(src, dst);
  if (!have_src) {
    // "user IP = 1.2.3.4" (AAA), else the first address of messages that name one actor
    // ("111003: 1.2.3.4 Erase configuration", "401004: Shunned packet: 1.2.3.4 = ...").
    std::size_t u = text.find("user IP = ");
    Endpoint ep;
    if (u != std::string_view::npos && ReadEndpoint(WordAfter(text, "user IP = "), &ep)) {
      src = ep;
      have_src = true;
    } else if (have_first && nid / 1000 == 338) {
      dst = first;  // botnet traffic filter: the listed (remote) address
      have_dst = true;
    } else if (have_first && !have_dst && nid / 1000 != 609) {
      src = first;
      have_src = true;
    }
  }
  if (have_src) AddEndpoint(out, "source", src);
  if (have_dst) AddEndpoint(out, "destination", dst);
  if (!proto.empty()) Add(out, "network.transport", ProtoName(proto));
  if (!acl.empty()) Add(out, "rule.name", acl);
  std::string_view user = FindUser(text);
  if (!user.empty()) Add(out, "user.name", user);
  if (StartsWith(text, "Built") || StartsWith(text, "Teardown")) {
    std::string_view cid = WordAfter(text, "connection ");
    if (AllDigits(cid)) Add(out, "cisco.asa.connection_id", cid);
  }
  switch (kind) {
    case Kind::kDeny:
      SetFirewallDecision(out, "deny");
      break;
    case Kind::kAllow:
      SetFirewallDecision(out, "allow");
      break;
    case Kind::kAcl: {
      bool denied = text.find(" denied ") != std::string_view::npos;
      SetFirewallDecision(out, denied ? "deny" : "allow");
      break;
    }
    case Kind::kTeardown:
      SetAction(out, "teardown", "success");
      break;
    case Kind::kNat:
      SetAction(out, "translation", "success");
      break;
    case Kind::kUrl: {
      bool bad = text.find("denied") != std::string_view::npos;
      std::size_t p = text.find("URL ");
      if (p != std::string_view::npos) Add(out, "url.original", Trim(text.substr(p + 4)));
      SetAction(out, bad ? "deny" : "url-accessed", bad ? "failure" : "success");
      break;
    }
    case Kind::kAuthOk:
      SetAction(out, "authentication", "success");
      break;
    case Kind::kAuthFail:
      SetAction(out, "authentication", "failure");
      break;
    case Kind::kCommand:
      SetAction(out, "command-executed", "success");
      break;
    case Kind::kNone:
      break;
  }
  (void)prev2;
  return true;
}

}  // namespace mamori::parsers::internal
