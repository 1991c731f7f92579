#include "mamori/core/bounded_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace mamori {
namespace {

TEST(BoundedQueueTest, RefusesWhenFullAndKeepsTheBatch) {
  BoundedQueue<int> q(3);
  std::vector<int> a{1, 2};
  EXPECT_TRUE(q.TryPush(a));
  EXPECT_TRUE(a.empty());
  std::vector<int> b{3, 4};  // depth 2 < 3: accepted, overshoots to 4
  EXPECT_TRUE(q.TryPush(b));
  std::vector<int> c{5};
  EXPECT_FALSE(q.TryPush(c));
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(q.depth(), 4u);
  std::vector<std::vector<int>> out;
  EXPECT_EQ(q.PopAll(&out, std::chrono::milliseconds(0)), 4u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1][1], 4);
  EXPECT_TRUE(q.TryPush(c));
}

TEST(BoundedQueueTest, CloseWakesConsumerAndDrains) {
  BoundedQueue<int> q(10);
  std::vector<int> a{1};
  ASSERT_TRUE(q.TryPush(a));
  std::vector<std::vector<int>> out;
  std::thread t([&] { q.Close(); });
  t.join();
  EXPECT_EQ(q.PopAll(&out, std::chrono::hours(1)), 1u);
  EXPECT_EQ(q.PopAll(&out, std::chrono::hours(1)), 0u);  // closed: no wait
  std::vector<int> b{2};
  EXPECT_FALSE(q.TryPush(b));
}

TEST(BoundedQueueTest, ManyProducersLoseNothing) {
  BoundedQueue<int> q(64);
  constexpr int kPerThread = 20000;
  std::atomic<long> consumed{0};
  std::thread consumer([&] {
    std::vector<std::vector<int>> out;
    while (true) {
      out.clear();
      size_t n = q.PopAll(&out, std::chrono::milliseconds(50));
      consumed += static_cast<long>(n);
      if (n == 0 && q.closed()) break;
    }
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        std::vector<int> one{i};
        while (!q.TryPush(one)) std::this_thread::yield();
      }
    });
  }
  for (auto& t : producers) t.join();
  q.Close();
  consumer.join();
  EXPECT_EQ(consumed.load(), 4L * kPerThread);
}

}  // namespace
}  // namespace mamori
