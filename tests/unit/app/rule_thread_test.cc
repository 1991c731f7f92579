#include "rule_thread.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace mamori::app {
namespace {

std::vector<Record> Batch(std::uint64_t first, std::size_t n) {
  std::vector<Record> b(n);
  for (std::size_t i = 0; i < n; ++i) b[i].seq = first + i;
  return b;
}

double Gauge(prometheus::Registry& reg, const std::string& name) {
  for (const auto& f : reg.Collect()) {
    if (f.name == name) return f.metric.at(0).gauge.value;
  }
  return -1;
}

// Every pushed record reaches the callback, once, in the order pushed, on another thread.
TEST(RuleThreadTest, RunsEveryBatchInOrderOnItsOwnThread) {
  prometheus::Registry reg;
  std::mutex mu;
  std::vector<std::uint64_t> seen;
  std::thread::id ran_on;
  RuleThread t(
      100,
      [&](std::vector<Record>& b) {
        std::lock_guard lock(mu);
        ran_on = std::this_thread::get_id();
        for (const Record& r : b) seen.push_back(r.seq);
      },
      reg);
  EXPECT_EQ(Gauge(reg, "mamori_rules_queue_capacity"), 100);
  t.Start();
  std::uint64_t next = 1;
  for (int i = 0; i < 200; ++i) {
    auto b = Batch(next, 7);
    next += 7;
    t.Push(b);
    EXPECT_TRUE(b.empty());  // taken
  }
  t.Stop();
  ASSERT_EQ(seen.size(), 1400u);
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_EQ(Gauge(reg, "mamori_rules_queue_depth"), 0);
}

// A slow callback makes Push wait once `capacity` records are waiting: back-pressure on the
// writer, never a drop.
TEST(RuleThreadTest, PushWaitsWhileTheThreadIsCapacityBehind) {
  prometheus::Registry reg;
  std::atomic<bool> release{false};
  std::atomic<std::size_t> processed{0};
  RuleThread t(
      20,
      [&](std::vector<Record>& b) {
        while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        processed += b.size();
      },
      reg);
  t.Start();
  auto b1 = Batch(1, 10);
  t.Push(b1);  // the thread takes it and blocks in the callback (still counted as waiting)
  auto b2 = Batch(11, 10);
  t.Push(b2);  // queued: 20 waiting = capacity
  std::atomic<bool> third_done{false};
  std::thread writer([&] {
    auto b3 = Batch(21, 10);
    t.Push(b3);  // must wait
    third_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(third_done.load());
  EXPECT_EQ(Gauge(reg, "mamori_rules_queue_depth"), 20);
  release = true;
  writer.join();
  EXPECT_TRUE(third_done.load());
  t.Stop();
  EXPECT_EQ(processed.load(), 30u);
}

// Without a running thread (before Start, after Stop) a push runs the callback inline.
TEST(RuleThreadTest, PushWithoutThreadRunsInline) {
  prometheus::Registry reg;
  std::size_t n = 0;
  std::thread::id ran_on;
  RuleThread t(
      4,
      [&](std::vector<Record>& b) {
        n += b.size();
        ran_on = std::this_thread::get_id();
      },
      reg);
  auto b = Batch(1, 3);
  t.Push(b);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  t.Start();
  t.Stop();
  auto c = Batch(4, 2);
  t.Push(c);
  EXPECT_EQ(n, 5u);
}

}  // namespace
}  // namespace mamori::app
