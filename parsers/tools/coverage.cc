// parsers_coverage: how much of the shared test corpora the parsers understand.
//
//   parsers_coverage CORPORA_DIR [--verbose]
//
// For each corpus file it prints: the lines, the lines in a format we claim to support, the
// share of those parsed by a specific parser (not the generic rfc3164/rfc5424/json/kv/unparsed)
// with the expected key fields present. Ground truth:
//   - Wazuh test cases (ruleset/testing/tests/*.ini): the expected decoder of each log line maps
//     to the format we must produce (sshd -> sshd, cisco-asa -> cisco_asa, ...);
//   - loghub *_structured.csv: the component (sshd, su, ...) and the event template say which
//     lines are auth lines and which carry an address or a user;
//   - elastic-beats-testlogs: each folder is one format.
// Key fields: the format's own (e.g. cisco.asa.message_id, http.response.status_code) plus
// source.ip/destination.ip whenever the body holds an IPv4 address that is not the host, and
// user.name where the ground truth says the line names a user.
// Exits 1 when a corpus falls below its floor (kFloors) so that a regression fails the test.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "mamori/parsers/parser.h"

namespace {

using mamori::Event;

bool verbose = false;

struct Tally {
  int lines = 0, supported = 0, specific = 0, keys = 0;
};

bool IsGeneric(const std::string& f) {
  return f == "rfc3164" || f == "rfc5424" || f == "json" || f == "kv" || f == "unparsed";
}

// The first dotted-quad in s that is not `host`, or "".
std::string FirstIpv4(const std::string& s, const std::string& host) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!isdigit(static_cast<unsigned char>(s[i])) ||
        (i > 0 && (isalnum(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '.'))) {
      continue;
    }
    std::size_t j = i;
    int dots = 0, digits = 0;
    bool ok = true;
    while (j < s.size() && (isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) {
      if (s[j] == '.') {
        if (digits == 0 || digits > 3) ok = false;
        ++dots;
        digits = 0;
      } else {
        ++digits;
      }
      ++j;
    }
    if (ok && dots == 3 && digits >= 1 && digits <= 3) {
      std::string ip = s.substr(i, j - i);
      if (ip != host && ip != "0.0.0.0") return ip;
    }
    i = j;
  }
  return "";
}

bool Has(const Event& e, const char* key) { return e.Get(key) != nullptr; }

// The format-specific key each format must fill.
const char* FormatKey(const std::string& f) {
  static const std::map<std::string, const char*> k = {
      {"cef", "cef.device.vendor"},
      {"leef", "leef.vendor"},
      {"fortigate", "fortinet.type"},
      {"cisco_asa", "cisco.asa.message_id"},
      {"panos", "panos.type"},
      {"checkpoint", "observer.vendor"},
      {"iptables", "network.transport"},
      {"pfsense", "event.action"},
      {"sudo", "user.name"},
      {"auditd", "auditd.type"},
      {"http_access", "http.response.status_code"},
      {"apache_error", "log.level"},
      {"nginx_error", "log.level"},
      {"snare", "event.code"},
      {"windows", "event.code"},
      {"linux_user", "event.action"},
  };
  auto it = k.find(f);
  return it == k.end() ? nullptr : it->second;
}

// Checks one parsed line. `want` = expected format ("" = any specific one), `need_user`.
void Check(const std::string& line, const std::string& want, bool need_user, Tally* t,
           const std::string& label) {
  mamori::RawRecord raw;
  raw.bytes = line;
  raw.received_ns = 1'700'000'000'000'000'000;
  mamori::parsers::ParseContext ctx;
  Event e = mamori::parsers::Parse(raw, ctx);
  ++t->supported;
  bool specific = !IsGeneric(e.format) && (want.empty() || e.format == want);
  if (!specific) {
    if (verbose)
      std::printf("  [%s] not specific (%s, want %s): %.200s\n", label.c_str(), e.format.c_str(),
                  want.c_str(), line.c_str());
    return;
  }
  ++t->specific;
  std::string missing;
  if (const char* k = FormatKey(e.format); k != nullptr && !Has(e, k)) missing += k;
  std::string ip = FirstIpv4(e.message.empty() ? line : e.message, e.host);
  if (!ip.empty() && !Has(e, "source.ip") && !Has(e, "destination.ip") && !Has(e, "observer.ip")) {
    missing += " source.ip";
  }
  if (need_user && !Has(e, "user.name")) missing += " user.name";
  if (missing.empty()) {
    ++t->keys;
  } else if (verbose) {
    std::printf("  [%s] missing%s: %.200s\n", label.c_str(), missing.c_str(), line.c_str());
  }
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string l;
  while (std::getline(in, l)) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    out.push_back(l);
  }
  return out;
}

// Splits one CSV row (loghub: quoted fields with "" escapes).
std::vector<std::string> Csv(const std::string& s) {
  std::vector<std::string> f(1);
  bool q = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (q) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"') {
        f.back().push_back('"');
        ++i;
      } else if (c == '"') {
        q = false;
      } else {
        f.back().push_back(c);
      }
    } else if (c == '"') {
      q = true;
    } else if (c == ',') {
      f.emplace_back();
    } else {
      f.back().push_back(c);
    }
  }
  return f;
}

std::map<std::string, Tally> results;
std::vector<std::string> order;

Tally& T(const std::string& name) {
  if (!results.count(name)) order.push_back(name);
  return results[name];
}

// Wazuh decoders -> our formats.
std::string FormatOfDecoder(const std::string& d, const std::string& line) {
  if (d == "sshd") return "sshd";
  if (d == "sudo") return "sudo";
  if (d == "su") return "su";
  if (d == "kernel" || d == "iptables") return "iptables";
  if (d == "cisco-asa" || d == "cisco-ftd" || d == "cisco-asa-nohost") return "cisco_asa";
  if (d.rfind("fortigate", 0) == 0) return "fortigate";
  if (d.rfind("checkpoint", 0) == 0) return "checkpoint";
  if (d == "paloalto") return "panos";
  if (d == "pf") return "pfsense";
  if (d == "apache-errorlog") return "apache_error";
  if (d == "nginx-errorlog") return "nginx_error";
  if (d == "web-accesslog") return "http_access";
  if (d == "json" && line.find("\"win\"") != std::string::npos) return "windows";
  if (d == "windows" && line.find("MSWinEventLog") != std::string::npos) return "snare";
  return "";
}

void Wazuh(const std::string& dir, const char* file) {
  std::string path = dir + "/wazuh-ruleset/ruleset/testing/tests/" + file;
  std::vector<std::string> lines = ReadLines(path);
  if (lines.empty()) return;
  Tally& t = T(std::string("wazuh/") + file);
  std::vector<std::string> pending;
  for (const std::string& l : lines) {
    if (l.rfind("log ", 0) == 0) {
      std::size_t eq = l.find(" = ");
      if (eq != std::string::npos) pending.push_back(l.substr(eq + 3));
    } else if (l.rfind("decoder = ", 0) == 0) {
      std::string d = l.substr(10);
      for (const std::string& p : pending) {
        ++t.lines;
        std::string want = FormatOfDecoder(d, p);
        if (want.empty()) continue;
        --t.supported;  // Check counts it again
        ++t.supported;
        Check(p, want, want == "sudo", &t, file);
      }
      pending.clear();
    } else if (!l.empty() && l[0] == '[') {
      pending.clear();
    }
  }
}

void Loghub(const std::string& dir, const std::string& name) {
  std::string base = dir + "/loghub/" + name + "/" + name + "_2k.log";
  std::vector<std::string> raw = ReadLines(base);
  std::vector<std::string> csv = ReadLines(base + "_structured.csv");
  if (raw.empty() || csv.size() < 2) return;
  Tally& t = T("loghub/" + name);
  std::vector<std::string> head = Csv(csv[0]);
  auto col = [&](const char* n) {
    for (std::size_t i = 0; i < head.size(); ++i) {
      if (head[i] == n) return static_cast<int>(i);
    }
    return -1;
  };
  int comp = col("Component"), tmpl = col("EventTemplate");
  for (std::size_t i = 0; i < raw.size() && i + 1 < csv.size(); ++i) {
    ++t.lines;
    std::vector<std::string> row = Csv(csv[i + 1]);
    std::string want;
    bool need_user = false;
    if (name == "Apache") {
      want = "apache_error";
    } else {
      std::string c = comp >= 0 && comp < static_cast<int>(row.size()) ? row[comp] : "";
      std::string base_app = c.substr(0, c.find('('));
      if (c == "LabSZ") base_app = "sshd";  // OpenSSH: the host column is named Component
      if (base_app == "sshd" || base_app == "su")
        want = base_app;
      else if (c.find("(pam_unix)") != std::string::npos)
        want = "pam";
      if (want.empty()) continue;
      std::string tp = tmpl >= 0 && tmpl < static_cast<int>(row.size()) ? row[tmpl] : "";
      need_user = tp.find("user <*>") != std::string::npos ||
                  tp.find("user=<*>") != std::string::npos ||
                  tp.find("for <*> from") != std::string::npos;
    }
    Check(raw[i], want, need_user, &t, name);
  }
}

void Folder(const std::string& dir, const std::string& file, const std::string& want) {
  std::vector<std::string> lines = ReadLines(dir + "/elastic-beats-testlogs/" + file);
  if (lines.empty()) return;
  Tally& t = T("elastic/" + file);
  for (const std::string& l : lines) {
    if (l.empty()) continue;
    ++t.lines;
    Check(l, want, false, &t, file);
  }
}

// Minimum share (percent) of supported lines with a specific parser and key fields.
const std::map<std::string, int> kFloors = {
    {"wazuh/sshd.ini", 95},
    {"wazuh/iptables.ini", 95},
    {"wazuh/cisco_asa.ini", 90},
    {"wazuh/fortigate.ini", 95},
    {"wazuh/checkpoint_smart1.ini", 90},
    {"wazuh/paloalto.ini", 90},
    {"loghub/OpenSSH", 95},
    {"loghub/Apache", 99},
    {"elastic/cef/cef.log", 100},
    {"elastic/cisco-asa/sample.log", 90},
    {"elastic/iptables/iptables.log", 100},
    {"elastic/fortinet-firewall/fortinet.log", 95},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: parsers_coverage CORPORA_DIR [--verbose]\n");
    return 2;
  }
  std::string dir = argv[1];
  verbose = argc > 2 && std::strcmp(argv[2], "--verbose") == 0;
  for (const char* f : {"sshd.ini",
                        "sudo.ini",
                        "su.ini",
                        "iptables.ini",
                        "cisco_asa.ini",
                        "cisco_ftd.ini",
                        "fortigate.ini",
                        "checkpoint_smart1.ini",
                        "paloalto.ini",
                        "pfsense.ini",
                        "apache.ini",
                        "nginx.ini",
                        "web_rules.ini",
                        "win_event_channel.ini",
                        "win_security.ini",
                        "sysmon.ini",
                        "sysmon_eid_1.ini",
                        "sysmon_eid_3.ini",
                        "sysmon_eid_10.ini",
                        "sysmon_eid_13.ini"}) {
    Wazuh(dir, f);
  }
  for (const char* n : {"OpenSSH", "Linux", "Apache"}) Loghub(dir, n);
  Folder(dir, "cef/cef.log", "cef");
  Folder(dir, "cef/checkpoint.log", "cef");
  Folder(dir, "cef/fp-ngfw-smc.log", "cef");
  Folder(dir, "cisco-asa/sample.log", "cisco_asa");
  Folder(dir, "fortinet-firewall/fortinet.log", "fortigate");
  Folder(dir, "iptables/iptables.log", "iptables");
  Folder(dir, "system-auth/test.log", "");
  Folder(dir, "system-auth/timestamp.log", "");
  Folder(dir, "apache-access/test.log", "http_access");
  Folder(dir, "nginx-access/test.log", "http_access");

  std::printf("%-40s %6s %9s %9s %9s %7s\n", "corpus", "lines", "supported", "specific", "key-flds",
              "share");
  Tally all;
  int failures = 0;
  for (const std::string& n : order) {
    const Tally& t = results[n];
    double share = t.supported ? 100.0 * t.keys / t.supported : 0;
    std::printf("%-40s %6d %9d %9d %9d %6.1f%%\n", n.c_str(), t.lines, t.supported, t.specific,
                t.keys, share);
    all.lines += t.lines, all.supported += t.supported, all.specific += t.specific,
        all.keys += t.keys;
    auto f = kFloors.find(n);
    if (f != kFloors.end() && share < f->second) {
      std::printf("  BELOW FLOOR %d%%\n", f->second);
      ++failures;
    }
  }
  std::printf("%-40s %6d %9d %9d %9d %6.1f%%\n", "TOTAL", all.lines, all.supported, all.specific,
              all.keys, all.supported ? 100.0 * all.keys / all.supported : 0);
  if (results.empty()) {
    std::printf("no corpus found under %s\n", dir.c_str());
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
