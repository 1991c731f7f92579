#include "mamori/core/record.h"

#include <gtest/gtest.h>

namespace mamori {
namespace {

TEST(RecordTest, Rfc3339) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1'700'000'000'123'000'000), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatRfc3339(1'700'000'000'000'000'001), "2023-11-14T22:13:20.000000001Z");
  EXPECT_EQ(FormatRfc3339(-1'000'000'000), "1969-12-31T23:59:59Z");
}

TEST(RecordTest, EventFieldsSetAndGet) {
  Event e;
  EXPECT_EQ(e.Get("a"), nullptr);
  e.Set("a", "1");
  e.Set("b", "2");
  e.Set("a", "3");
  ASSERT_EQ(e.fields.size(), 2u);
  EXPECT_EQ(*e.Get("a"), "3");
  EXPECT_FALSE(e.time_inferred());
  e.time_flags = kTimeYearInferred;
  EXPECT_TRUE(e.time_inferred());
}

}  // namespace
}  // namespace mamori
