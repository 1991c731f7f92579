// Field extraction against the ground truth that ships with the shared corpora (read in place):
// Elastic's expected documents for cef.log, and the decoders that the Wazuh test cases expect.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "mamori/parsers/parser.h"

namespace mamori::parsers {
namespace {

const std::string kCorpora = MAMORI_CORPORA;

std::vector<std::string> Lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

Event P(const std::string& s) {
  RawRecord raw;
  raw.bytes = s;
  raw.received_ns = 1'700'000'000'000'000'000;
  return Parse(raw, ParseContext());
}

// Elastic's expected value as our text: strings as is, numbers as their JSON text.
std::string Text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// Keys of the expected documents that our dictionary defines too.
bool Compared(const std::string& k) {
  static const char* kKeys[] = {
      "source.ip",        "source.port",           "destination.ip",        "destination.port",
      "url.original",     "http.request.method",   "http.request.referrer", "network.transport",
      "observer.vendor",  "observer.product",      "observer.version",      "event.code",
      "source.user.name", "destination.user.name", "destination.nat.ip",    "source.service.name"};
  if (k.rfind("cef.", 0) == 0) return true;
  for (const char* x : kKeys) {
    if (k == x) return true;
  }
  return false;
}

TEST(GroundTruthTest, ElasticCefExpected) {
  std::ifstream in(kCorpora + "/elastic-beats-testlogs/cef/cef.log-expected.json");
  if (!in) GTEST_SKIP() << "corpora not present";
  nlohmann::json expected = nlohmann::json::parse(in);
  std::vector<std::string> lines = Lines(kCorpora + "/elastic-beats-testlogs/cef/cef.log");
  ASSERT_EQ(lines.size(), expected.size());
  int compared = 0, matched = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    Event e = P(lines[i]);
    EXPECT_EQ(e.format, "cef");
    for (auto it = expected[i].begin(); it != expected[i].end(); ++it) {
      if (!Compared(it.key())) continue;
      ++compared;
      const std::string* got = e.Get(it.key());
      std::string want = Text(it.value());
      if (got != nullptr && *got == want) {
        ++matched;
      } else {
        ADD_FAILURE() << "line " << i + 1 << " " << it.key() << ": want " << want << " got "
                      << (got ? *got : "<none>");
      }
    }
  }
  std::printf("[elastic cef] %d/%d expected fields match\n", matched, compared);
  EXPECT_GT(compared, 60);
}

std::string FormatOfDecoder(const std::string& d, const std::string& line) {
  if (d == "sshd" || d == "sudo" || d == "su") return d;
  if (d == "kernel") return "iptables";
  if (d == "cisco-asa" || d == "cisco-ftd") return "cisco_asa";
  if (d.rfind("fortigate", 0) == 0) return "fortigate";
  if (d.rfind("checkpoint", 0) == 0) return "checkpoint";
  if (d == "paloalto") return "panos";
  if (d == "pf") return "pfsense";
  if (d == "apache-errorlog") return "apache_error";
  if (d == "nginx-errorlog") return "nginx_error";
  if (d == "web-accesslog") return "http_access";
  if (d == "json" && line.find("\"win\"") != std::string::npos) return "windows";
  return "";
}

// Every Wazuh test line whose decoder we cover is parsed by the matching parser.
TEST(GroundTruthTest, WazuhDecoders) {
  const char* files[] = {"sshd.ini",         "sudo.ini",
                         "su.ini",           "iptables.ini",
                         "cisco_asa.ini",    "cisco_ftd.ini",
                         "fortigate.ini",    "checkpoint_smart1.ini",
                         "paloalto.ini",     "pfsense.ini",
                         "apache.ini",       "nginx.ini",
                         "web_rules.ini",    "win_event_channel.ini",
                         "win_security.ini", "sysmon_eid_1.ini",
                         "sysmon_eid_3.ini", "sysmon_eid_10.ini",
                         "sysmon_eid_13.ini"};
  int total = 0, matched = 0;
  for (const char* f : files) {
    std::vector<std::string> lines = Lines(kCorpora + "/wazuh-ruleset/ruleset/testing/tests/" + f);
    if (lines.empty()) GTEST_SKIP() << "corpora not present";
    std::vector<std::string> pending;
    int ft = 0, fm = 0;
    for (const std::string& l : lines) {
      if (l.rfind("log ", 0) == 0 && l.find(" = ") != std::string::npos) {
        pending.push_back(l.substr(l.find(" = ") + 3));
      } else if (l.rfind("decoder = ", 0) == 0) {
        for (const std::string& p : pending) {
          std::string want = FormatOfDecoder(l.substr(10), p);
          if (want.empty()) continue;
          ++ft;
          Event e = P(p);
          if (e.format == want) {
            ++fm;
          } else {
            ADD_FAILURE() << f << ": want " << want << " got " << e.format << ": " << p;
          }
        }
        pending.clear();
      } else if (!l.empty() && l[0] == '[') {
        pending.clear();
      }
    }
    std::printf("[wazuh %s] %d/%d lines parsed by the expected parser\n", f, fm, ft);
    total += ft, matched += fm;
  }
  std::printf("[wazuh] %d/%d lines parsed by the expected parser\n", matched, total);
  EXPECT_GT(total, 400);
}

}  // namespace
}  // namespace mamori::parsers
