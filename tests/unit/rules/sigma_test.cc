// Sigma rules: modifiers, wildcards, condition grammar, keywords and correlation rules.
#include <gtest/gtest.h>

#include "mamori/rules/engine.h"
#include "test_util.h"

namespace mamori::rules {
namespace {

using testing::kSec;
using testing::Load;

// A Windows Sysmon process creation event in the nested JSON layout of the corpus.
Record WinProc(const std::string& image, const std::string& cmdline, std::int64_t t = 0,
               std::uint64_t seq = 1, const std::string& user = "CORP\\alice",
               const std::string& computer = "ws1") {
  Record r;
  r.seq = seq;
  r.event.event_time_ns = t;
  r.event.format = "json";
  r.event.fields = {
      {"Event.System.EventID", "1"},
      {"Event.System.Channel", "Microsoft-Windows-Sysmon/Operational"},
      {"Event.System.Computer", computer},
      {"Event.EventData.Image", image},
      {"Event.EventData.CommandLine", cmdline},
      {"Event.EventData.User", user},
      {"Event.EventData.ParentImage", "C:\\Windows\\explorer.exe"},
      {"Event.EventData.IntegrityLevel", "High"},
      {"Event.EventData.ProcessId", "4242"},
  };
  r.raw.bytes = "{}";
  return r;
}

std::string Sigma(const std::string& detection, const std::string& extra = "") {
  return "title: T\nid: 11111111-2222-3333-4444-555555555555\nlogsource:\n  product: windows\n"
         "  category: process_creation\nlevel: high\n" +
         extra + "detection:\n" + detection;
}

class SigmaMatch : public ::testing::Test {
 protected:
  void Rule(const std::string& yaml) {
    auto r = Load(yaml, "sigma.yml");
    ASSERT_EQ(r.errors() + r.unsupported(), 0) << r.Format();
    ASSERT_EQ(r.rules->size(), 1u) << r.Format();
    engine_ = std::make_unique<Engine>(r.rules);
  }
  bool Fires(const Record& rec) {
    std::vector<Alert> alerts;
    engine_->Process(rec, &alerts);
    return !alerts.empty();
  }
  std::unique_ptr<Engine> engine_;
};

TEST_F(SigmaMatch, EqualityIsCaseInsensitiveAndListsAreOr) {
  Rule(
      Sigma("  sel:\n    Image:\n      - 'C:\\Windows\\System32\\cmd.exe'\n      - 'c:\\x.exe'\n"
            "  condition: sel\n"));
  EXPECT_TRUE(Fires(WinProc("c:\\windows\\system32\\CMD.EXE", "")));
  EXPECT_TRUE(Fires(WinProc("C:\\X.exe", "")));
  EXPECT_FALSE(Fires(WinProc("C:\\Windows\\System32\\cmd.exe.bak", "")));
}

TEST_F(SigmaMatch, MapIsAndOfFields) {
  Rule(
      Sigma("  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: '/c'\n"
            "  condition: sel\n"));
  EXPECT_TRUE(Fires(WinProc("C:\\cmd.exe", "cmd /c whoami")));
  EXPECT_FALSE(Fires(WinProc("C:\\cmd.exe", "cmd /k whoami")));
  EXPECT_FALSE(Fires(WinProc("C:\\pwsh.exe", "/c")));
}

TEST_F(SigmaMatch, ContainsAllStartswith) {
  Rule(
      Sigma("  sel:\n    CommandLine|contains|all: [' -enc ', 'hidden']\n"
            "    Image|startswith: 'C:\\Windows\\'\n  condition: sel\n"));
  EXPECT_TRUE(Fires(WinProc("C:\\Windows\\p.exe", "p -w HIDDEN -enc AAA")));
  EXPECT_FALSE(Fires(WinProc("C:\\Windows\\p.exe", "p -enc AAA")));
  EXPECT_FALSE(Fires(WinProc("D:\\Windows\\p.exe", "p -w hidden -enc AAA")));
}

TEST_F(SigmaMatch, WildcardsAndEscapes) {
  Rule(
      Sigma("  sel:\n    Image: '*\\te?t.exe'\n  lit:\n    CommandLine: 'a\\*b'\n"
            "  condition: sel or lit\n"));
  EXPECT_TRUE(Fires(WinProc("C:\\dir\\TEST.exe", "")));
  EXPECT_TRUE(Fires(WinProc("C:\\dir\\text.exe", "")));
  EXPECT_FALSE(Fires(WinProc("C:\\dir\\teest.exe", "")));
  EXPECT_TRUE(Fires(WinProc("x", "A*B")));
  EXPECT_FALSE(Fires(WinProc("x", "axxb")));
}

TEST_F(SigmaMatch, RegexAndSubModifiers) {
  Rule(
      Sigma("  sel:\n    CommandLine|re: '^cmd\\s+/c\\s+[a-z]+$'\n  ci:\n"
            "    CommandLine|re|i: 'POWERSHELL.*-nop'\n  condition: sel or ci\n"));
  EXPECT_TRUE(Fires(WinProc("x", "cmd /c whoami")));
  EXPECT_FALSE(Fires(WinProc("x", "CMD /c whoami")));  // re is case-sensitive
  EXPECT_TRUE(Fires(WinProc("x", "powershell.exe -nop")));
}

TEST_F(SigmaMatch, CasedModifier) {
  Rule(Sigma("  sel:\n    CommandLine|cased|contains: 'SeDebug'\n  condition: sel\n"));
  EXPECT_TRUE(Fires(WinProc("x", "grant SeDebug")));
  EXPECT_FALSE(Fires(WinProc("x", "grant sedebug")));
}

TEST_F(SigmaMatch, Windash) {
  Rule(Sigma("  sel:\n    CommandLine|windash|contains: ' -exec bypass'\n  condition: sel\n"));
  EXPECT_TRUE(Fires(WinProc("x", "p.exe -exec bypass")));
  EXPECT_TRUE(Fires(WinProc("x", "p.exe /exec bypass")));
  EXPECT_TRUE(Fires(WinProc("x",
                            "p.exe \xe2\x80\x93"
                            "exec bypass")));
  EXPECT_FALSE(Fires(WinProc("x", "p.exe +exec bypass")));
}

TEST_F(SigmaMatch, Base64AndBase64Offset) {
  // "whoami" base64 = d2hvYW1p; offsets of "http://" inside any base64 blob.
  Rule(
      Sigma("  b:\n    CommandLine|base64: 'whoami'\n  o:\n"
            "    CommandLine|base64offset|contains: 'http://'\n  condition: b or o\n"));
  EXPECT_TRUE(Fires(WinProc("x", "d2hvYW1p")));
  EXPECT_TRUE(Fires(WinProc("x", "-enc aHR0cDovL2V2aWw=")));      // "http://evil"
  EXPECT_TRUE(Fires(WinProc("x", "-enc eGh0dHA6Ly9ldmls")));      // "xhttp://evil"
  EXPECT_TRUE(Fires(WinProc("x", "-enc eHhodHRwOi8vZXZpbA==")));  // "xxhttp://evil"
  EXPECT_FALSE(Fires(WinProc("x", "-enc ZnRwOi8vZXZpbA==")));     // "ftp://evil"
}

TEST_F(SigmaMatch, WideBase64Offset) {
  // UTF-16LE "Invoke" base64-encoded at offset 0: SQBuAHYAbwBrAGUA
  Rule(Sigma("  sel:\n    CommandLine|wide|base64offset|contains: 'Invoke'\n  condition: sel\n"));
  EXPECT_TRUE(Fires(WinProc("x", "powershell -e SQBuAHYAbwBrAGUALQBYAA==")));
  EXPECT_FALSE(Fires(WinProc("x", "powershell -e SQBuAHYAbwBrAGU=")));  // UTF-8 "Invoke"... no
}

TEST_F(SigmaMatch, CidrExistsNumericFieldref) {
  Rule(
      Sigma("  ip:\n    SourceIp|cidr: ['10.0.0.0/8', '192.168.0.0/16']\n"
            "  ex:\n    ParentImage|exists: true\n  num:\n    ProcessId|gt: 4000\n"
            "  same:\n    User|fieldref: Computer\n"
            "  condition: (ip and ex) or (num and not same)\n"));
  Record r = WinProc("x", "");
  r.event.Set("Event.EventData.SourceIp", "10.9.9.9");
  EXPECT_TRUE(Fires(r));                                      // ip and ex
  EXPECT_TRUE(Fires(WinProc("x", "")));                       // num and not same
  EXPECT_FALSE(Fires(WinProc("x", "", 0, 1, "WS1", "ws1")));  // User equals Computer
}

TEST_F(SigmaMatch, NullMeansEmptyOrAbsent) {
  Rule(
      Sigma("  sel:\n    Image|endswith: '.exe'\n  f:\n    OriginalFileName: null\n"
            "  condition: sel and f\n"));
  EXPECT_TRUE(Fires(WinProc("a.exe", "")));
  Record r = WinProc("a.exe", "");
  r.event.Set("Event.EventData.OriginalFileName", "a.exe");
  EXPECT_FALSE(Fires(r));
}

TEST_F(SigmaMatch, OneOfAllOfThem) {
  Rule(
      Sigma("  sel_a:\n    Image|endswith: '\\a.exe'\n  sel_b:\n    Image|endswith: '\\b.exe'\n"
            "  filter_x:\n    CommandLine|contains: 'safe'\n"
            "  condition: 1 of sel_* and not 1 of filter*\n"));
  EXPECT_TRUE(Fires(WinProc("C:\\b.exe", "x")));
  EXPECT_FALSE(Fires(WinProc("C:\\b.exe", "safe")));
  EXPECT_FALSE(Fires(WinProc("C:\\c.exe", "x")));
}

TEST_F(SigmaMatch, AllOfThem) {
  Rule(
      Sigma("  a:\n    Image|endswith: '.exe'\n  b:\n    CommandLine|contains: 'x'\n"
            "  condition: all of them\n"));
  EXPECT_TRUE(Fires(WinProc("C:\\b.exe", "x")));
  EXPECT_FALSE(Fires(WinProc("C:\\b.exe", "y")));
}

TEST_F(SigmaMatch, KeywordsSearchTheMessage) {
  Rule(
      "title: K\nid: k1\nlogsource: {product: cisco, service: aaa}\nlevel: low\n"
      "detection:\n  keywords:\n    - 'no dot1x port-control'\n    - 'Port-Security'\n"
      "  condition: keywords\n");
  EXPECT_TRUE(Fires(testing::MakeRecord("%PARSER-5: logged command:No Dot1x Port-Control")));
  EXPECT_FALSE(Fires(testing::MakeRecord("dot1x enabled")));
}

TEST_F(SigmaMatch, LogsourceMustMatch) {
  Rule(Sigma("  sel:\n    Image|endswith: '.exe'\n  condition: sel\n"));
  Record r = WinProc("a.exe", "");
  r.event.Set("Event.System.EventID", "11");  // file_event, not process_creation
  EXPECT_FALSE(Fires(r));
}

// Log sources restrict by format: `product: linux` sees the Linux formats only, Linux
// process_creation only auditd, a category without a product (webserver) the web formats.
TEST_F(SigmaMatch, LogsourceRestrictsByFormat) {
  auto kw = [](const std::string& logsource) {
    return "title: K\nid: k1\nlogsource: " + logsource +
           "\nlevel: low\ndetection:\n  keywords: ['evil thing']\n  condition: keywords\n";
  };
  auto event = [](const std::string& format) {
    Record r = testing::Syslog("app", "an evil thing happened", 0, 1);
    r.event.format = format;
    return r;
  };
  Rule(kw("{product: linux}"));
  EXPECT_TRUE(Fires(event("rfc3164")));
  EXPECT_TRUE(Fires(event("sshd")));
  EXPECT_FALSE(Fires(event("json")));
  EXPECT_FALSE(Fires(event("windows")));
  Rule(kw("{product: linux, category: process_creation}"));
  EXPECT_TRUE(Fires(event("auditd")));
  EXPECT_FALSE(Fires(event("rfc3164")));
  Rule(kw("{category: webserver}"));
  EXPECT_TRUE(Fires(event("http_access")));
  EXPECT_FALSE(Fires(event("rfc3164")));
  Rule(kw("{product: zeek, category: dns}"));  // unknown product: its format only
  EXPECT_TRUE(Fires(event("zeek")));
  EXPECT_FALSE(Fires(event("cef")));
}

TEST(SigmaLoad, UnsupportedFeaturesAreReportedPerRule) {
  auto r = Load(Sigma("  sel:\n    Image|expand: '%x%'\n  condition: sel\n") + "---\n" +
                Sigma("  sel:\n    Image: x\n  condition: sel | count() > 5\n") + "---\n" +
                Sigma("  sel:\n    CommandLine|re: '(?<=a)b'\n  condition: sel\n") + "---\n" +
                "title: ok\nid: ok\nlogsource: {product: windows}\ndetection:\n  s:\n    Image: x\n"
                "  condition: s\n");
  EXPECT_EQ(r.unsupported(), 3) << r.Format();
  EXPECT_EQ(r.rules->size(), 1u) << r.Format();
  EXPECT_NE(r.Format().find("unsupported: modifier 'expand'"), std::string::npos) << r.Format();
  EXPECT_NE(r.Format().find("unsupported: aggregation"), std::string::npos) << r.Format();
  EXPECT_NE(r.Format().find("unsupported: regular expression not supported by RE2"),
            std::string::npos)
      << r.Format();
}

TEST(SigmaLoad, UnknownSelectionInConditionIsAnErrorWithLine) {
  auto r = Load(Sigma("  sel:\n    Image: x\n  condition: sel and other\n"), "x.yml");
  ASSERT_EQ(r.errors(), 1) << r.Format();
  EXPECT_EQ(r.diagnostics.back().line, 10) << r.Format();
  EXPECT_EQ(r.diagnostics.back().rule_id, "11111111-2222-3333-4444-555555555555");
}

constexpr const char* kBase = R"(
title: Failed logon
id: 5638f7c0-ac70-491d-8465-2a65075e0d86
name: failed_logon
logsource: {product: windows, service: security}
level: low
detection:
  sel:
    EventID: 4625
  condition: sel
---
title: Successful logon
id: 7738f7c0-ac70-491d-8465-2a65075e0d86
name: successful_logon
logsource: {product: windows, service: security}
level: low
detection:
  sel:
    EventID: 4624
  condition: sel
)";

Record Logon(const std::string& id, const std::string& user, std::int64_t t, std::uint64_t seq) {
  Record r;
  r.seq = seq;
  r.event.event_time_ns = t;
  r.event.fields = {{"Event.System.EventID", id},
                    {"Event.System.Channel", "Security"},
                    {"Event.System.Computer", "dc1"},
                    {"Event.EventData.TargetUserName", user}};
  return r;
}

TEST(SigmaCorrelation, EventCountAndGenerateFalse) {
  auto r = Load(std::string(kBase) + R"(---
title: Many failed logins
id: 0e95725d-7320-415d-80f7-004da920fc11
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [ComputerName]
  timespan: 1h
  condition: {gte: 3}
level: high
)");
  ASSERT_TRUE(r.ok()) << r.Format();
  ASSERT_EQ(r.rules->size(), 3u);
  EXPECT_FALSE(r.rules->info(r.rules->Find("5638f7c0-ac70-491d-8465-2a65075e0d86")).alerting);
  EXPECT_TRUE(r.rules->info(r.rules->Find("7738f7c0-ac70-491d-8465-2a65075e0d86")).alerting);
  Engine e(r.rules);
  std::vector<Alert> alerts;
  for (int i = 1; i <= 3; ++i) e.Process(Logon("4625", "u", i * kSec, i), &alerts);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule_id, "0e95725d-7320-415d-80f7-004da920fc11");
  EXPECT_EQ(alerts[0].group_key, "ComputerName=dc1");
  EXPECT_EQ(alerts[0].severity, Severity::kHigh);
}

TEST(SigmaCorrelation, ValueCount) {
  auto r = Load(std::string(kBase) + R"(---
title: Failed logon many users
id: vc
correlation:
  type: value_count
  rules: [5638f7c0-ac70-491d-8465-2a65075e0d86]
  group-by: [ComputerName]
  timespan: 1d
  condition: {field: TargetUserName, gte: 2}
)");
  ASSERT_TRUE(r.ok()) << r.Format();
  Engine e(r.rules);
  std::vector<Alert> alerts;
  e.Process(Logon("4625", "a", 1, 1), &alerts);
  e.Process(Logon("4625", "a", 2, 2), &alerts);
  EXPECT_TRUE(alerts.empty());
  e.Process(Logon("4625", "b", 3, 3), &alerts);
  ASSERT_EQ(alerts.size(), 1u);
}

TEST(SigmaCorrelation, TemporalAndOrdered) {
  auto r = Load(std::string(kBase) + R"(---
title: Fail then success
id: ordered
correlation:
  type: temporal_ordered
  rules: [failed_logon, successful_logon]
  group-by: [TargetUserName]
  timespan: 10m
---
title: Both in any order
id: unordered
correlation:
  type: temporal
  rules: [successful_logon, failed_logon]
  group-by: [TargetUserName]
  timespan: 10m
)");
  ASSERT_TRUE(r.ok()) << r.Format();
  Engine e(r.rules);
  std::vector<Alert> alerts;
  e.Process(Logon("4624", "bob", 1 * kSec, 1), &alerts);
  e.Process(Logon("4625", "bob", 2 * kSec, 2), &alerts);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule_id, "unordered");
  e.Process(Logon("4624", "bob", 3 * kSec, 3), &alerts);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[1].rule_id, "ordered");
  EXPECT_EQ(alerts[1].evidence_seqs, (std::vector<std::uint64_t>{2, 3}));
}

TEST(SigmaCorrelation, UnknownReferenceAndUnsupportedTypes) {
  auto r = Load(std::string(kBase) + R"(---
title: Bad ref
id: bad
correlation: {type: event_count, rules: [nope], timespan: 1h, condition: {gte: 2}}
---
title: Sum
id: sum
correlation: {type: value_sum, rules: [failed_logon], timespan: 1h, condition: {field: x, lt: 2}}
---
title: Lt
id: lt
correlation: {type: event_count, rules: [failed_logon], timespan: 1h, condition: {lt: 2}}
)");
  EXPECT_EQ(r.errors(), 1) << r.Format();
  EXPECT_EQ(r.unsupported(), 2) << r.Format();
  EXPECT_NE(r.Format().find("references rule 'nope'"), std::string::npos) << r.Format();
}

// A successful logon with a number of bytes (successful_logon of kBase matches it).
Record Transfer(const std::string& user, const std::string& bytes, std::int64_t t,
                std::uint64_t seq) {
  Record r = Logon("4624", user, t, seq);
  r.event.fields.push_back({"Event.EventData.BytesSent", bytes});
  return r;
}

std::string FieldOf(const Alert& a, const std::string& key) {
  for (const auto& f : a.fields) {
    if (f.key == key) return f.value;
  }
  return "";
}

TEST(SigmaCorrelation, ValueSumFiresWhenTheWindowsSumCrossesTheLimit) {
  auto r = Load(std::string(kBase) + R"(---
title: Exfiltration
id: exfil
correlation:
  type: value_sum
  rules: [successful_logon]
  group-by: [TargetUserName]
  timespan: 1h
  condition: {field: BytesSent, gt: 1000}
)");
  ASSERT_EQ(r.errors() + r.unsupported(), 0) << r.Format();
  Engine e(r.rules);
  std::vector<Alert> alerts;
  e.Process(Transfer("bob", "400", 1 * kSec, 1), &alerts);
  e.Process(Transfer("bob", "500", 2 * kSec, 2), &alerts);
  e.Process(Transfer("alice", "900", 3 * kSec, 3), &alerts);  // another group
  e.Process(Transfer("bob", "lots", 4 * kSec, 4), &alerts);   // not a number: not counted
  e.Process(Logon("4624", "bob", 5 * kSec, 5), &alerts);      // no field: not counted
  EXPECT_TRUE(alerts.empty());
  e.Process(Transfer("bob", "200", 6 * kSec, 6), &alerts);  // 1,100 > 1,000
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule_id, "exfil");
  EXPECT_EQ(alerts[0].group_key, "TargetUserName=bob");
  EXPECT_EQ(alerts[0].evidence_seqs, (std::vector<std::uint64_t>{1, 2, 6}));
  EXPECT_EQ(FieldOf(alerts[0], "value_sum"), "1100");
  EXPECT_EQ(alerts[0].summary,
            "Exfiltration: sum of BytesSent 1100 (> 1000) over 3 events within 1h for "
            "TargetUserName=bob");
  // The window starts over after an alert, and old transfers leave it.
  e.Process(Transfer("bob", "600", 7 * kSec, 7), &alerts);
  e.Process(Transfer("bob", "600", 7 * kSec + 2 * 3600 * kSec, 8), &alerts);
  EXPECT_EQ(alerts.size(), 1u);
  e.Process(Transfer("bob", "600.5", 8 * kSec + 2 * 3600 * kSec, 9), &alerts);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(FieldOf(alerts[1], "value_sum"), "1200.5");
  EXPECT_EQ(alerts[1].evidence_seqs, (std::vector<std::uint64_t>{8, 9}));
}

TEST(SigmaCorrelation, ValueSumStaysExactPastTheHitsAGroupKeeps) {
  auto r = Load(std::string(kBase) + R"(---
title: Many small transfers
id: small
correlation:
  type: value_sum
  rules: [successful_logon]
  group-by: [TargetUserName]
  timespan: 1h
  condition: {field: BytesSent, gte: 6000}
)");
  ASSERT_EQ(r.errors() + r.unsupported(), 0) << r.Format();
  Engine e(r.rules);
  std::vector<Alert> alerts;
  // 6,000 transfers of 1 byte in one minute: more than the 4,096 hits a group keeps.
  for (std::uint64_t i = 1; i <= 6000; ++i) {
    e.Process(Transfer("bob", "1", static_cast<std::int64_t>(i) * 10'000'000, i), &alerts);
    if (i < 6000) {
      ASSERT_TRUE(alerts.empty()) << "fired at " << i;
    }
  }
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(FieldOf(alerts[0], "value_sum"), "6000");
  EXPECT_NE(alerts[0].summary.find("over 6000 events"), std::string::npos) << alerts[0].summary;
}

TEST(SigmaCorrelation, ValueAvgComparesTheAverageEitherWay) {
  auto r = Load(std::string(kBase) + R"(---
title: Large average
id: avg-high
correlation:
  type: value_avg
  rules: [successful_logon]
  group-by: [TargetUserName]
  timespan: 1h
  condition: {field: BytesSent, gt: 500}
---
title: Tiny average
id: avg-low
correlation:
  type: value_avg
  rules: [successful_logon]
  group-by: [TargetUserName]
  timespan: 1h
  condition: {field: BytesSent, lte: 2}
)");
  ASSERT_EQ(r.errors() + r.unsupported(), 0) << r.Format();
  Engine e(r.rules);
  std::vector<Alert> alerts;
  e.Process(Transfer("bob", "100", 1 * kSec, 1), &alerts);
  EXPECT_TRUE(alerts.empty());
  e.Process(Transfer("bob", "1000", 2 * kSec, 2), &alerts);  // average 550
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule_id, "avg-high");
  EXPECT_EQ(FieldOf(alerts[0], "value_avg"), "550");
  EXPECT_EQ(alerts[0].evidence_seqs, (std::vector<std::uint64_t>{1, 2}));
  alerts.clear();
  e.Process(Transfer("carol", "1", 3 * kSec, 3), &alerts);  // average 1 <= 2
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule_id, "avg-low");
  EXPECT_EQ(FieldOf(alerts[0], "value_avg"), "1");
  e.Process(Transfer("dave", "2.5", 4 * kSec, 4), &alerts);
  EXPECT_EQ(alerts.size(), 1u);
}

TEST(SigmaCorrelation, ValuePercentileFindsARareValueInItsGroup) {
  // The specification's example: a process name seen in at most 1 % of a computer's processes.
  auto r = Load(std::string(kBase) + R"(---
title: Rare user on a computer
id: rare
correlation:
  type: value_percentile
  rules: [successful_logon]
  group-by: [Computer]
  timespan: 24h
  condition: {field: TargetUserName, lte: 5}
)");
  ASSERT_EQ(r.errors() + r.unsupported(), 0) << r.Format();
  Engine e(r.rules);
  std::vector<Alert> alerts;
  std::uint64_t seq = 0;
  auto logon = [&](const char* user) {
    ++seq;
    e.Process(Logon("4624", user, static_cast<std::int64_t>(seq) * kSec, seq), &alerts);
  };
  for (int i = 0; i < 30; ++i) logon("svc");
  EXPECT_TRUE(alerts.empty());  // 100 % svc
  logon("mallory");             // 1 of 31: 3.2 %
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].group_key, "Computer=dc1");
  EXPECT_EQ(FieldOf(alerts[0], "value"), "mallory");
  EXPECT_EQ(FieldOf(alerts[0], "value_percentile"), "3.22581");
  EXPECT_EQ(alerts[0].evidence_seqs, (std::vector<std::uint64_t>{31}));
  EXPECT_EQ(alerts[0].summary,
            "Rare user on a computer: TargetUserName 'mallory' is 3.22581% (<= 5) of 31 events "
            "within 1d for Computer=dc1");
  // The baseline stays: svc is still common, a second mallory is still rare (2 of 33: 6 %: no).
  logon("svc");
  logon("mallory");
  EXPECT_EQ(alerts.size(), 1u);
  logon("eve");  // 1 of 34
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(FieldOf(alerts[1], "value"), "eve");
}

TEST(SigmaCorrelation, MetricConditionsAreCheckedAtLoad) {
  auto bad = [](const std::string& type, const std::string& cond) {
    return Load(std::string(kBase) + "---\ntitle: M\nid: m\ncorrelation: {type: " + type +
                ", rules: [successful_logon], group-by: [TargetUserName], timespan: 1h, "
                "condition: " +
                cond + "}\n");
  };
  EXPECT_EQ(bad("value_sum", "{field: BytesSent, lt: 5}").unsupported(), 1);
  EXPECT_EQ(bad("value_avg", "{field: BytesSent, eq: 5}").unsupported(), 1);
  EXPECT_EQ(bad("value_avg", "{gt: 5}").errors(), 1);                             // no field
  EXPECT_EQ(bad("value_avg", "{field: BytesSent, gt: 5, lt: 9}").errors(), 1);    // two ops
  EXPECT_EQ(bad("value_avg", "{field: BytesSent, gt: many}").errors(), 1);        // not a number
  EXPECT_EQ(bad("value_avg", "{field: BytesSent, gt: .nan}").errors(), 1);        // not finite
  EXPECT_EQ(bad("value_percentile", "{field: BytesSent, size: 5}").errors(), 1);  // unknown op
  EXPECT_EQ(bad("value_percentile", "{field: [a, b], lte: 5}").errors(), 1);
  auto ok = bad("value_percentile", "{field: TargetUserName, gte: 99.5}");
  EXPECT_EQ(ok.errors() + ok.unsupported(), 0) << ok.Format();
}

}  // namespace
}  // namespace mamori::rules
