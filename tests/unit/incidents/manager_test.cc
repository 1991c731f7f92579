#include "mamori/incidents/manager.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <stdlib.h>

#include <filesystem>

#include "mamori/incidents/incident_store.h"

namespace mamori::incidents {
namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;
constexpr std::int64_t kSecond = 1'000'000'000;

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "mamori-incidents-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Reopen();
  }
  void TearDown() override {
    manager_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Closes and reopens the store and the manager (a daemon restart).
  void Reopen() {
    manager_.reset();
    store_.reset();
    registry_ = std::make_unique<prometheus::Registry>();
    IncidentStoreOptions o;
    o.dir = dir_ + "/incidents";
    auto s = IncidentStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    ManagerOptions mo;
    mo.max_evidence = 5;
    auto m = IncidentManager::Create(*store_, clock_, *registry_, mo);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    manager_ = std::move(m).value();
  }

  static Alert MakeAlert(std::string rule, std::string key, std::vector<std::uint64_t> seqs,
                         std::int64_t t, Severity sev = Severity::kHigh) {
    Alert a;
    a.rule_id = std::move(rule);
    a.title = "title of " + a.rule_id;
    a.severity = sev;
    a.tags = {"policy.6.6"};
    a.group_key = std::move(key);
    a.event_time_ns = t;
    a.evidence_seqs = std::move(seqs);
    a.summary = "summary at " + std::to_string(t);
    return a;
  }

  ApplyResult Apply(std::vector<Alert> alerts) {
    auto r = manager_->OnAlerts(alerts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ApplyResult{};
  }

  std::vector<Incident> List(ListOptions o = {}) {
    auto l = store_->List(o);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? *l : std::vector<Incident>{};
  }

  double Metric(const std::string& name, const std::string& severity = "") {
    for (const auto& fam : registry_->Collect()) {
      if (fam.name != name) continue;
      for (const auto& m : fam.metric) {
        bool ok = severity.empty();
        for (const auto& l : m.label) ok = ok || (l.name == "severity" && l.value == severity);
        if (!ok) continue;
        return fam.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
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

TEST_F(ManagerTest, AlertOpensIncident) {
  ApplyResult r = Apply({MakeAlert("ssh-brute-force", "source.ip=203.0.113.7", {3, 4}, kT0)});
  ASSERT_EQ(r.opened, std::vector<std::uint64_t>({1}));
  auto all = List();
  ASSERT_EQ(all.size(), 1u);
  const Incident& inc = all[0];
  EXPECT_EQ(inc.id, 1u);
  EXPECT_EQ(inc.status, IncidentStatus::kNew);
  EXPECT_EQ(inc.rule_id, "ssh-brute-force");
  EXPECT_EQ(inc.title, "title of ssh-brute-force");
  EXPECT_EQ(inc.group_key, "source.ip=203.0.113.7");
  EXPECT_EQ(inc.severity, Severity::kHigh);
  EXPECT_EQ(inc.first_seen_ns, kT0);
  EXPECT_EQ(inc.last_seen_ns, kT0);
  EXPECT_EQ(inc.created_ns, clock_.NowNs());
  EXPECT_EQ(inc.count, 1u);
  EXPECT_EQ(inc.evidence_seqs, std::vector<std::uint64_t>({3, 4}));
  EXPECT_EQ(inc.evidence_count, 2u);
  EXPECT_EQ(inc.tags, std::vector<std::string>({"policy.6.6"}));
  EXPECT_EQ(Metric("mamori_incidents_opened_total", "high"), 1);
  EXPECT_EQ(Metric("mamori_incidents_open", "high"), 1);
  EXPECT_EQ(Metric("mamori_incidents_open", "low"), 0);
  EXPECT_EQ(manager_->open_count(), 1u);
}

TEST_F(ManagerTest, SameRuleAndKeyJoins) {
  Apply({MakeAlert("r1", "k=a", {1}, kT0, Severity::kMedium)});
  clock_.Advance(kSecond);
  ApplyResult r = Apply({MakeAlert("r1", "k=a", {2, 1}, kT0 + 10 * kSecond, Severity::kCritical)});
  EXPECT_TRUE(r.opened.empty());
  EXPECT_EQ(r.joined, std::vector<std::uint64_t>({1}));
  auto all = List();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].count, 2u);
  EXPECT_EQ(all[0].evidence_seqs, std::vector<std::uint64_t>({1, 2}));  // no repeats
  EXPECT_EQ(all[0].last_seen_ns, kT0 + 10 * kSecond);
  EXPECT_EQ(all[0].first_seen_ns, kT0);
  EXPECT_EQ(all[0].severity, Severity::kCritical);  // the highest
  EXPECT_EQ(all[0].updated_ns, clock_.NowNs());
  EXPECT_EQ(all[0].summary, "summary at " + std::to_string(kT0));
  EXPECT_EQ(all[0].last_summary, "summary at " + std::to_string(kT0 + 10 * kSecond));
  // The gauge follows the severity change.
  EXPECT_EQ(Metric("mamori_incidents_open", "medium"), 0);
  EXPECT_EQ(Metric("mamori_incidents_open", "critical"), 1);
  EXPECT_EQ(Metric("mamori_incidents_opened_total", "medium"), 1);
  EXPECT_EQ(Metric("mamori_incidents_alerts_total"), 2);
}

TEST_F(ManagerTest, DifferentKeysOrRulesAreSeparate) {
  ApplyResult r = Apply({MakeAlert("r1", "k=a", {1}, kT0), MakeAlert("r1", "k=b", {2}, kT0),
                         MakeAlert("r2", "k=a", {3}, kT0), MakeAlert("r1", "k=a", {4}, kT0)});
  EXPECT_EQ(r.opened, std::vector<std::uint64_t>({1, 2, 3}));
  auto all = List();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, 3u);  // newest first
  EXPECT_EQ(all[2].count, 2u);
  EXPECT_EQ(all[2].evidence_seqs, std::vector<std::uint64_t>({1, 4}));
  EXPECT_EQ(store_->next_id(), 4u);
}

TEST_F(ManagerTest, EvidenceIsBoundedAndCounted) {
  Apply({MakeAlert("r", "", {1, 2, 3}, kT0)});
  Apply({MakeAlert("r", "", {3, 4, 5, 6, 7}, kT0)});
  Apply({MakeAlert("r", "", {7, 8}, kT0)});
  auto all = List();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].evidence_seqs, std::vector<std::uint64_t>({1, 2, 3, 4, 5}));
  EXPECT_EQ(all[0].evidence_count, 8u);
}

TEST_F(ManagerTest, PersistsAcrossReopen) {
  Apply({MakeAlert("r1", "k=a", {1}, kT0), MakeAlert("r2", "", {2}, kT0, Severity::kLow)});
  Reopen();
  EXPECT_EQ(manager_->open_count(), 2u);
  EXPECT_EQ(Metric("mamori_incidents_open", "low"), 1);
  EXPECT_EQ(Metric("mamori_incidents_open", "high"), 1);
  // After the restart the same key still joins, and ids continue.
  ApplyResult r = Apply({MakeAlert("r1", "k=a", {5}, kT0), MakeAlert("r3", "", {6}, kT0)});
  EXPECT_EQ(r.joined, std::vector<std::uint64_t>({1}));
  EXPECT_EQ(r.opened, std::vector<std::uint64_t>({3}));
  auto one = store_->Get(1);
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->count, 2u);
  EXPECT_EQ((*one)->evidence_seqs, std::vector<std::uint64_t>({1, 5}));
}

TEST_F(ManagerTest, ClosedIncidentIsNotJoined) {
  Apply({MakeAlert("r1", "k=a", {1}, kT0)});
  // Another tool closes it (the CSIRT workflow, issue 6): the next alert opens a new one.
  auto inc = store_->Get(1);
  ASSERT_TRUE(inc.ok() && inc->has_value());
  Incident closed = **inc;
  closed.status = IncidentStatus::kClosed;
  ASSERT_TRUE(store_->Write({&closed}, store_->next_id()).ok());
  ApplyResult r = Apply({MakeAlert("r1", "k=a", {2}, kT0)});
  EXPECT_EQ(r.opened, std::vector<std::uint64_t>({2}));
}

TEST_F(ManagerTest, ListFiltersAndPages) {
  for (int i = 0; i < 5; ++i) Apply({MakeAlert("r", "k=" + std::to_string(i), {1}, kT0)});
  ListOptions o;
  o.limit = 2;
  auto page = List(o);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, 5u);
  o.before_id = page[1].id;
  page = List(o);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, 3u);
  EXPECT_EQ(page[1].id, 2u);
  ListOptions closed;
  closed.status = IncidentStatus::kClosed;
  EXPECT_TRUE(List(closed).empty());
  ListOptions fresh;
  fresh.status = IncidentStatus::kNew;
  EXPECT_EQ(List(fresh).size(), 5u);
}

TEST_F(ManagerTest, ReadOnlyOpenSeesWhatTheWriterWrote) {
  Apply({MakeAlert("r1", "k=a", {1}, kT0)});
  IncidentStoreOptions o;
  o.dir = dir_ + "/incidents";
  o.read_only = true;
  auto ro = IncidentStore::Open(o);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  auto l = (*ro)->List({});
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].rule_id, "r1");
  o.dir = dir_ + "/nothing-here";
  EXPECT_EQ(IncidentStore::Open(o).status().code(), Status::Code::kNotFound);
}

TEST(ListOptionsTest, FromParams) {
  auto o = ListOptionsFromParams({{"status", "new"}, {"limit", "5"}, {"before", "9"}});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->status, IncidentStatus::kNew);
  EXPECT_EQ(o->limit, 5u);
  EXPECT_EQ(o->before_id, 9u);
  EXPECT_NE(ListOptionsFromParams({{"status", "open"}}).status().message().find("status:"),
            std::string::npos);
  EXPECT_FALSE(ListOptionsFromParams({{"limit", "0"}}).ok());
  EXPECT_FALSE(ListOptionsFromParams({{"limit", "1"}, {"limit", "2"}}).ok());
  EXPECT_FALSE(ListOptionsFromParams({{"colour", "red"}}).ok());
}

}  // namespace
}  // namespace mamori::incidents
