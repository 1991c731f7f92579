// Each condition kind of mamori rules, evaluated by the engine.
#include "mamori/rules/engine.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "mamori/core/time_util.h"
#include "test_util.h"

namespace mamori::rules {
namespace {

using testing::kSec;
using testing::Load;
using testing::Syslog;

// Loads one rule with the given match and logsource and reports whether `r` fires it.
class MatchTest : public ::testing::Test {
 protected:
  void Rule(const std::string& body) {
    auto r = Load("id: t\ntitle: T\nseverity: medium\n" + body);
    ASSERT_TRUE(r.ok()) << r.Format();
    ASSERT_EQ(r.rules->size(), 1u) << r.Format();
    engine_ = std::make_unique<Engine>(r.rules);
  }
  bool Fires(const Record& rec) {
    std::vector<Alert> alerts;
    engine_->Process(rec, &alerts);
    last_ = alerts;
    return !alerts.empty();
  }
  std::unique_ptr<Engine> engine_;
  std::vector<Alert> last_;
};

TEST_F(MatchTest, EqualityIsExactAndCaseSensitive) {
  Rule("match: {app: sshd}");
  EXPECT_TRUE(Fires(Syslog("sshd", "x", 0, 1)));
  EXPECT_FALSE(Fires(Syslog("SSHD", "x", 0, 2)));
  EXPECT_FALSE(Fires(Syslog("sshd2", "x", 0, 3)));
}

TEST_F(MatchTest, ListIsAnyOf) {
  Rule("match: {app: [sshd, dropbear]}");
  EXPECT_TRUE(Fires(Syslog("dropbear", "x", 0, 1)));
  EXPECT_FALSE(Fires(Syslog("telnetd", "x", 0, 1)));
}

TEST_F(MatchTest, RegexNamedCapturesBecomeAlertFields) {
  Rule(R"(match: {message: 're:Failed password for (?P<user>\S+) from (?P<src_ip>[0-9.]+)'}
summary: '{user} from {src_ip} on {host}'
)");
  ASSERT_TRUE(Fires(Syslog("sshd", "Failed password for bob from 10.1.2.3 port 22", 5, 42)));
  const Alert& a = last_[0];
  EXPECT_EQ(a.rule_id, "t");
  EXPECT_EQ(a.evidence_seqs, std::vector<std::uint64_t>{42});
  EXPECT_EQ(a.event_time_ns, 5);
  EXPECT_EQ(a.fields, (std::vector<Field>{{"user", "bob"}, {"src_ip", "10.1.2.3"}}));
  EXPECT_EQ(a.summary, "bob from 10.1.2.3 on h1");
}

TEST_F(MatchTest, OperatorsContainsStartsEndsIcase) {
  Rule(R"(match:
  message: {contains: Failed, icase: true}
  app: {startswith: ss}
  host: {endswith: '.example'}
)");
  EXPECT_TRUE(Fires(Syslog("sshd", "xx FAILED yy", 0, 1, {}, "web1.example")));
  EXPECT_FALSE(Fires(Syslog("sshd", "xx FAILED yy", 0, 1, {}, "web1.example.org")));
  EXPECT_FALSE(Fires(Syslog("xsshd", "Failed", 0, 1, {}, "a.example")));
}

// Event time in a local window: `outside` business hours (Mon-Fri 08:00-19:00 JST).
TEST_F(MatchTest, EventTimeOutsideBusinessHours) {
  Rule(R"(match:
  message: {startswith: 'Accepted'}
  event_time: {outside: '08:00-19:00', days: mon-fri, timezone: '+09:00'}
)");
  auto at = [](const char* rfc3339) {
    return Syslog("sshd", "Accepted password for taro", *ParseRfc3339(rfc3339), 1);
  };
  EXPECT_TRUE(Fires(at("2024-03-06T13:30:00Z")));   // Wed 22:30 JST
  EXPECT_FALSE(Fires(at("2024-03-06T02:00:00Z")));  // Wed 11:00 JST
  EXPECT_FALSE(Fires(at("2024-03-05T23:00:00Z")));  // Wed 08:00 JST (the window's start)
  EXPECT_TRUE(Fires(at("2024-03-05T22:59:00Z")));   // Wed 07:59 JST
  EXPECT_TRUE(Fires(at("2024-03-06T10:00:00Z")));   // Wed 19:00 JST (the window's end)
  EXPECT_FALSE(Fires(at("2024-03-07T23:30:00Z")));  // Thu in UTC, Fri 08:30 in JST
  EXPECT_TRUE(Fires(at("2024-03-08T23:30:00Z")));   // Fri in UTC, Sat 08:30 in JST
  EXPECT_TRUE(Fires(at("2024-03-10T02:00:00Z")));   // Sun 11:00 JST
  EXPECT_TRUE(Fires(at("1969-12-31T20:00:00Z")));   // before the epoch: Thu 05:00 JST
  EXPECT_FALSE(Fires(Syslog("sshd", "Accepted password for taro", 0, 1)));  // unknown time
  EXPECT_FALSE(
      Fires(Syslog("sshd", "Failed password for taro", *ParseRfc3339("2024-03-06T13:30:00Z"), 1)));
}

TEST_F(MatchTest, TimeWithinOnAnRfc3339Field) {
  Rule(R"(match:
  Event.System.TimeCreated.SystemTime: {within: '22:00-06:00'}
)");
  auto ev = [](const std::string& t) {
    return Syslog("x", "m", 0, 1, {{"Event.System.TimeCreated.SystemTime", t}});
  };
  EXPECT_TRUE(Fires(ev("2024-03-06T23:30:12.000Z")));
  EXPECT_TRUE(Fires(ev("2024-03-06T05:59:59Z")));
  EXPECT_FALSE(Fires(ev("2024-03-06T06:00:00Z")));
  EXPECT_TRUE(Fires(ev("2024-03-06T08:00:00+09:00")));   // 23:00 UTC (no timezone: UTC)
  EXPECT_FALSE(Fires(ev("2024-03-06T16:00:00+09:00")));  // 07:00 UTC
  EXPECT_FALSE(Fires(ev("not a time")));
}

TEST(TimeWindowTest, Errors) {
  auto load = [](const std::string& ops) {
    return Load("id: t\ntitle: T\nseverity: low\nmatch:\n  event_time: " + ops + "\n").Format();
  };
  EXPECT_NE(load("{within: '8-19'}").find("a time range is 'HH:MM-HH:MM'"), std::string::npos);
  EXPECT_NE(load("{within: '08:00-08:00'}").find("a time range"), std::string::npos);
  EXPECT_NE(load("{within: '08:00-19:00', outside: '08:00-19:00'}").find("either 'within'"),
            std::string::npos);
  EXPECT_NE(load("{outside: '08:00-19:00', days: [mon, fry]}").find("unknown day 'fry'"),
            std::string::npos);
  EXPECT_NE(load("{outside: '08:00-19:00', timezone: JST}").find("'timezone' is a UTC offset"),
            std::string::npos);
  EXPECT_EQ(load("{outside: '08:00-24:00', days: 'sat-sun', timezone: '+09:00'}"), "");
}

TEST_F(MatchTest, Cidr) {
  Rule("match: {source.ip: {cidr: [10.0.0.0/8, '2001:db8::/32']}}");
  EXPECT_TRUE(Fires(Syslog("fw", "", 0, 1, {{"source.ip", "10.200.1.1"}})));
  EXPECT_TRUE(Fires(Syslog("fw", "", 0, 1, {{"source.ip", "2001:db8::1"}})));
  EXPECT_FALSE(Fires(Syslog("fw", "", 0, 1, {{"source.ip", "11.0.0.1"}})));
  EXPECT_FALSE(Fires(Syslog("fw", "", 0, 1, {{"source.ip", "not an ip"}})));
}

TEST_F(MatchTest, CidrPrefixForm) {
  Rule("match: {source.ip: 'cidr:192.168.0.0/16'}");
  EXPECT_TRUE(Fires(Syslog("fw", "", 0, 1, {{"source.ip", "192.168.4.4"}})));
  EXPECT_FALSE(Fires(Syslog("fw", "", 0, 1, {{"source.ip", "192.169.4.4"}})));
}

TEST_F(MatchTest, NumericComparisons) {
  Rule("match: {destination.port: {gte: 1024, lt: 2048}, severity: {lte: 3}}");
  EXPECT_TRUE(Fires([] {
    auto r = Syslog("fw", "", 0, 1, {{"destination.port", "1024"}});
    r.event.severity = 3;
    return r;
  }()));
  EXPECT_FALSE(Fires([] {
    auto r = Syslog("fw", "", 0, 1, {{"destination.port", "2048"}});
    r.event.severity = 3;
    return r;
  }()));
  EXPECT_FALSE(Fires([] {
    auto r = Syslog("fw", "", 0, 1, {{"destination.port", "1500"}});
    r.event.severity = 6;
    return r;
  }()));
  EXPECT_FALSE(Fires(Syslog("fw", "", 0, 1, {{"destination.port", "abc"}})));
}

TEST_F(MatchTest, Exists) {
  Rule("match: {user.name: {exists: true}, source.ip: {exists: false}}");
  EXPECT_TRUE(Fires(Syslog("a", "", 0, 1, {{"user.name", "x"}})));
  EXPECT_FALSE(Fires(Syslog("a", "", 0, 1, {{"user.name", "x"}, {"source.ip", "1.1.1.1"}})));
  EXPECT_FALSE(Fires(Syslog("a", "", 0, 1)));
}

TEST_F(MatchTest, AllAnyNot) {
  Rule(R"(match:
  all:
    - app: sudo
    - any:
        - message: {contains: 'COMMAND=/bin/sh'}
        - message: {contains: 'COMMAND=/bin/bash'}
    - not: {user.name: root}
)");
  EXPECT_TRUE(Fires(Syslog("sudo", "alice : COMMAND=/bin/bash", 0, 1, {{"user.name", "alice"}})));
  EXPECT_FALSE(Fires(Syslog("sudo", "root : COMMAND=/bin/bash", 0, 1, {{"user.name", "root"}})));
  EXPECT_FALSE(Fires(Syslog("sudo", "alice : COMMAND=/bin/ls", 0, 1, {{"user.name", "alice"}})));
}

TEST_F(MatchTest, ConditionExpression) {
  Rule(R"(selections:
  failed: {message: {contains: 'Failed password'}}
  invalid: {message: {contains: 'invalid user'}}
  internal: {source.ip: {cidr: 10.0.0.0/8}}
condition: (failed or invalid) and not internal
)");
  EXPECT_TRUE(Fires(Syslog("sshd", "Failed password", 0, 1, {{"source.ip", "8.8.8.8"}})));
  EXPECT_FALSE(Fires(Syslog("sshd", "Failed password", 0, 1, {{"source.ip", "10.8.8.8"}})));
  EXPECT_FALSE(Fires(Syslog("sshd", "Accepted", 0, 1, {{"source.ip", "8.8.8.8"}})));
}

TEST_F(MatchTest, PseudoFields) {
  Rule("match: {format: rfc3164, facility: '4', msgid: {exists: false}, procid: '77'}");
  auto r = Syslog("sshd", "m", 0, 1);
  r.event.facility = 4;
  r.event.procid = "77";
  EXPECT_TRUE(Fires(r));
  r.event.facility = 10;
  EXPECT_FALSE(Fires(r));
}

TEST_F(MatchTest, LogsourceRestrictsEvents) {
  Rule("logsource: {app: [sshd], format: rfc3164}\nmatch: {message: {contains: x}}");
  EXPECT_TRUE(Fires(Syslog("sshd", "x", 0, 1)));
  EXPECT_FALSE(Fires(Syslog("cron", "x", 0, 1)));
}

TEST(EngineTest, RegexSetScansOncePerFieldAcrossManyRules) {
  std::string yaml = "rules:\n";
  for (int i = 0; i < 300; ++i) {
    yaml += "  - {id: r" + std::to_string(i) +
            ", title: R, severity: low, match: {message: 're:token" + std::to_string(i) +
            "\\b'}}\n";
  }
  auto r = Load(yaml);
  ASSERT_TRUE(r.ok()) << r.Format();
  EXPECT_EQ(r.rules->pattern_count(), 300u);
  EXPECT_EQ(r.rules->field_matcher_count(), 1u);
  Engine e(r.rules);
  std::vector<Alert> alerts;
  e.Process(Syslog("a", "has token17 and token250", 0, 1), &alerts);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].rule_id, "r17");
  EXPECT_EQ(alerts[1].rule_id, "r250");
  auto stats = e.Stats();
  EXPECT_EQ(stats[17].matches, 1u);
  EXPECT_EQ(stats[18].matches, 0u);
}

// The regexes a set of prefilter atoms may match are cached per atom set (engine.cc,
// Potentials): 2^13 distinct sets, more than the cache holds, each seen twice, still fire exactly
// the rules whose regex matches, including after the cache was cleared.
TEST(EngineTest, RegexesPerAtomSetStayExactBeyondTheCache) {
  constexpr int kRules = 13;
  std::string yaml = "rules:\n";
  for (int i = 0; i < kRules; ++i) {
    // An atom (wordNN) and a part the atom does not imply (a digit after it).
    yaml += "  - {id: r" + std::to_string(i) +
            ", title: R, severity: low, match: {message: 're:word" + std::to_string(10 + i) +
            "-[0-9]'}}\n";
  }
  auto r = Load(yaml);
  ASSERT_TRUE(r.ok()) << r.Format();
  Engine e(r.rules);
  std::uint64_t seq = 0, occurrences = 0, matches = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (int set = 0; set < (1 << kRules); ++set) {
      std::string msg = "x";
      std::vector<std::string> want;
      for (int i = 0; i < kRules; ++i) {
        if ((set >> i & 1) == 0) continue;
        // Every third rule's atom occurs without the digit: a potential that does not match.
        const bool digit = (set + i) % 3 != 0;
        msg += " word" + std::to_string(10 + i) + (digit ? "-7" : "-x");
        ++occurrences;
        if (digit) want.push_back("r" + std::to_string(i));
      }
      std::vector<Alert> alerts;
      e.Process(Syslog("a", msg, 0, ++seq), &alerts);
      std::vector<std::string> got;
      for (const auto& a : alerts) got.push_back(a.rule_id);
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
      ASSERT_EQ(got, want) << "pass " << pass << " message " << msg;
      matches += want.size();
    }
  }
  // The prefilter was in use: a regex ran only where its atom occurred (half of the rules per
  // event on average, not all 13), and at least wherever it matched.
  EXPECT_LE(e.engine_stats().regex_runs, occurrences);
  EXPECT_GE(e.engine_stats().regex_runs, matches);
}

TEST(EngineTest, SuppressRepeatsPerGroup) {
  auto r = Load(R"(
id: s
title: S
severity: low
match: {app: sudo}
group_by: [user.name]
suppress: 10m
)");
  ASSERT_TRUE(r.ok()) << r.Format();
  Engine e(r.rules);
  std::vector<Alert> alerts;
  e.Process(Syslog("sudo", "", 0, 1, {{"user.name", "a"}}), &alerts);
  e.Process(Syslog("sudo", "", 60 * kSec, 2, {{"user.name", "a"}}), &alerts);
  e.Process(Syslog("sudo", "", 60 * kSec, 3, {{"user.name", "b"}}), &alerts);
  e.Process(Syslog("sudo", "", 601 * kSec, 4, {{"user.name", "a"}}), &alerts);
  ASSERT_EQ(alerts.size(), 3u);
  EXPECT_EQ(alerts[0].group_key, "user.name=a");
  EXPECT_EQ(alerts[1].group_key, "user.name=b");
  EXPECT_EQ(alerts[2].evidence_seqs, std::vector<std::uint64_t>{4});
  EXPECT_EQ(e.Stats()[0].suppressed, 1u);
}

// Evaluation time is measured on every timing_sample_every-th event only (0: never).
TEST(EngineTest, EvaluationTimeSampledEveryNthEvent) {
  auto r = Load(R"(
id: t
title: T
severity: low
match: {app: sudo, message: {re: 'session (opened|closed) for user [a-z]+'}}
)");
  ASSERT_TRUE(r.ok()) << r.Format();
  EngineOptions every3;
  every3.timing_sample_every = 3;
  Engine e(r.rules, every3);
  std::vector<Alert> alerts;
  e.Process(Syslog("sudo", "session opened for user a", 0, 1), &alerts);
  e.Process(Syslog("sudo", "session opened for user b", 0, 2), &alerts);
  EXPECT_EQ(e.Stats()[0].evaluation_ns, 0u);
  e.Process(Syslog("sudo", "session opened for user c", 0, 3), &alerts);
  EXPECT_GT(e.Stats()[0].evaluation_ns, 0u);
  EXPECT_EQ(alerts.size(), 3u);
  EngineOptions never;
  never.timing_sample_every = 0;
  Engine quiet(r.rules, never);
  for (std::uint64_t seq = 1; seq <= 10; ++seq) {
    quiet.Process(Syslog("sudo", "session closed for user d", 0, seq), &alerts);
  }
  EXPECT_EQ(quiet.Stats()[0].evaluation_ns, 0u);
  EXPECT_EQ(quiet.Stats()[0].matches, 10u);
}

}  // namespace
}  // namespace mamori::rules
