// CEF (ArcSight Common Event Format) and LEEF 1.0/2.0 (IBM QRadar Log Event Extended Format).
#include <string>

#include "body.h"

namespace mamori::parsers::internal {
namespace {

// Locates "CEF:" / "LEEF:" at the start of the body or after a word (e.g. a host name that a
// sender put before it); only the first 256 bytes are searched.
std::size_t FindSignature(std::string_view s, std::string_view sig) {
  if (StartsWith(s, sig)) return 0;
  std::size_t p = s.substr(0, 256).find(sig);
  if (p == std::string_view::npos || s[p - 1] != ' ') return std::string_view::npos;
  return p;
}

// Splits the pipe-separated header into n parts ('\|' and '\\' escapes); returns the offset of
// what follows the n-th '|', or npos.
std::size_t SplitHeader(std::string_view s, std::string* parts, int n) {
  std::size_t i = 0;
  for (int k = 0; k < n; ++k) {
    std::string& p = parts[k];
    p.clear();
    while (i < s.size() && s[i] != '|') {
      if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '|' || s[i + 1] == '\\')) ++i;
      p.push_back(s[i++]);
    }
    if (i >= s.size()) return std::string_view::npos;
    ++i;
  }
  return i;
}

struct KeyMap {
  std::string_view short_name, long_name, normalized;
};
// CEF dictionary keys (short and full names) and their normalized field.
constexpr KeyMap kCefKeys[] = {
    {"src", "sourceAddress", "source.ip"},
    {"spt", "sourcePort", "source.port"},
    {"dst", "destinationAddress", "destination.ip"},
    {"dpt", "destinationPort", "destination.port"},
    {"suser", "sourceUserName", "source.user.name"},
    {"duser", "destinationUserName", "destination.user.name"},
    {"proto", "transportProtocol", "network.transport"},
    {"act", "deviceAction", "event.action"},
    {"outcome", "eventOutcome", ""},
    {"request", "requestUrl", "url.original"},
    {"requestMethod", "requestMethod", "http.request.method"},
    {"requestContext", "requestContext", "http.request.referrer"},
    {"requestClientApplication", "requestClientApplication", "user_agent.original"},
    {"shost", "sourceHostName", "source.domain"},
    {"dhost", "destinationHostName", "destination.domain"},
    {"smac", "sourceMacAddress", "source.mac"},
    {"dmac", "destinationMacAddress", "destination.mac"},
    {"dvc", "deviceAddress", "observer.ip"},
    {"dvchost", "deviceHostName", "observer.hostname"},
    {"sproc", "sourceProcessName", "process.name"},
    {"spid", "sourceProcessId", "process.pid"},
    {"fname", "fileName", "file.name"},
    {"filePath", "filePath", "file.path"},
    {"app", "applicationProtocol", "network.protocol"},
    {"in", "bytesIn", "source.bytes"},
    {"out", "bytesOut", "destination.bytes"},
    {"msg", "message", ""},
    {"rt", "deviceReceiptTime", ""},
    {"cat", "deviceEventCategory", ""},
    {"cnt", "baseEventCount", ""},
    {"externalId", "externalId", ""},
    {"spriv", "sourceUserPrivileges", ""},
    {"dpriv", "destinationUserPrivileges", ""},
    {"slat", "sourceGeoLatitude", ""},
    {"slong", "sourceGeoLongitude", ""},
    {"dlat", "destinationGeoLatitude", ""},
    {"dlong", "destinationGeoLongitude", ""},
    {"sourceTranslatedAddress", "sourceTranslatedAddress", "source.nat.ip"},
    {"destinationTranslatedAddress", "destinationTranslatedAddress", "destination.nat.ip"},
    {"sourceTranslatedPort", "sourceTranslatedPort", "source.nat.port"},
    {"destinationTranslatedPort", "destinationTranslatedPort", "destination.nat.port"},
    {"fileHash", "fileHash", ""},
    {"oldFileHash", "oldFileHash", ""},
    {"eventId", "eventId", ""},
    {"sourceServiceName", "sourceServiceName", "source.service.name"},
};

const KeyMap* FindCefKey(std::string_view k) {
  for (const KeyMap& m : kCefKeys) {
    if (k == m.short_name || k == m.long_name) return &m;
  }
  return nullptr;
}

// CEF extension value unescape: \= \\ \n \r.
std::string CefUnescape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      char n = v[i + 1];
      if (n == '=' || n == '\\') {
        out.push_back(n);
        ++i;
        continue;
      }
      if (n == 'n' || n == 'r') {
        out.push_back(n == 'n' ? '\n' : '\r');
        ++i;
        continue;
      }
    }
    out.push_back(v[i]);
  }
  return out;
}

bool IsCefKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || Digit(c) || c == '_' || c == '.' ||
         c == '-' || c == '[' || c == ']';
}

// Where the key of the next pair starts: the last space before the next unescaped '=' that is
// preceded by a key. Returns npos when no further pair follows.
std::size_t NextKeyStart(std::string_view s, std::size_t from) {
  for (std::size_t i = from; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] != '=') continue;
    std::size_t k = i;
    while (k > from && IsCefKeyChar(s[k - 1])) --k;
    if (k < i && k > from && s[k - 1] == ' ') return k - 1;
  }
  return std::string_view::npos;
}

void AddCefPair(std::string_view key, std::string_view raw_value, Event* out, bool* has_user) {
  std::string value = CefUnescape(Trim(raw_value));
  const KeyMap* m = FindCefKey(key);
  std::string name = "cef.extensions.";
  name.append(m ? m->long_name : key);
  if (m && !m->normalized.empty() && !value.empty()) {
    if (m->normalized == "network.transport") {
      Add(out, m->normalized, ProtoName(value));
    } else {
      Add(out, m->normalized, value);
    }
    if (m->normalized == "source.user.name" ||
        (m->normalized == "destination.user.name" && !*has_user)) {
      out->Set("user.name", value);
      *has_user = true;
    }
  }
  if (m && m->long_name == "eventOutcome") {
    std::string o;
    for (char c : value) o.push_back(ToLower(c));
    if (o == "success" || o == "failure") Add(out, "event.outcome", o);
  }
  out->fields.push_back(Field{std::move(name), std::move(value)});
}

}  // namespace

bool ParseCef(const Body& b, Event* out) {
  std::size_t at = FindSignature(b.full, "CEF:");
  if (at == std::string_view::npos) return false;
  std::string_view s = b.full.substr(at + 4);
  std::string h[7];
  std::size_t ext = SplitHeader(s, h, 7);
  if (ext == std::string_view::npos || h[0].empty()) return false;
  out->format = "cef";
  Add(out, "cef.version", h[0]);
  Add(out, "cef.device.vendor", h[1]);
  Add(out, "cef.device.product", h[2]);
  Add(out, "cef.device.version", h[3]);
  Add(out, "cef.device.event_class_id", h[4]);
  Add(out, "cef.name", h[5]);
  Add(out, "cef.severity", h[6]);
  Add(out, "observer.vendor", h[1]);
  Add(out, "observer.product", h[2]);
  Add(out, "observer.version", h[3]);
  Add(out, "event.code", h[4]);
  std::string_view e = s.substr(ext);
  bool has_user = false;
  std::size_t i = 0;
  while (i < e.size() && e[i] == ' ') ++i;
  for (int guard = 0; i < e.size() && guard < 4096; ++guard) {
    std::size_t eq = i;
    while (eq < e.size() && IsCefKeyChar(e[eq])) ++eq;
    if (eq >= e.size() || e[eq] != '=' || eq == i) break;
    std::size_t next = NextKeyStart(e, eq + 1);
    std::size_t vend = next == std::string_view::npos ? e.size() : next;
    AddCefPair(e.substr(i, eq - i), e.substr(eq + 1, vend - eq - 1), out, &has_user);
    if (next == std::string_view::npos) break;
    i = next + 1;
  }
  return true;
}

namespace {

struct LeefKey {
  std::string_view key, normalized;
};
constexpr LeefKey kLeefKeys[] = {
    {"src", "source.ip"},
    {"dst", "destination.ip"},
    {"srcPort", "source.port"},
    {"dstPort", "destination.port"},
    {"usrName", "user.name"},
    {"proto", "network.transport"},
    {"srcPreNAT", "source.ip"},
    {"dstPreNAT", "destination.ip"},
    {"srcPostNAT", "source.nat.ip"},
    {"dstPostNAT", "destination.nat.ip"},
    {"url", "url.original"},
    {"action", "event.action"},
    {"srcMAC", "source.mac"},
    {"dstMAC", "destination.mac"},
    {"identSrc", "source.ip"},
    {"policy", "rule.name"},
};

// LEEF 2.0 delimiter: a single character, or "xHH" / "0xHH" in hex; empty means tab.
char LeefDelimiter(std::string_view d) {
  if (d.size() == 1) return d[0];
  if (StartsWith(d, "0x") || StartsWith(d, "0X")) d.remove_prefix(2);
  if (!d.empty() && (d[0] == 'x' || d[0] == 'X')) d.remove_prefix(1);
  if (d.empty() || d.size() > 2) return '\t';
  int v = 0;
  for (char c : d) {
    int x = Digit(c)                                   ? c - '0'
            : (ToLower(c) >= 'a' && ToLower(c) <= 'f') ? ToLower(c) - 'a' + 10
                                                       : -1;
    if (x < 0) return '\t';
    v = v * 16 + x;
  }
  return v == 0 ? '\t' : static_cast<char>(v);
}

}  // namespace

bool ParseLeef(const Body& b, Event* out) {
  std::size_t at = FindSignature(b.full, "LEEF:");
  if (at == std::string_view::npos) return false;
  std::string_view s = b.full.substr(at + 5);
  std::string h[6];
  std::size_t attrs = SplitHeader(s, h, 5);
  if (attrs == std::string_view::npos) return false;
  char delim = '\t';
  if (StartsWith(h[0], "2")) {
    // LEEF 2.0: one more header field, the attribute delimiter (may be empty: tab).
    std::size_t bar = s.find('|', attrs);
    if (bar != std::string_view::npos && bar - attrs <= 4) {
      delim = LeefDelimiter(s.substr(attrs, bar - attrs));
      attrs = bar + 1;
    }
  } else if (h[0] != "1.0" && h[0] != "1") {
    return false;
  }
  out->format = "leef";
  Add(out, "leef.version", h[0]);
  Add(out, "leef.vendor", h[1]);
  Add(out, "leef.product", h[2]);
  Add(out, "leef.product_version", h[3]);
  Add(out, "leef.event_id", h[4]);
  Add(out, "observer.vendor", h[1]);
  Add(out, "observer.product", h[2]);
  Add(out, "observer.version", h[3]);
  Add(out, "event.code", h[4]);
  std::string_view a = s.substr(attrs);
  // LEEF 1.0 senders are inconsistent: tab is the standard, some use '^' or spaces.
  if (delim == '\t' && a.find('\t') == std::string_view::npos &&
      a.find('^') != std::string_view::npos) {
    delim = '^';
  }
  ForEachKv(a, delim, [&](std::string_view k, std::string_view v) {
    v = Trim(v);
    for (const LeefKey& m : kLeefKeys) {
      if (k == m.key && !v.empty()) {
        if (m.normalized == "network.transport") {
          Add(out, m.normalized, ProtoName(v));
        } else if (out->Get(m.normalized) == nullptr) {
          Add(out, m.normalized, v);
        }
        break;
      }
    }
    std::string key = "leef.";
    key.append(k);
    Add(out, key, v);
  });
  return true;
}

}  // namespace mamori::parsers::internal
