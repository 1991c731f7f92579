// Correlation on event time: threshold, distinct count, sequence; bounds, lateness and reload.
#include <gtest/gtest.h>

#include <algorithm>

#include "mamori/core/clock.h"
#include "mamori/rules/engine.h"
#include "test_util.h"

namespace mamori::rules {
namespace {

using testing::kSec;
using testing::Load;
using testing::Syslog;

constexpr const char* kBruteForce = R"(
id: ssh-brute
title: SSH brute force
severity: high
logsource: {app: sshd}
match: {message: 're:^Failed password for (invalid user )?\S+ from (?P<src>\S+)'}
correlation:
  type: threshold
  count: 3
  window: 1m
  group_by: [source.ip]
)";

Record Failed(const std::string& ip, std::int64_t t, std::uint64_t seq) {
  return Syslog("sshd", "Failed password for root from " + ip + " port 22 ssh2", t, seq,
                {{"source.ip", ip}});
}

std::shared_ptr<const RuleSet> MustLoad(const std::string& yaml) {
  auto r = Load(yaml);
  EXPECT_TRUE(r.ok()) << r.Format();
  EXPECT_GE(r.rules->size(), 1u) << r.Format();
  return r.rules;
}

TEST(CorrelationTest, ThresholdPerGroupWithinWindow) {
  FakeClock clock(1000 * kSec);  // event times come from the clock, as a parser would stamp them
  Engine e(MustLoad(kBruteForce));
  std::vector<Alert> alerts;
  std::uint64_t seq = 0;
  auto feed = [&](const std::string& ip) {
    e.Process(Failed(ip, clock.NowNs(), ++seq), &alerts);
    clock.Advance(10 * kSec);
  };
  feed("1.1.1.1");
  feed("2.2.2.2");
  feed("1.1.1.1");
  EXPECT_TRUE(alerts.empty());
  feed("1.1.1.1");  // third within 1m
  ASSERT_EQ(alerts.size(), 1u);
  const Alert& a = alerts[0];
  EXPECT_EQ(a.rule_id, "ssh-brute");
  EXPECT_EQ(a.group_key, "source.ip=1.1.1.1");
  EXPECT_EQ(a.evidence_seqs, (std::vector<std::uint64_t>{1, 3, 4}));
  EXPECT_EQ(a.severity, Severity::kHigh);
  EXPECT_NE(a.summary.find("3 events within 1m for source.ip=1.1.1.1"), std::string::npos)
      << a.summary;
  // 2.2.2.2: second and third come after the window of the first.
  clock.Advance(60 * kSec);
  feed("2.2.2.2");
  feed("2.2.2.2");
  EXPECT_EQ(alerts.size(), 1u);
  feed("2.2.2.2");
  EXPECT_EQ(alerts.size(), 2u);
}

TEST(CorrelationTest, DistinctValues) {
  Engine e(MustLoad(R"(
id: spray
title: Password spray
severity: high
match: {event.outcome: failure}
correlation: {type: distinct, field: user.name, count: 3, window: 5m, group_by: [source.ip]}
)"));
  std::vector<Alert> alerts;
  auto fail = [&](const std::string& user, std::int64_t t, std::uint64_t seq) {
    e.Process(Syslog("sshd", "", t, seq,
                     {{"event.outcome", "failure"}, {"user.name", user}, {"source.ip", "9.9.9.9"}}),
              &alerts);
  };
  fail("a", 0, 1);
  fail("a", 1 * kSec, 2);
  fail("b", 2 * kSec, 3);
  EXPECT_TRUE(alerts.empty());
  fail("c", 3 * kSec, 4);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].evidence_seqs.size(), 4u);
  EXPECT_NE(alerts[0].summary.find("3 distinct values"), std::string::npos) << alerts[0].summary;
}

TEST(CorrelationTest, OrderedSequenceForTheSameKey) {
  Engine e(MustLoad(R"(
id: success-after-failures
title: Login success after failure
severity: critical
logsource: {app: sshd}
selections:
  failed: {message: {startswith: 'Failed password'}}
  accepted: {message: {startswith: 'Accepted password'}}
correlation: {type: sequence, steps: [failed, accepted], window: 2m, group_by: [source.ip]}
)"));
  std::vector<Alert> alerts;
  auto ev = [&](const std::string& msg, const std::string& ip, std::int64_t t, std::uint64_t s) {
    e.Process(Syslog("sshd", msg, t, s, {{"source.ip", ip}}), &alerts);
  };
  ev("Accepted password for a", "1.1.1.1", 0, 1);  // B before A: nothing
  ev("Failed password for a", "2.2.2.2", 1 * kSec, 2);
  ev("Accepted password for a", "1.1.1.1", 2 * kSec, 3);  // other key
  EXPECT_TRUE(alerts.empty());
  ev("Accepted password for a", "2.2.2.2", 3 * kSec, 4);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].evidence_seqs, (std::vector<std::uint64_t>{2, 4}));
  EXPECT_EQ(alerts[0].group_key, "source.ip=2.2.2.2");
  // Too far apart.
  ev("Failed password for a", "3.3.3.3", 10 * kSec, 5);
  ev("Accepted password for a", "3.3.3.3", 200 * kSec, 6);
  EXPECT_EQ(alerts.size(), 1u);
}

TEST(CorrelationTest, SequenceStepsWithCounts) {
  Engine e(MustLoad(R"(
id: success-after-failures
title: Login success after failures
severity: high
logsource: {app: sshd}
selections:
  failed: {message: {startswith: 'Failed password'}}
  accepted: {message: {startswith: 'Accepted password'}}
correlation:
  type: sequence
  steps: [{selection: failed, count: 3}, accepted]
  window: 2m
  group_by: [source.ip]
)"));
  std::vector<Alert> alerts;
  auto ev = [&](const std::string& msg, const std::string& ip, std::int64_t t, std::uint64_t s) {
    e.Process(Syslog("sshd", msg, t, s, {{"source.ip", ip}}), &alerts);
  };
  ev("Failed password for a", "1.1.1.1", 0, 1);
  ev("Failed password for a", "1.1.1.1", 1 * kSec, 2);
  ev("Accepted password for a", "1.1.1.1", 2 * kSec, 3);  // after two failures only
  EXPECT_TRUE(alerts.empty());
  ev("Failed password for a", "2.2.2.2", 3 * kSec, 4);  // another key does not count
  ev("Failed password for a", "1.1.1.1", 4 * kSec, 5);  // the third
  EXPECT_TRUE(alerts.empty());
  ev("Accepted password for a", "1.1.1.1", 5 * kSec, 6);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].evidence_seqs, (std::vector<std::uint64_t>{1, 2, 5, 6}));
  EXPECT_NE(alerts[0].summary.find("2 steps"), std::string::npos) << alerts[0].summary;
  // Fired: the chain starts again from zero.
  ev("Accepted password for a", "1.1.1.1", 6 * kSec, 7);
  EXPECT_EQ(alerts.size(), 1u);
  // The three failures must fall within the window.
  ev("Failed password for a", "3.3.3.3", 10 * kSec, 8);
  ev("Failed password for a", "3.3.3.3", 100 * kSec, 9);
  ev("Failed password for a", "3.3.3.3", 140 * kSec, 10);
  ev("Accepted password for a", "3.3.3.3", 141 * kSec, 11);
  EXPECT_EQ(alerts.size(), 1u);
  ev("Failed password for a", "3.3.3.3", 142 * kSec, 12);  // 100, 140, 142: three within 2m
  ev("Accepted password for a", "3.3.3.3", 143 * kSec, 13);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[1].evidence_seqs, (std::vector<std::uint64_t>{9, 10, 12, 13}));
}

TEST(CorrelationTest, SequenceCountOnALaterStep) {
  Engine e(MustLoad(R"(
id: two-after-one
title: Two B after an A
severity: low
selections:
  a: {message: A}
  b: {message: B}
correlation: {type: sequence, steps: [a, {selection: b, count: 2}], window: 1m}
)"));
  std::vector<Alert> alerts;
  auto ev = [&](const std::string& msg, std::int64_t t, std::uint64_t s) {
    e.Process(Syslog("x", msg, t, s), &alerts);
  };
  ev("B", 0, 1);
  ev("A", 1 * kSec, 2);
  ev("B", 2 * kSec, 3);
  EXPECT_TRUE(alerts.empty());
  ev("B", 3 * kSec, 4);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].evidence_seqs, (std::vector<std::uint64_t>{2, 3, 4}));
}

TEST(CorrelationTest, SequenceStepErrors) {
  auto r = Load(R"(
id: bad
title: Bad
severity: low
selections: {a: {message: A}, b: {message: B}}
correlation: {type: sequence, steps: [{selection: a, count: 0}, b], window: 1m}
)");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.Format().find("a step's 'count' must be a positive integer"), std::string::npos)
      << r.Format();
  auto r2 = Load(R"(
id: bad2
title: Bad
severity: low
selections: {a: {message: A}, b: {message: B}}
correlation: {type: sequence, steps: [{selection: a, times: 2}, b], window: 1m}
)");
  EXPECT_NE(r2.Format().find("unknown key 'times' in a sequence step"), std::string::npos)
      << r2.Format();
}

TEST(CorrelationTest, GroupByANamedCapture) {
  Engine e(MustLoad(R"(
id: failures-per-user
title: Failures per user
severity: medium
match:
  - message: 're:^Failed password for (?P<user>\S+)'
  - message: 're:^authentication failure for (?P<user>\S+)'
  - message: {startswith: 'lockout'}
correlation: {type: threshold, count: 2, window: 1m, group_by: [user]}
)"));
  std::vector<Alert> alerts;
  auto ev = [&](const std::string& msg, std::int64_t t, std::uint64_t s,
                std::vector<Field> fields = {}) {
    e.Process(Syslog("sshd", msg, t, s, std::move(fields)), &alerts);
  };
  ev("Failed password for alice", 0, 1);
  ev("Failed password for bob", 1 * kSec, 2);
  EXPECT_TRUE(alerts.empty());
  ev("authentication failure for alice", 2 * kSec, 3);  // the other pattern, the same name
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].group_key, "user=alice");
  EXPECT_EQ(alerts[0].evidence_seqs, (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(std::count_if(alerts[0].fields.begin(), alerts[0].fields.end(),
                          [](const Field& f) { return f.key == "user"; }),
            1);
  // No capture in the match: the event field `user` groups.
  ev("lockout", 3 * kSec, 4, {{"user", "bob"}});
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[1].group_key, "user=bob");
}

TEST(CorrelationTest, LateEventsAreNotCounted) {
  EngineOptions opt;
  opt.allowed_lateness_ns = 5 * kSec;
  Engine e(MustLoad(kBruteForce), opt);
  std::vector<Alert> alerts;
  e.Process(Failed("1.1.1.1", 100 * kSec, 1), &alerts);
  e.Process(Failed("1.1.1.1", 90 * kSec, 2), &alerts);  // 10 s late: dropped
  e.Process(Failed("1.1.1.1", 97 * kSec, 3), &alerts);  // 3 s late: counted
  EXPECT_TRUE(alerts.empty());
  EXPECT_EQ(e.Stats()[0].late_events, 1u);
  e.Process(Failed("1.1.1.1", 101 * kSec, 4), &alerts);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].evidence_seqs, (std::vector<std::uint64_t>{1, 3, 4}));
}

TEST(CorrelationTest, GroupsAreBoundedPerRuleWithLruEvictionAndIsolated) {
  EngineOptions opt;
  opt.max_groups_per_rule = 10;
  Engine e(MustLoad(std::string(kBruteForce) + R"(
---
id: other
title: Other
severity: low
logsource: {app: sshd}
match: {message: {contains: 'Failed'}}
correlation: {type: threshold, count: 2, window: 1m, group_by: [host]}
)"),
           opt);
  std::vector<Alert> alerts;
  // A keeps being touched; 100 other addresses churn through the table.
  std::uint64_t seq = 0;
  e.Process(Failed("10.0.0.1", 0, ++seq), &alerts);
  for (int i = 0; i < 100; ++i) {
    e.Process(Failed("192.0.2." + std::to_string(i), 1 * kSec, ++seq), &alerts);
    if (i % 5 == 0) e.Process(Failed("10.0.0.1", 1 * kSec, ++seq), &alerts);
  }
  auto stats = e.Stats();
  int brute = e.rules().Find("ssh-brute");
  int other = e.rules().Find("other");
  ASSERT_GE(brute, 0);
  EXPECT_LE(stats[brute].state_groups, 10u);
  EXPECT_GT(stats[brute].evictions, 80u);
  // The other rule keeps its single group and fires on its own schedule.
  EXPECT_EQ(stats[other].evictions, 0u);
  EXPECT_LE(stats[other].state_groups, 1u);
  bool brute_fired_for_a = false;
  for (auto& a : alerts)
    brute_fired_for_a |= a.rule_id == "ssh-brute" && a.group_key == "source.ip=10.0.0.1";
  EXPECT_TRUE(brute_fired_for_a);  // the hot key survived eviction
}

TEST(CorrelationTest, ReloadKeepsStateOfUnchangedRules) {
  const std::string changed = R"(
---
id: spray
title: Spray
severity: low
logsource: {app: sshd}
match: {message: {contains: Failed}}
correlation: {type: threshold, count: 3, window: 1m}
)";
  Engine e(MustLoad(std::string(kBruteForce) + changed));
  std::vector<Alert> alerts;
  e.Process(Failed("1.1.1.1", 0, 1), &alerts);
  e.Process(Failed("1.1.1.1", 1 * kSec, 2), &alerts);
  EXPECT_TRUE(alerts.empty());
  // Reload: brute force unchanged (but moved after another rule), spray changed (count 3 -> 4).
  std::string spray2 = changed;
  spray2.replace(spray2.find("count: 3"), 8, "count: 4");
  auto next = MustLoad(spray2 + "\n---\n" + kBruteForce);
  e.Reload(next);
  e.Process(Failed("1.1.1.1", 2 * kSec, 3), &alerts);
  ASSERT_EQ(alerts.size(), 1u);  // brute force completes with its old state; spray restarted
  EXPECT_EQ(alerts[0].rule_id, "ssh-brute");
  EXPECT_EQ(alerts[0].evidence_seqs, (std::vector<std::uint64_t>{1, 2, 3}));
  auto stats = e.Stats();
  EXPECT_EQ(stats[e.rules().Find("ssh-brute")].matches, 3u);
  EXPECT_EQ(stats[e.rules().Find("spray")].matches, 1u);
}

TEST(CorrelationTest, EvidenceIsBounded) {
  EngineOptions opt;
  opt.max_evidence = 5;
  Engine e(MustLoad(R"(
id: many
title: Many
severity: low
match: {app: x}
correlation: {type: threshold, count: 50, window: 1h}
)"),
           opt);
  std::vector<Alert> alerts;
  for (int i = 1; i <= 50; ++i) e.Process(Syslog("x", "", i * kSec, i), &alerts);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].evidence_seqs, (std::vector<std::uint64_t>{46, 47, 48, 49, 50}));
}

}  // namespace
}  // namespace mamori::rules
