#include "mamori/auth/failure_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace mamori::auth {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;

FailureLimit Limit(std::uint32_t n, std::int64_t window_ms, std::int64_t lockout_ms,
                   std::size_t max_addresses = 10'000) {
  FailureLimit l;
  l.limit = n;
  l.window_ms = window_ms;
  l.lockout_ms = lockout_ms;
  l.max_addresses = max_addresses;
  return l;
}

TEST(AuthFailureLimiter, LocksOutAtTheLimitWithinTheWindow) {
  FakeClock clock(1000 * kSec);
  AuthFailureLimiter lim(Limit(3, 60'000, 300'000), clock);
  EXPECT_EQ(lim.RetryAfterMs("192.0.2.1"), 0);
  EXPECT_FALSE(lim.RecordFailure("192.0.2.1"));
  clock.Advance(10 * kSec);
  EXPECT_FALSE(lim.RecordFailure("192.0.2.1"));
  EXPECT_EQ(lim.RetryAfterMs("192.0.2.1"), 0);
  EXPECT_EQ(lim.LockedOut(), 0u);
  clock.Advance(10 * kSec);
  EXPECT_TRUE(lim.RecordFailure("192.0.2.1"));  // the third within 60 s
  EXPECT_EQ(lim.RetryAfterMs("192.0.2.1"), 300'000);
  EXPECT_EQ(lim.LockedOut(), 1u);
  // Another address is not affected.
  EXPECT_EQ(lim.RetryAfterMs("192.0.2.2"), 0);
  clock.Advance(100 * kSec);
  EXPECT_EQ(lim.RetryAfterMs("192.0.2.1"), 200'000);
}

TEST(AuthFailureLimiter, FailuresSpreadOverMoreThanTheWindowDoNotLockOut) {
  FakeClock clock(1000 * kSec);
  AuthFailureLimiter lim(Limit(3, 60'000, 300'000), clock);
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(lim.RecordFailure("192.0.2.1")) << i;
    clock.Advance(31 * kSec);  // at most 2 per 60 s window
  }
  EXPECT_EQ(lim.RetryAfterMs("192.0.2.1"), 0);
  EXPECT_EQ(lim.LockedOut(), 0u);
}

TEST(AuthFailureLimiter, LockoutExpiresAndCountingStartsAfresh) {
  FakeClock clock(1000 * kSec);
  AuthFailureLimiter lim(Limit(2, 60'000, 5'000), clock);
  lim.RecordFailure("a");
  EXPECT_TRUE(lim.RecordFailure("a"));
  clock.Advance(4 * kSec + 999'999'999);
  EXPECT_EQ(lim.RetryAfterMs("a"), 1);  // 1 ns left: rounded up
  EXPECT_EQ(lim.LockedOut(), 1u);
  clock.Advance(1);
  EXPECT_EQ(lim.RetryAfterMs("a"), 0);
  EXPECT_EQ(lim.LockedOut(), 0u);
  EXPECT_EQ(lim.Tracked(), 0u);
  EXPECT_FALSE(lim.RecordFailure("a"));  // one failure of a fresh count
  EXPECT_TRUE(lim.RecordFailure("a"));
}

TEST(AuthFailureLimiter, FailuresDuringALockoutDoNotExtendIt) {
  FakeClock clock(1000 * kSec);
  AuthFailureLimiter lim(Limit(1, 60'000, 5'000), clock);
  EXPECT_TRUE(lim.RecordFailure("a"));
  clock.Advance(3 * kSec);
  EXPECT_FALSE(lim.RecordFailure("a"));  // a request that raced with the lockout
  EXPECT_EQ(lim.RetryAfterMs("a"), 2'000);
}

TEST(AuthFailureLimiter, SuccessClearsTheCountButNeverALockout) {
  FakeClock clock(1000 * kSec);
  AuthFailureLimiter lim(Limit(3, 60'000, 10'000), clock);
  lim.RecordFailure("a");
  lim.RecordFailure("a");
  lim.RecordSuccess("a");
  EXPECT_EQ(lim.Tracked(), 0u);
  EXPECT_FALSE(lim.RecordFailure("a"));
  EXPECT_FALSE(lim.RecordFailure("a"));
  EXPECT_TRUE(lim.RecordFailure("a"));
  lim.RecordSuccess("a");
  EXPECT_EQ(lim.RetryAfterMs("a"), 10'000);
  EXPECT_EQ(lim.LockedOut(), 1u);
}

TEST(AuthFailureLimiter, ZeroDisables) {
  FakeClock clock(1000 * kSec);
  AuthFailureLimiter lim(Limit(0, 60'000, 10'000), clock);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(lim.RecordFailure("a"));
  EXPECT_EQ(lim.RetryAfterMs("a"), 0);
  EXPECT_EQ(lim.Tracked(), 0u);
}

TEST(AuthFailureLimiter, TracksAtMostMaxAddressesEvictingTheLeastRecent) {
  FakeClock clock(1000 * kSec);
  AuthFailureLimiter lim(Limit(2, 60'000, 10'000, 100), clock);
  EXPECT_FALSE(lim.RecordFailure("locked"));
  EXPECT_TRUE(lim.RecordFailure("locked"));
  EXPECT_FALSE(lim.RecordFailure("counting"));
  std::uint64_t evicted = 0;
  for (int i = 0; i < 10'000; ++i) {
    lim.RecordFailure("198.51.100." + std::to_string(i), &evicted);
    ASSERT_LE(lim.Tracked(), 100u);
  }
  EXPECT_EQ(lim.Tracked(), 100u);
  EXPECT_EQ(lim.Evictions(), 10'002u - 100u);
  EXPECT_EQ(evicted, lim.Evictions());
  // A flood of sources never pushes out a locked-out address, untouched as it is...
  EXPECT_EQ(lim.RetryAfterMs("locked"), 10'000);
  EXPECT_EQ(lim.LockedOut(), 1u);
  // ...but it does push out a mere failure count: one more failure does not lock out.
  EXPECT_FALSE(lim.RecordFailure("counting"));
  // The most recent address is still counted: its second failure locks it out.
  EXPECT_TRUE(lim.RecordFailure("198.51.100.9999"));
}

TEST(AuthFailureLimiter, ATableFullOfLockoutsEvictsTheLeastRecentLockout) {
  FakeClock clock(1000 * kSec);
  AuthFailureLimiter lim(Limit(1, 60'000, 3'600'000, 10), clock);
  for (int i = 0; i < 5'000; ++i) {
    EXPECT_TRUE(lim.RecordFailure("a" + std::to_string(i)));
    if (i == 3) {
      EXPECT_GT(lim.RetryAfterMs("a0"), 0);  // a0 is now more recent than a1..a3
    }
    if (i == 10) {  // the 11th lockout evicted the least recent: a1, not a0
      EXPECT_EQ(lim.RetryAfterMs("a1"), 0);
      EXPECT_GT(lim.RetryAfterMs("a0"), 0);
    }
  }
  EXPECT_EQ(lim.Tracked(), 10u);
  EXPECT_EQ(lim.LockedOut(), 10u);
  EXPECT_EQ(lim.Evictions(), 4'990u);
  EXPECT_GT(lim.RetryAfterMs("a4999"), 0);
  EXPECT_EQ(lim.RetryAfterMs("a0"), 0);  // evicted: free again (and the stale queue bounded)
  clock.Advance(3'600 * kSec);
  EXPECT_EQ(lim.LockedOut(), 0u);
  EXPECT_EQ(lim.Tracked(), 0u);
}

TEST(AuthFailureLimiter, ClockSteppedBackNeverReportsMoreThanTheLockout) {
  FakeClock clock(1000 * kSec);
  AuthFailureLimiter lim(Limit(1, 60'000, 5'000), clock);
  EXPECT_TRUE(lim.RecordFailure("a"));
  clock.Advance(-100 * kSec);
  EXPECT_EQ(lim.RetryAfterMs("a"), 5'000);
}

TEST(AuthFailureLimiter, ConcurrentCallersAgreeOnOneLockout) {
  FakeClock clock(1000 * kSec);
  AuthFailureLimiter lim(Limit(1000, 60'000, 10'000, 50), clock);
  std::vector<std::thread> threads;
  std::atomic<int> started{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (lim.RecordFailure("shared")) started.fetch_add(1);
        lim.RecordFailure("t" + std::to_string(t) + "-" + std::to_string(i % 40));
        (void)lim.RetryAfterMs("shared");
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(started.load(), 1);  // 8000 failures, limit 1000: one lockout, then refused
  EXPECT_LE(lim.Tracked(), 50u);
}

}  // namespace
}  // namespace mamori::auth
