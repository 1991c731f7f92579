// The CSIRT workflow on incidents: state moves (valid and invalid), owner, notes, the timeline
// and its bound, reopening, deduplication after resolve, persistence, metrics, and alert updates
// racing with state changes.
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "mamori/incidents/incident_store.h"
#include "mamori/incidents/manager.h"

namespace mamori::incidents {
namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;
constexpr std::int64_t kSecond = 1'000'000'000;
using S = IncidentStatus;

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "mamori-lifecycle-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Reopen();
  }
  void TearDown() override {
    manager_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Reopen(std::int64_t reopen_window_ns = 0) {
    manager_.reset();
    store_.reset();
    registry_ = std::make_unique<prometheus::Registry>();
    IncidentStoreOptions o;
    o.dir = dir_ + "/incidents";
    auto s = IncidentStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    ManagerOptions mo;
    mo.reopen_window_ns = reopen_window_ns;
    auto m = IncidentManager::Create(*store_, clock_, *registry_, mo);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    manager_ = std::move(m).value();
  }

  static Alert MakeAlert(std::string rule, std::string key, std::uint64_t seq,
                         Severity sev = Severity::kHigh) {
    Alert a;
    a.rule_id = std::move(rule);
    a.title = "t";
    a.severity = sev;
    a.group_key = std::move(key);
    a.event_time_ns = kT0;
    a.evidence_seqs = {seq};
    a.summary = "alert " + std::to_string(seq);
    return a;
  }

  ApplyResult Apply(std::vector<Alert> alerts) {
    auto r = manager_->OnAlerts(alerts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ApplyResult{};
  }

  Incident Get(std::uint64_t id) {
    auto g = store_->Get(id);
    EXPECT_TRUE(g.ok() && g->has_value());
    return g.ok() && g->has_value() ? **g : Incident{};
  }

  ChangeResult Do(std::uint64_t id, Action a, const std::string& actor = "alice") {
    return manager_->Change(id, a, actor);
  }

  double Metric(const std::string& name, const std::string& severity) {
    for (const auto& fam : registry_->Collect()) {
      if (fam.name != name) continue;
      for (const auto& m : fam.metric) {
        for (const auto& l : m.label) {
          if (l.name != "severity" || l.value != severity) continue;
          if (fam.type == prometheus::MetricType::Histogram) {
            return static_cast<double>(m.histogram.sample_count);
          }
          return fam.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
        }
      }
    }
    return -1;
  }

  std::string dir_;
  FakeClock clock_{kT0 + 3600 * kSecond};
  std::unique_ptr<prometheus::Registry> registry_;
  std::unique_ptr<IncidentStore> store_;
  std::unique_ptr<IncidentManager> manager_;
};

TEST(TransitionTest, Table) {
  IncidentStatus to;
  EXPECT_TRUE(Transition(S::kNew, Action::kAcknowledge, &to));
  EXPECT_EQ(to, S::kAcknowledged);
  EXPECT_TRUE(Transition(S::kAcknowledged, Action::kStart, &to));
  EXPECT_EQ(to, S::kInProgress);
  EXPECT_TRUE(Transition(S::kInProgress, Action::kResolve, &to));
  EXPECT_EQ(to, S::kResolved);
  EXPECT_TRUE(Transition(S::kResolved, Action::kClose, &to));
  EXPECT_EQ(to, S::kClosed);
  EXPECT_TRUE(Transition(S::kClosed, Action::kReopen, &to));
  EXPECT_EQ(to, S::kReopened);
  EXPECT_TRUE(Transition(S::kResolved, Action::kReopen, &to));
  EXPECT_TRUE(Transition(S::kReopened, Action::kAcknowledge, &to));
  EXPECT_TRUE(Transition(S::kNew, Action::kClose, &to));  // a false positive
  EXPECT_TRUE(Transition(S::kNew, Action::kResolve, &to));

  EXPECT_FALSE(Transition(S::kAcknowledged, Action::kAcknowledge, &to));
  EXPECT_FALSE(Transition(S::kInProgress, Action::kAcknowledge, &to));
  EXPECT_FALSE(Transition(S::kInProgress, Action::kStart, &to));
  EXPECT_FALSE(Transition(S::kResolved, Action::kResolve, &to));
  EXPECT_FALSE(Transition(S::kClosed, Action::kClose, &to));
  EXPECT_FALSE(Transition(S::kClosed, Action::kResolve, &to));
  EXPECT_FALSE(Transition(S::kNew, Action::kReopen, &to));
  EXPECT_FALSE(Transition(S::kReopened, Action::kReopen, &to));
  EXPECT_FALSE(Transition(S::kResolved, Action::kStart, &to));

  Action a;
  EXPECT_TRUE(ParseAction("acknowledge", &a));
  EXPECT_EQ(a, Action::kAcknowledge);
  EXPECT_FALSE(ParseAction("ack", &a));
}

TEST_F(LifecycleTest, FullLifecycleAndTimeline) {
  Apply({MakeAlert("r", "k=a", 1)});
  clock_.Advance(90 * kSecond);
  ChangeResult r = Do(1, Action::kAcknowledge);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.incident.status, S::kAcknowledged);
  EXPECT_EQ(r.incident.acknowledged_ns, clock_.NowNs());
  ASSERT_TRUE(manager_->Assign(1, "bob", "alice").ok());
  ASSERT_TRUE(manager_->AddNote(1, "blocked at the firewall", "bob").ok());
  ASSERT_TRUE(Do(1, Action::kStart, "bob").ok());
  ASSERT_TRUE(Do(1, Action::kResolve, "bob").ok());
  ASSERT_TRUE(Do(1, Action::kClose, "carol").ok());

  Incident inc = Get(1);
  EXPECT_EQ(inc.status, S::kClosed);
  EXPECT_EQ(inc.owner, "bob");
  EXPECT_EQ(inc.resolved_ns, clock_.NowNs());
  ASSERT_EQ(inc.timeline.size(), 7u);
  EXPECT_EQ(inc.timeline[0].kind, TimelineKind::kCreated);
  EXPECT_EQ(inc.timeline[0].actor, "mamori");
  EXPECT_EQ(inc.timeline[1].kind, TimelineKind::kState);
  EXPECT_EQ(inc.timeline[1].from, S::kNew);
  EXPECT_EQ(inc.timeline[1].to, S::kAcknowledged);
  EXPECT_EQ(inc.timeline[1].actor, "alice");
  EXPECT_EQ(inc.timeline[2].kind, TimelineKind::kAssign);
  EXPECT_EQ(inc.timeline[2].text, "bob");
  EXPECT_EQ(inc.timeline[3].kind, TimelineKind::kNote);
  EXPECT_EQ(inc.timeline[3].text, "blocked at the firewall");
  EXPECT_EQ(inc.timeline[3].actor, "bob");
  EXPECT_EQ(inc.timeline[6].to, S::kClosed);
  EXPECT_EQ(inc.timeline[6].actor, "carol");

  // The JSON form carries the timeline.
  nlohmann::json j = IncidentToJson(inc);
  EXPECT_EQ(j["owner"], "bob");
  EXPECT_EQ(j["timeline"][1]["from"], "new");
  EXPECT_EQ(j["timeline"][1]["to"], "acknowledged");
  EXPECT_EQ(j["timeline"][3]["kind"], "note");
  EXPECT_FALSE(j["acknowledged"].is_null());

  // Metrics: no longer open; the acknowledgement took 90 s.
  EXPECT_EQ(Metric("mamori_incidents_open", "high"), 0);
  EXPECT_EQ(Metric("mamori_incidents_time_to_acknowledge_seconds", "high"), 1);
  EXPECT_EQ(Metric("mamori_incidents_unacknowledged_oldest_timestamp_seconds", "high"), 0);
}

TEST_F(LifecycleTest, InvalidTransitionsAreConflicts) {
  Apply({MakeAlert("r", "k=a", 1)});
  ChangeResult r = Do(1, Action::kReopen);
  EXPECT_EQ(r.error, ChangeError::kConflict);
  EXPECT_EQ(r.http_status(), 409);
  EXPECT_NE(r.message.find("is new"), std::string::npos) << r.message;
  ASSERT_TRUE(Do(1, Action::kAcknowledge).ok());
  EXPECT_EQ(Do(1, Action::kAcknowledge).error, ChangeError::kConflict);
  EXPECT_EQ(Do(99, Action::kAcknowledge).error, ChangeError::kNotFound);
  EXPECT_EQ(Do(1, Action::kStart, "").error, ChangeError::kInvalid);
  EXPECT_EQ(manager_->AddNote(1, "", "alice").error, ChangeError::kInvalid);
  EXPECT_EQ(manager_->Assign(1, "a\nb", "alice").error, ChangeError::kInvalid);
  EXPECT_EQ(manager_->AddNote(99, "x", "alice").error, ChangeError::kNotFound);
  // Refused changes leave no trace.
  EXPECT_EQ(Get(1).timeline.size(), 2u);
  EXPECT_EQ(Get(1).status, S::kAcknowledged);
}

TEST_F(LifecycleTest, AlertAfterResolveOpensNewIncident) {
  Apply({MakeAlert("r", "k=a", 1)});
  ASSERT_TRUE(Do(1, Action::kResolve).ok());
  ApplyResult r = Apply({MakeAlert("r", "k=a", 2)});
  EXPECT_EQ(r.opened, std::vector<std::uint64_t>({2}));
  EXPECT_EQ(Get(1).count, 1u);
  // Reopening 1 while 2 is open for the same key is refused.
  ChangeResult re = Do(1, Action::kReopen);
  EXPECT_EQ(re.error, ChangeError::kConflict);
  EXPECT_NE(re.message.find("incident 2"), std::string::npos) << re.message;
  // Once 2 is closed, 1 can be reopened, and then it is joined again (it behaves like new).
  ASSERT_TRUE(Do(2, Action::kClose).ok());
  ASSERT_TRUE(Do(1, Action::kReopen).ok());
  EXPECT_EQ(Metric("mamori_incidents_open", "high"), 1);
  r = Apply({MakeAlert("r", "k=a", 3)});
  EXPECT_EQ(r.joined, std::vector<std::uint64_t>({1}));
  Incident one = Get(1);
  EXPECT_EQ(one.status, S::kReopened);
  EXPECT_EQ(one.count, 2u);
  EXPECT_EQ(one.evidence_seqs, std::vector<std::uint64_t>({1, 3}));
  EXPECT_TRUE(Do(1, Action::kAcknowledge).ok());
}

TEST_F(LifecycleTest, ReopenWindowReopensResolvedIncident) {
  Reopen(/*reopen_window_ns=*/600 * kSecond);
  Apply({MakeAlert("r", "k=a", 1)});
  ASSERT_TRUE(Do(1, Action::kResolve).ok());
  clock_.Advance(60 * kSecond);
  ApplyResult r = Apply({MakeAlert("r", "k=a", 2)});
  EXPECT_EQ(r.joined, std::vector<std::uint64_t>({1}));
  Incident one = Get(1);
  EXPECT_EQ(one.status, S::kReopened);
  EXPECT_EQ(one.timeline.back().kind, TimelineKind::kAlert);
  EXPECT_EQ(one.timeline[one.timeline.size() - 2].to, S::kReopened);
  EXPECT_EQ(one.timeline[one.timeline.size() - 2].actor, "mamori");
  EXPECT_EQ(Metric("mamori_incidents_open", "high"), 1);
  // Resolved again; after a restart (the index is rebuilt) and past the window: a new incident.
  ASSERT_TRUE(Do(1, Action::kResolve).ok());
  Reopen(600 * kSecond);
  clock_.Advance(30 * kSecond);
  EXPECT_EQ(Apply({MakeAlert("r", "k=a", 3)}).joined, std::vector<std::uint64_t>({1}));
  ASSERT_TRUE(Do(1, Action::kResolve).ok());
  clock_.Advance(601 * kSecond);
  EXPECT_EQ(Apply({MakeAlert("r", "k=a", 4)}).opened, std::vector<std::uint64_t>({2}));
  // A closed incident is never reopened by an alert.
  ASSERT_TRUE(Do(2, Action::kClose).ok());
  EXPECT_EQ(Apply({MakeAlert("r", "k=a", 5)}).opened, std::vector<std::uint64_t>({3}));
}

TEST_F(LifecycleTest, TimelineAggregatesAlertsAndStaysBounded) {
  Apply({MakeAlert("r", "", 1)});
  for (std::uint64_t i = 2; i <= 4; ++i) Apply({MakeAlert("r", "", i)});
  Incident inc = Get(1);
  ASSERT_EQ(inc.timeline.size(), 2u);  // created + one aggregated alert entry
  EXPECT_EQ(inc.timeline[1].kind, TimelineKind::kAlert);
  EXPECT_EQ(inc.timeline[1].count, 3u);
  EXPECT_EQ(inc.timeline[1].text, "alert 4");
  // Alternate notes and alerts far past the bound: notes are all kept, alert entries dropped.
  const std::size_t notes = Incident::kMaxTimeline;
  for (std::size_t i = 0; i < notes; ++i) {
    ASSERT_TRUE(manager_->AddNote(1, "n" + std::to_string(i), "alice").ok());
    Apply({MakeAlert("r", "", 10 + i)});
  }
  inc = Get(1);
  std::size_t kept_notes = 0;
  for (const auto& e : inc.timeline) kept_notes += e.kind == TimelineKind::kNote;
  EXPECT_EQ(kept_notes, notes);
  EXPECT_LE(inc.timeline.size(), Incident::kMaxTimeline + 1);
  EXPECT_EQ(inc.timeline.front().kind, TimelineKind::kCreated);
  EXPECT_EQ(inc.count, 4u + notes);
}

TEST_F(LifecycleTest, StatePersistsAcrossRestart) {
  Apply({MakeAlert("r", "k=a", 1, Severity::kLow), MakeAlert("r", "k=b", 2, Severity::kLow)});
  ASSERT_TRUE(Do(1, Action::kAcknowledge).ok());
  ASSERT_TRUE(manager_->Assign(1, "bob", "alice").ok());
  ASSERT_TRUE(Do(2, Action::kResolve).ok());
  Reopen();
  Incident one = Get(1);
  EXPECT_EQ(one.status, S::kAcknowledged);
  EXPECT_EQ(one.owner, "bob");
  EXPECT_EQ(one.timeline.size(), 3u);
  EXPECT_EQ(Get(2).status, S::kResolved);
  EXPECT_EQ(manager_->open_count(), 1u);
  EXPECT_EQ(Metric("mamori_incidents_open", "low"), 1);
  EXPECT_EQ(Metric("mamori_incidents_unacknowledged_oldest_timestamp_seconds", "low"), 0);
  // Still joined after the restart; the resolved one is not.
  EXPECT_EQ(Apply({MakeAlert("r", "k=a", 3, Severity::kLow)}).joined,
            std::vector<std::uint64_t>({1}));
  EXPECT_EQ(Apply({MakeAlert("r", "k=b", 4, Severity::kLow)}).opened,
            std::vector<std::uint64_t>({3}));
}

TEST_F(LifecycleTest, UnacknowledgedOldestAndOpenGauges) {
  Apply({MakeAlert("r", "k=a", 1, Severity::kMedium)});
  const double t1 = static_cast<double>(clock_.NowNs()) / 1e9;
  clock_.Advance(10 * kSecond);
  Apply({MakeAlert("r", "k=b", 2, Severity::kMedium)});
  const double t2 = static_cast<double>(clock_.NowNs()) / 1e9;
  EXPECT_DOUBLE_EQ(Metric("mamori_incidents_unacknowledged_oldest_timestamp_seconds", "medium"),
                   t1);
  ASSERT_TRUE(Do(1, Action::kStart).ok());  // start counts as the acknowledgement
  EXPECT_DOUBLE_EQ(Metric("mamori_incidents_unacknowledged_oldest_timestamp_seconds", "medium"),
                   t2);
  EXPECT_EQ(Metric("mamori_incidents_time_to_acknowledge_seconds", "medium"), 1);
  EXPECT_EQ(Metric("mamori_incidents_open", "medium"), 2);
  ASSERT_TRUE(Do(2, Action::kClose).ok());
  EXPECT_EQ(Metric("mamori_incidents_unacknowledged_oldest_timestamp_seconds", "medium"), 0);
  EXPECT_EQ(Metric("mamori_incidents_open", "medium"), 1);
  EXPECT_EQ(Metric("mamori_incidents_time_to_acknowledge_seconds", "medium"), 2);
  // A severity raise by a joining alert moves the open count.
  Apply({MakeAlert("r", "k=a", 3, Severity::kCritical)});
  EXPECT_EQ(Metric("mamori_incidents_open", "medium"), 0);
  EXPECT_EQ(Metric("mamori_incidents_open", "critical"), 1);
  ASSERT_TRUE(Do(1, Action::kResolve).ok());
  EXPECT_EQ(Metric("mamori_incidents_open", "critical"), 0);
  ASSERT_TRUE(Do(1, Action::kReopen).ok());
  EXPECT_EQ(Metric("mamori_incidents_open", "critical"), 1);
  EXPECT_GT(Metric("mamori_incidents_unacknowledged_oldest_timestamp_seconds", "critical"), 0);
}

TEST_F(LifecycleTest, AlertsRaceWithStateChangesAndNotes) {
  Apply({MakeAlert("r", "k=a", 1)});
  constexpr int kAlerts = 300, kNotes = 100;
  std::thread writer([&] {
    for (int i = 0; i < kAlerts; ++i) {
      auto r = manager_->OnAlerts({MakeAlert("r", "k=a", 100 + i)});
      ASSERT_TRUE(r.ok());
    }
  });
  std::thread people([&] {
    ASSERT_TRUE(Do(1, Action::kAcknowledge).ok());
    for (int i = 0; i < kNotes; ++i) {
      ASSERT_TRUE(manager_->AddNote(1, "note " + std::to_string(i), "alice").ok());
    }
    ASSERT_TRUE(Do(1, Action::kStart).ok());
  });
  writer.join();
  people.join();
  Incident inc = Get(1);
  // Nothing lost: every alert counted, every note and state change kept.
  EXPECT_EQ(inc.count, 1u + kAlerts);
  EXPECT_EQ(inc.status, S::kInProgress);
  std::size_t notes = 0, states = 0;
  std::uint64_t alerts = 0;
  for (const auto& e : inc.timeline) {
    notes += e.kind == TimelineKind::kNote;
    states += e.kind == TimelineKind::kState;
    if (e.kind == TimelineKind::kAlert) alerts += e.count;
  }
  EXPECT_EQ(notes, static_cast<std::size_t>(kNotes));
  EXPECT_EQ(states, 2u);
  EXPECT_EQ(alerts, static_cast<std::uint64_t>(kAlerts));
  EXPECT_EQ(inc.evidence_seqs.size(), 1u + kAlerts);
  EXPECT_EQ(manager_->open_count(), 1u);
}

TEST(ListOptionsLifecycleTest, SeverityRuleCursor) {
  auto o = ListOptionsFromParams({{"severity", "high"}, {"rule", "r1"}, {"cursor", "7"}});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->severity, Severity::kHigh);
  EXPECT_EQ(o->rule_id, "r1");
  EXPECT_EQ(o->before_id, 7u);
  EXPECT_NE(ListOptionsFromParams({{"severity", "urgent"}}).status().message().find("severity"),
            std::string::npos);
  EXPECT_FALSE(ListOptionsFromParams({{"before", "1"}, {"cursor", "2"}}).ok());
}

TEST(IncidentCodecTest, TimelineRoundTrips) {
  Incident inc;
  inc.id = 3;
  inc.owner = "bob";
  inc.acknowledged_ns = 5;
  inc.resolved_ns = 6;
  inc.timeline.push_back(
      TimelineEntry{1, "mamori", TimelineKind::kCreated, S::kNew, S::kNew, "opened", 1});
  inc.timeline.push_back(
      TimelineEntry{2, "mamori", TimelineKind::kAlert, S::kNew, S::kNew, "x", 4});
  inc.timeline.push_back(
      TimelineEntry{3, "alice", TimelineKind::kState, S::kNew, S::kAcknowledged, "", 1});
  auto back = DecodeIncident(EncodeIncident(inc));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->owner, "bob");
  EXPECT_EQ(back->acknowledged_ns, 5);
  EXPECT_EQ(back->resolved_ns, 6);
  ASSERT_EQ(back->timeline.size(), 3u);
  EXPECT_EQ(back->timeline[1].count, 4u);
  EXPECT_EQ(back->timeline[2].to, S::kAcknowledged);
  EXPECT_EQ(back->timeline[2].actor, "alice");
  // A version-1 record written before the workflow existed still decodes.
  auto old = DecodeIncident(R"({"v":1,"id":1,"status":"new","severity":"low"})");
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->timeline.empty());
  EXPECT_EQ(old->owner, "");
}

}  // namespace
}  // namespace mamori::incidents
