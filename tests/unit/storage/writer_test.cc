#include "mamori/storage/writer.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <numeric>
#include <set>
#include <thread>

#include "test_util.h"

namespace mamori::storage {
namespace {

using testing::kT0;
using testing::MakeRecord;
using testing::TempDir;

double MetricValue(prometheus::Registry& reg, const std::string& name) {
  for (const auto& f : reg.Collect()) {
    if (f.name != name || f.metric.empty()) continue;
    const auto& m = f.metric[0];
    switch (f.type) {
      case prometheus::MetricType::Counter:
        return m.counter.value;
      case prometheus::MetricType::Gauge:
        return m.gauge.value;
      case prometheus::MetricType::Histogram:
        return static_cast<double>(m.histogram.sample_count);
      default:
        return -1;
    }
  }
  return -1;
}

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.dir = dir_.path() + "/db";
    auto s = EvidenceStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  TempDir dir_;
  std::unique_ptr<EvidenceStore> store_;
  prometheus::Registry registry_;
};

TEST_F(WriterTest, StopDrainsEverythingPushedFromSeveralThreads) {
  BoundedQueue<Record> queue(500);  // small: producers hit back-pressure and retry
  Writer writer(*store_, queue, Writer::Options{.batch_max = 64}, registry_);
  std::vector<std::uint64_t> stored_seqs;
  std::size_t max_batch = 0;
  writer.SetOnStored([&](std::vector<Record>& batch) {
    max_batch = std::max(max_batch, batch.size());
    for (const auto& r : batch) stored_seqs.push_back(r.seq);
  });
  writer.Start();

  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&queue, t] {
      int i = 0;
      while (i < kPerThread) {
        std::vector<Record> batch;
        const int n = std::min(1 + (i % 97), kPerThread - i);
        for (int k = 0; k < n; ++k) {
          batch.push_back(MakeRecord(kT0 + i + k, "host-" + std::to_string(t),
                                     std::to_string(t) + ":" + std::to_string(i + k)));
        }
        while (!queue.TryPush(batch)) std::this_thread::yield();
        i += n;
      }
    });
  }
  for (auto& p : producers) p.join();
  queue.Close();
  writer.Stop();

  constexpr std::uint64_t kTotal = kThreads * kPerThread;
  EXPECT_EQ(store_->next_seq(), kTotal + 1);
  ASSERT_EQ(stored_seqs.size(), kTotal);
  for (std::uint64_t i = 0; i < kTotal; ++i) ASSERT_EQ(stored_seqs[i], i + 1);
  EXPECT_LE(max_batch, 64u);

  // Every message is in the store exactly once.
  std::set<std::string> messages;
  for (std::uint64_t s = 1; s <= kTotal; ++s) {
    auto r = store_->Get(s);
    ASSERT_TRUE(r.ok() && r->has_value());
    EXPECT_TRUE(messages.insert((*r)->event.message).second);
  }
  EXPECT_EQ(messages.size(), kTotal);

  EXPECT_EQ(MetricValue(registry_, "mamori_events_stored_total"), kTotal);
  EXPECT_EQ(MetricValue(registry_, "mamori_storage_next_sequence"), kTotal + 1);
  EXPECT_EQ(MetricValue(registry_, "mamori_pipeline_queue_capacity"), 500);
  EXPECT_EQ(MetricValue(registry_, "mamori_pipeline_queue_depth"), 0);
  EXPECT_EQ(MetricValue(registry_, "mamori_storage_write_errors_total"), 0);
  EXPECT_GE(MetricValue(registry_, "mamori_storage_write_latency_seconds"), kTotal / 64.0);
  EXPECT_EQ(MetricValue(registry_, "mamori_storage_write_latency_seconds"),
            MetricValue(registry_, "mamori_storage_batch_records"));
}

TEST_F(WriterTest, SplitsLargeBatchesAtBatchMax) {
  BoundedQueue<Record> queue(100000);
  std::vector<Record> big;
  for (int i = 0; i < 95; ++i) big.push_back(MakeRecord(kT0 + i, "h", std::to_string(i)));
  ASSERT_TRUE(queue.TryPush(big));
  std::vector<Record> small = {MakeRecord(kT0, "h", "95")};
  ASSERT_TRUE(queue.TryPush(small));
  queue.Close();  // closed before Start: Stop still drains it all

  Writer writer(*store_, queue, Writer::Options{.batch_max = 10}, registry_);
  std::vector<std::size_t> sizes;
  std::vector<std::uint64_t> seqs;
  writer.SetOnStored([&](std::vector<Record>& part) {
    sizes.push_back(part.size());
    for (const Record& r : part) seqs.push_back(r.seq);
  });
  writer.Start();
  writer.Stop();
  // Ten appends: nine of 10 records cut from the big vector, then its last 5 and the small
  // vector together (handed over as the two vectors they are).
  EXPECT_EQ(MetricValue(registry_, "mamori_storage_batch_records"), 10);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{10, 10, 10, 10, 10, 10, 10, 10, 10, 5, 1}));
  std::vector<std::uint64_t> want(96);
  std::iota(want.begin(), want.end(), 1);
  EXPECT_EQ(seqs, want);  // every record handed over once, in seq order
  EXPECT_EQ(store_->next_seq(), 97u);
  auto last = store_->Get(96);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->event.message, "95");
}

TEST_F(WriterTest, StopWithEmptyClosedQueue) {
  BoundedQueue<Record> queue(10);
  Writer writer(*store_, queue, Writer::Options{}, registry_);
  writer.Start();
  queue.Close();
  writer.Stop();
  EXPECT_EQ(store_->next_seq(), 1u);
  EXPECT_EQ(MetricValue(registry_, "mamori_events_stored_total"), 0);
}

}  // namespace
}  // namespace mamori::storage
