#include "mamori/core/time_util.h"

#include <gtest/gtest.h>

#include "mamori/core/record.h"

namespace mamori {
namespace {

TEST(TimeUtilTest, Rfc3339RoundTrips) {
  auto t = ParseRfc3339("2003-10-11T22:14:15.003Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatRfc3339(*t), "2003-10-11T22:14:15.003Z");
  auto j = ParseRfc3339("2003-08-24T05:14:15.000003-07:00");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(FormatRfc3339(*j), "2003-08-24T12:14:15.000003Z");
  EXPECT_EQ(*ParseRfc3339("2026-11-26 09:00:00+09:00"), *ParseRfc3339("2026-11-26T00:00:00Z"));
}

TEST(TimeUtilTest, Rfc3339RejectsGarbage) {
  for (const char* s : {"", "2003-10-11", "2003-13-11T22:14:15Z", "2003-02-30T00:00:00Z",
                        "2003-10-11T22:14:15", "2003-10-11T22:14:15.Z", "2003-10-11T25:14:15Z",
                        "2003-10-11T22:14:15+0700", "2003-10-11T22:14:15Zjunk"}) {
    EXPECT_FALSE(ParseRfc3339(s).ok()) << s;
  }
}

TEST(TimeUtilTest, TimeBoundForms) {
  EXPECT_EQ(*ParseTimeBound("1700000000"), 1'700'000'000'000'000'000);
  EXPECT_EQ(*ParseTimeBound("1700000000.5"), 1'700'000'000'500'000'000);
  EXPECT_EQ(*ParseTimeBound("2026-11-26"), *ParseRfc3339("2026-11-26T00:00:00Z"));
  EXPECT_FALSE(ParseTimeBound("yesterday").ok());
  EXPECT_FALSE(ParseTimeBound("1.2.3").ok());
}

TEST(TimeUtilTest, CivilAndYears) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_TRUE(IsValidDate(2024, 2, 29));
  EXPECT_FALSE(IsValidDate(2023, 2, 29));
  EXPECT_EQ(UtcYear(*ParseRfc3339("2026-12-31T23:59:59Z")), 2026);
  EXPECT_EQ(UtcYear(*ParseRfc3339("2027-01-01T00:00:00Z")), 2027);
  EXPECT_EQ(UtcYear(-1), 1969);
}

}  // namespace
}  // namespace mamori
