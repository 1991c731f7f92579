// SourceTracker: address and CIDR parsing, matching by host and by network (IPv4, IPv6,
// IPv4-mapped), precedence, the metrics it sets, configuration errors, and concurrent Observe().
#include "mamori/collector/sources.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

namespace mamori::collector {
namespace {

using Labels = std::map<std::string, std::string>;

constexpr std::int64_t kNs = 1'000'000'000;

Record Rec(std::string host, std::string peer, std::int64_t received_ns = 1'780'000'000 * kNs) {
  Record r;
  r.event.host = std::move(host);
  r.raw.peer = std::move(peer);
  r.raw.received_ns = received_ns;
  return r;
}

class SourceTrackerTest : public ::testing::Test {
 protected:
  void Make(std::vector<SourceConfig> sources) {
    auto t = SourceTracker::Create(sources, registry_);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tracker_ = std::move(t).value();
  }
  std::string MatchName(const Record& r) {
    const std::string* name = tracker_->Match(r);
    return name ? *name : "<none>";
  }
  // Value of a counter or gauge; -1 when the series does not exist.
  // The sample both ways of observing are checked with: three records of web (one late), one of
  // lan, one unknown host and one unparsable peer; nothing of quiet. With tally == nullptr each
  // record is published as it is observed.
  void ObserveSample(SourceTracker::Tally* tally) {
    const Record recs[] = {Rec("web01", "127.0.0.1:1", 1'780'000'000 * kNs + 500'000'000),
                           Rec("web01", "127.0.0.1:1", 1'780'000'010 * kNs),
                           Rec("web01", "127.0.0.1:1", 1'780'000'005 * kNs),  // late
                           Rec("", "10.3.3.3:514", 1'780'000'001 * kNs),
                           Rec("nobody", "198.51.100.1:514"),
                           Rec("", "garbage")};
    for (const Record& r : recs) {
      if (tally == nullptr) {
        tracker_->Observe(r);
      } else {
        tracker_->Observe(r, tally);
      }
    }
  }
  // What the sample leaves in the metrics: the newest time of each source, not the last seen.
  void ExpectSampleMetrics() {
    EXPECT_EQ(Metric("mamori_source_events_total", {{"source", "web"}}), 3);
    EXPECT_DOUBLE_EQ(Metric("mamori_source_last_seen_timestamp_seconds", {{"source", "web"}}),
                     1'780'000'010.0);
    EXPECT_EQ(Metric("mamori_source_events_total", {{"source", "lan"}}), 1);
    EXPECT_DOUBLE_EQ(Metric("mamori_source_last_seen_timestamp_seconds", {{"source", "lan"}}),
                     1'780'000'001.0);
    EXPECT_EQ(Metric("mamori_source_events_total", {{"source", "quiet"}}), 0);
    EXPECT_EQ(Metric("mamori_source_last_seen_timestamp_seconds", {{"source", "quiet"}}), 0);
    EXPECT_EQ(Metric("mamori_source_unknown_events_total"), 2);
  }
  double Metric(const std::string& name, const Labels& labels = {}) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric) {
        Labels have;
        for (const auto& l : m.label) have[l.name] = l.value;
        if (have != labels) continue;
        return family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
      }
    }
    return -1;
  }

  prometheus::Registry registry_;
  std::unique_ptr<SourceTracker> tracker_;
};

TEST(IpAddressTest, ParsesV4V6AndPeers) {
  IpAddress a;
  ASSERT_TRUE(ParseIpAddress("10.1.2.3", &a));
  EXPECT_TRUE(a.v4);
  EXPECT_EQ(a.bytes[12], 10);
  EXPECT_EQ(a.bytes[15], 3);
  ASSERT_TRUE(ParseIpAddress("2001:db8::1", &a));
  EXPECT_FALSE(a.v4);
  EXPECT_EQ(a.bytes[0], 0x20);
  EXPECT_EQ(a.bytes[15], 1);
  ASSERT_TRUE(ParseIpAddress("::ffff:192.0.2.7", &a));
  EXPECT_TRUE(a.v4) << "IPv4-mapped IPv6 is treated as IPv4";
  ASSERT_TRUE(ParseIpAddress("fe80::1%eth0", &a));
  EXPECT_FALSE(a.v4);

  ASSERT_TRUE(ParsePeerAddress("10.1.2.3:514", &a));
  EXPECT_EQ(a.bytes[15], 3);
  ASSERT_TRUE(ParsePeerAddress("[2001:db8::5]:6514", &a));
  EXPECT_EQ(a.bytes[15], 5);
  ASSERT_TRUE(ParsePeerAddress("10.9.9.9", &a));

  for (const char* bad :
       {"", "host.example", "10.1.2", "10.1.2.3.4", "[::1", "2001:db8::g", "999.1.1.1:514"}) {
    EXPECT_FALSE(ParsePeerAddress(bad, &a)) << bad;
  }
}

TEST(IpNetworkTest, ParsesAndContains) {
  auto n = ParseIpNetwork("10.1.0.0/16");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  IpAddress a;
  ASSERT_TRUE(ParseIpAddress("10.1.255.254", &a));
  EXPECT_TRUE(n->Contains(a));
  ASSERT_TRUE(ParseIpAddress("10.2.0.1", &a));
  EXPECT_FALSE(n->Contains(a));
  ASSERT_TRUE(ParseIpAddress("::ffff:10.1.0.9", &a));
  EXPECT_TRUE(n->Contains(a));

  auto odd = ParseIpNetwork("192.168.4.0/23");  // prefix not on a byte boundary
  ASSERT_TRUE(odd.ok());
  ASSERT_TRUE(ParseIpAddress("192.168.5.200", &a));
  EXPECT_TRUE(odd->Contains(a));
  ASSERT_TRUE(ParseIpAddress("192.168.6.1", &a));
  EXPECT_FALSE(odd->Contains(a));

  auto v6 = ParseIpNetwork("2001:db8:10::/48");
  ASSERT_TRUE(v6.ok());
  ASSERT_TRUE(ParseIpAddress("2001:db8:10:ffff::1", &a));
  EXPECT_TRUE(v6->Contains(a));
  ASSERT_TRUE(ParseIpAddress("2001:db8:11::1", &a));
  EXPECT_FALSE(v6->Contains(a));
  ASSERT_TRUE(ParseIpAddress("10.1.0.1", &a));
  EXPECT_FALSE(v6->Contains(a)) << "an IPv4 address is not in an IPv6 network";

  auto all = ParseIpNetwork("0.0.0.0/0");
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(ParseIpAddress("203.0.113.1", &a));
  EXPECT_TRUE(all->Contains(a));
  ASSERT_TRUE(ParseIpAddress("2001:db8::1", &a));
  EXPECT_FALSE(all->Contains(a));

  auto host = ParseIpNetwork("2001:db8::1/128");
  ASSERT_TRUE(host.ok());
  ASSERT_TRUE(ParseIpAddress("2001:db8::1", &a));
  EXPECT_TRUE(host->Contains(a));

  for (const char* bad : {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/8x",
                          "x/8", "10.1.2.3/16", "2001:db8::/129", "2001:db8::1/64"}) {
    EXPECT_FALSE(ParseIpNetwork(bad).ok()) << bad;
  }
}

TEST_F(SourceTrackerTest, MatchesHostThenLongestNetwork) {
  Make({{"web", "web01", ""},
        {"dmz", "", "192.0.2.0/24"},
        {"lan", "", "10.0.0.0/8"},
        {"fw", "", "10.1.0.0/16"},  // more specific than lan, listed after it
        {"v6", "", "2001:db8::/32"}});
  EXPECT_EQ(MatchName(Rec("web01", "10.1.2.3:514")), "web") << "host wins over network";
  EXPECT_EQ(MatchName(Rec("web02", "10.1.2.3:514")), "fw") << "longest prefix";
  EXPECT_EQ(MatchName(Rec("", "10.2.0.1:514")), "lan");
  EXPECT_EQ(MatchName(Rec("", "192.0.2.200:40000")), "dmz");
  EXPECT_EQ(MatchName(Rec("", "[::ffff:192.0.2.9]:514")), "dmz");
  EXPECT_EQ(MatchName(Rec("x", "[2001:db8:1::7]:514")), "v6");
  EXPECT_EQ(MatchName(Rec("WEB01", "198.51.100.1:514")), "<none>") << "host is exact";
  EXPECT_EQ(MatchName(Rec("", "[2001:db9::1]:514")), "<none>");
  EXPECT_EQ(MatchName(Rec("", "")), "<none>");
}

TEST_F(SourceTrackerTest, SetsLastSeenAndCounts) {
  Make({{"web", "web01", ""}, {"lan", "", "10.0.0.0/8"}, {"quiet", "", "172.16.0.0/12"}});
  // Every configured source has its series from the start: a never-seen source is visible.
  EXPECT_EQ(Metric("mamori_source_last_seen_timestamp_seconds", {{"source", "quiet"}}), 0);
  EXPECT_EQ(Metric("mamori_source_events_total", {{"source", "quiet"}}), 0);
  EXPECT_EQ(Metric("mamori_source_unknown_events_total"), 0);

  ObserveSample(nullptr);

  ExpectSampleMetrics();
}

// The collector's I/O threads observe a whole read into a tally and publish it once: the
// metrics end up as with one Observe() per record, and nothing is published before Publish().
TEST_F(SourceTrackerTest, TallyPublishesWhatObserveWould) {
  Make({{"web", "web01", ""}, {"lan", "", "10.0.0.0/8"}, {"quiet", "", "172.16.0.0/12"}});
  SourceTracker::Tally tally;
  ObserveSample(&tally);
  EXPECT_EQ(Metric("mamori_source_events_total", {{"source", "web"}}), 0) << "not yet published";
  EXPECT_EQ(Metric("mamori_source_unknown_events_total"), 0);

  tracker_->Publish(&tally);
  ExpectSampleMetrics();

  // Published tallies are empty: publishing again changes nothing; an older batch does not move
  // last_seen back.
  tracker_->Publish(&tally);
  EXPECT_EQ(Metric("mamori_source_events_total", {{"source", "web"}}), 3);
  tracker_->Observe(Rec("web01", "127.0.0.1:1", 1'780'000'001 * kNs), &tally);
  tracker_->Publish(&tally);
  EXPECT_EQ(Metric("mamori_source_events_total", {{"source", "web"}}), 4);
  EXPECT_DOUBLE_EQ(Metric("mamori_source_last_seen_timestamp_seconds", {{"source", "web"}}),
                   1'780'000'010.0);
}

TEST_F(SourceTrackerTest, NoSourcesCountsEverythingUnknown) {
  Make({});
  EXPECT_EQ(tracker_->size(), 0u);
  tracker_->Observe(Rec("a", "10.0.0.1:1"));
  EXPECT_EQ(Metric("mamori_source_unknown_events_total"), 1);
}

TEST_F(SourceTrackerTest, RejectsBadConfiguration) {
  prometheus::Registry r1;
  auto bad = SourceTracker::Create({{"ok", "h", ""}, {"bad", "", "10.0.0.0/40"}}, r1);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sources[1].network"), std::string::npos)
      << bad.status().message();

  prometheus::Registry r2;
  auto dup = SourceTracker::Create({{"a", "h", ""}, {"b", "h", ""}}, r2);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("sources[1].host"), std::string::npos)
      << dup.status().message();
}

TEST_F(SourceTrackerTest, ConcurrentObserveCountsEveryRecord) {
  Make({{"lan", "", "10.0.0.0/8"}, {"web", "web01", ""}});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Record lan = Rec("", "10.0.0." + std::to_string(t + 1) + ":514");
      Record web = Rec("web01", "[::1]:514");
      Record other = Rec("", "[::1]:514");
      for (int i = 0; i < kPerThread; ++i) {
        lan.raw.received_ns = (1'780'000'000LL + t * kPerThread + i) * kNs;
        tracker_->Observe(lan);
        tracker_->Observe(web);
        tracker_->Observe(other);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Metric("mamori_source_events_total", {{"source", "lan"}}), kThreads * kPerThread);
  EXPECT_EQ(Metric("mamori_source_events_total", {{"source", "web"}}), kThreads * kPerThread);
  EXPECT_EQ(Metric("mamori_source_unknown_events_total"), kThreads * kPerThread);
  // The newest receive time of all threads, once every Observe() has returned.
  double newest = 1'780'000'000.0 + (kThreads - 1) * kPerThread + kPerThread - 1;
  EXPECT_DOUBLE_EQ(Metric("mamori_source_last_seen_timestamp_seconds", {{"source", "lan"}}),
                   newest);
}

}  // namespace
}  // namespace mamori::collector
