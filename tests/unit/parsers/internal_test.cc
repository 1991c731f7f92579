// The parsers' internal helpers that were made faster give exactly the answers of the plain
// versions: substring searches (parsers/src/body.h; body sniffing decides the format with them)
// and the year inference of ResolveTime (parsers/src/text_util.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "../../../parsers/src/body.h"
#include "../../../parsers/src/text_util.h"
#include "mamori/core/time_util.h"
#include "xorshift.h"

namespace mamori::parsers::internal {
namespace {

TEST(FindTest, FindByAndFindStartingByMatchStringView) {
  const std::string alphabet = "ab =[]\",:CELF";
  const std::string_view needles[] = {
      "=", "[", " [", "] \"", "IN=", " OUT=", " date=", "CEF:", "a", "aa", "", "ab a", ":"};
  testing::XorShift64 next(0x9E3779B97F4A7C15ull);
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const std::size_t len = next() % 40;
    for (std::size_t i = 0; i < len; ++i) s.push_back(alphabet[next() % alphabet.size()]);
    for (std::string_view n : needles) {
      const std::size_t pos = next() % (s.size() + 2);
      ASSERT_EQ(FindByLast(s, n, pos), std::string_view(s).find(n, pos)) << s << " / " << n;
      for (std::size_t key = 0; key < n.size(); ++key) {
        ASSERT_EQ(FindBy(s, n, key, pos), std::string_view(s).find(n, pos))
            << s << " / " << n << " / " << key;
      }
      const std::size_t limit = next() % (s.size() + 2);
      const std::size_t p = std::string_view(s).find(n);
      ASSERT_EQ(FindStartingBy(s, n, limit), p <= limit ? p : std::string_view::npos)
          << s << " / " << n << " / " << limit;
    }
  }
}

// Year inference: of the receive year and the years before and after it, the one that puts the
// event closest to the receipt (the first of equals), computed here the long way.
TEST(ResolveTimeTest, InferredYearIsTheClosestOfThree) {
  testing::XorShift64 next(0x2545F4914F6CDD1Dull);
  for (int round = 0; round < 200000; ++round) {
    WallTime t;
    t.month = 1 + static_cast<int>(next() % 12);
    t.day = 1 + static_cast<int>(next() % 31);
    t.hour = static_cast<int>(next() % 24);
    t.minute = static_cast<int>(next() % 60);
    t.second = static_cast<int>(next() % 61);
    t.nanos = static_cast<std::int64_t>(next() % 1'000'000'000);
    ParseContext ctx;
    ctx.utc_offset_minutes = static_cast<int>(next() % (26 * 60)) - 12 * 60;
    // Receipts from 1999 to 2101: leap years, the years 2000 and 2100, Dec/Jan edges. Each is
    // followed by one 0-3 days later: the receive year is remembered per day (cache hits, misses
    // and day boundaries).
    const std::int64_t first =
        UnixNsFromUtc(1999, 1, 1, 0, 0, 0) +
        static_cast<std::int64_t>(next() % (102ull * 365 * 86'400)) * 1'000'000'000 +
        static_cast<std::int64_t>(next() % 1'000'000'000);
    const std::int64_t later =
        first + static_cast<std::int64_t>(next() % (3ull * 86'400'000'000'000));
    for (const std::int64_t received : {first, later}) {
      const std::int64_t offset =
          static_cast<std::int64_t>(ctx.utc_offset_minutes) * 60'000'000'000;
      const int base = UtcYear(received + offset);
      bool want_ok = false;
      std::int64_t want = 0;
      for (int y = base - 1; y <= base + 1; ++y) {
        if (!IsValidDate(y, t.month, t.day)) continue;
        const std::int64_t ns = UnixNsFromUtc(y, t.month, t.day, t.hour, t.minute,
                                              t.second == 60 ? 59 : t.second, t.nanos) -
                                offset;
        if (!want_ok || std::llabs(ns - received) < std::llabs(want - received)) want = ns;
        want_ok = true;
      }
      std::int64_t got = 0;
      std::uint8_t flags = 0;
      const bool ok = ResolveTime(t, received, ctx, &got, &flags);
      ASSERT_EQ(ok, want_ok) << t.month << "-" << t.day << " received " << received;
      if (ok) {
        ASSERT_EQ(got, want) << t.month << "-" << t.day << " received " << received;
        EXPECT_EQ(flags, kTimeYearInferred | kTimeZoneInferred);
      }
    }
  }
}

}  // namespace
}  // namespace mamori::parsers::internal
