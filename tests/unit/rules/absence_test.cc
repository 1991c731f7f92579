// Wall-time behaviour: absence rules fired by Engine::Tick, and correlation state that Tick
// expires when no events come.
#include <gtest/gtest.h>

#include "mamori/rules/engine.h"
#include "test_util.h"

namespace mamori::rules {
namespace {

using testing::kSec;
using testing::Load;
using testing::Syslog;

constexpr std::int64_t kMin = 60 * kSec;
constexpr std::int64_t kT0 = 1'800'000'000 * kSec;

std::shared_ptr<const RuleSet> MustLoad(const std::string& yaml) {
  auto r = Load(yaml);
  EXPECT_TRUE(r.ok()) << r.Format();
  EXPECT_EQ(r.rules->size(), 1u) << r.Format();
  return r.rules;
}

constexpr const char* kSilent = R"(
id: source-silent
title: Log source stopped sending
severity: medium
absence: {group_by: [host], after: 15m}
)";

Record From(const std::string& host, std::int64_t t, std::uint64_t seq) {
  Record r = Syslog("sshd", "hello", t, seq, {}, host);
  r.raw.received_ns = t;
  return r;
}

TEST(AbsenceTest, SilentGroupAlertsOnceAndAgainOnlyAfterComingBack) {
  Engine e(MustLoad(kSilent));
  EXPECT_EQ(e.rules().info(0).kind, "absence");
  std::vector<Alert> alerts;
  e.Process(From("web1", kT0, 1), &alerts);
  e.Process(From("db1", kT0, 2), &alerts);
  EXPECT_TRUE(alerts.empty());
  e.Tick(kT0 + 10 * kMin, &alerts);
  EXPECT_TRUE(alerts.empty());
  e.Process(From("db1", kT0 + 10 * kMin, 3), &alerts);  // db1 keeps talking
  e.Tick(kT0 + 15 * kMin, &alerts);                     // web1: 15 minutes of silence
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule_id, "source-silent");
  EXPECT_EQ(alerts[0].group_key, "host=web1");
  EXPECT_EQ(alerts[0].event_time_ns, kT0 + 15 * kMin);
  EXPECT_EQ(alerts[0].evidence_seqs, (std::vector<std::uint64_t>{1}));
  EXPECT_NE(alerts[0].summary.find("nothing for 15m from host=web1"), std::string::npos)
      << alerts[0].summary;
  alerts.clear();
  e.Tick(kT0 + 20 * kMin, &alerts);  // still silent: no second alert
  e.Tick(kT0 + 2 * 60 * kMin, &alerts);
  ASSERT_EQ(alerts.size(), 1u);  // db1 went silent at +10m -> fires once at the +2h tick
  EXPECT_EQ(alerts[0].group_key, "host=db1");
  alerts.clear();
  e.Process(From("web1", kT0 + 3 * 60 * kMin, 9), &alerts);  // web1 comes back...
  e.Tick(kT0 + 3 * 60 * kMin + 14 * kMin, &alerts);
  EXPECT_TRUE(alerts.empty());
  e.Tick(kT0 + 3 * 60 * kMin + 15 * kMin, &alerts);  // ...and goes silent again
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].group_key, "host=web1");
  EXPECT_EQ(e.Stats()[0].alerts, 3u);
  EXPECT_EQ(e.Stats()[0].state_groups, 0u);
}

TEST(AbsenceTest, NeverSeenNeverAlertsAndMatchRestrictsWhatCounts) {
  Engine e(MustLoad(R"(
id: sshd-silent
title: sshd stopped logging
severity: low
logsource: {app: sshd}
match: {message: {contains: session}}
correlation: {type: absence, window: 1h, group_by: [host]}
summary: '{host} quiet since {last_seen}'
)"));
  std::vector<Alert> alerts;
  e.Tick(kT0 + 10 * 60 * kMin, &alerts);  // nothing seen: nothing to miss
  Record other = Syslog("cron", "session opened", kT0, 1, {}, "h1");
  e.Process(other, &alerts);  // wrong app: does not count
  e.Process(Syslog("sshd", "session opened", kT0, 2, {}, "h2"), &alerts);
  e.Tick(kT0 + 59 * kMin, &alerts);
  EXPECT_TRUE(alerts.empty());
  e.Process(Syslog("sshd", "noise", kT0 + 30 * kMin, 3, {}, "h2"), &alerts);  // not a match
  e.Tick(kT0 + 60 * kMin, &alerts);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].summary.rfind("h2 quiet since 20", 0), 0u) << alerts[0].summary;
}

TEST(AbsenceTest, LoaderErrors) {
  auto r = Load("id: a\ntitle: A\nseverity: low\nabsence: {group_by: [host]}\n");
  EXPECT_EQ(r.errors(), 1) << r.Format();
  EXPECT_NE(r.Format().find("'after' must be a duration"), std::string::npos) << r.Format();
  r = Load("id: a\ntitle: A\nseverity: low\nabsence: {after: 5m, count: 3}\n");
  EXPECT_NE(r.Format().find("unknown key 'count' in absence"), std::string::npos) << r.Format();
  r = Load(
      "id: a\ntitle: A\nseverity: low\nmatch: {app: x}\nabsence: {after: 5m}\n"
      "correlation: {type: threshold, count: 2, window: 1m}\n");
  EXPECT_NE(r.Format().find("either 'absence' or 'correlation'"), std::string::npos) << r.Format();
}

TEST(TickTest, ExpiresCorrelationStateWithoutEvents) {
  Engine e(MustLoad(R"(
id: fails
title: Failures
severity: high
match: {message: {contains: failed}}
correlation: {type: threshold, count: 3, window: 5m, group_by: [host]}
suppress: 10m
)"));
  std::vector<Alert> alerts;
  for (int i = 0; i < 100; ++i) {
    e.Process(From("h" + std::to_string(i), kT0, static_cast<std::uint64_t>(i + 1)), &alerts);
    Record f = Syslog("sshd", "login failed", kT0, 1000 + i, {}, "h" + std::to_string(i));
    f.raw.received_ns = kT0;
    e.Process(f, &alerts);
  }
  EXPECT_EQ(e.Stats()[0].state_groups, 100u);
  e.Tick(kT0 + 2 * kMin, &alerts);
  EXPECT_EQ(e.Stats()[0].state_groups, 100u);  // still inside the window
  // Window (5m) + allowed lateness (1m) later, with no event in between: all gone.
  e.Tick(kT0 + 6 * kMin + kSec, &alerts);
  EXPECT_EQ(e.Stats()[0].state_groups, 0u);
  EXPECT_TRUE(alerts.empty());
  EXPECT_EQ(e.engine_stats().ticks, 2u);
}

TEST(TickTest, ExpiresSuppressionOfPlainRules) {
  Engine e(MustLoad(R"(
id: root-login
title: Root login
severity: high
match: {message: {contains: 'for root'}}
group_by: [host]
suppress: 10m
)"));
  std::vector<Alert> alerts;
  Record r = Syslog("sshd", "Accepted password for root", kT0, 1, {}, "h1");
  r.raw.received_ns = kT0;
  e.Process(r, &alerts);
  EXPECT_EQ(alerts.size(), 1u);
  EXPECT_EQ(e.Stats()[0].state_groups, 1u);
  e.Tick(kT0 + 12 * kMin, &alerts);
  EXPECT_EQ(e.Stats()[0].state_groups, 0u);
}

}  // namespace
}  // namespace mamori::rules
