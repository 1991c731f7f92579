#include "mamori/api/target.h"

#include <gtest/gtest.h>

namespace mamori::api {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

TEST(PercentDecodeTest, DecodesEscapesOfEitherCase) {
  auto r = PercentDecode("a%20b%2fc%2F%e6%97%a5", false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "a b/c/\xe6\x97\xa5");
}

TEST(PercentDecodeTest, PlusIsSpaceOnlyWhenAsked) {
  EXPECT_EQ(*PercentDecode("a+b%2B", true), "a b+");
  EXPECT_EQ(*PercentDecode("a+b%2B", false), "a+b+");
}

TEST(PercentDecodeTest, KeepsNulBytes) {
  EXPECT_EQ(*PercentDecode("a%00b", false), std::string("a\0b", 3));
}

TEST(PercentDecodeTest, RejectsTruncatedOrNonHexEscapes) {
  for (const char* bad : {"%", "%2", "a%zz", "%g0", "abc%"}) {
    auto r = PercentDecode(bad, true);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    }
  }
}

TEST(ParseTargetTest, SplitsPathAndQueryInOrder) {
  auto t = ParseTarget("/api/v1/events?host=web%2D1&q=fail+ed%7Cerror&x=1&x=2");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->path, "/api/v1/events");
  EXPECT_EQ(t->params, (Params{{"host", "web-1"}, {"q", "fail ed|error"}, {"x", "1"}, {"x", "2"}}));
}

TEST(ParseTargetTest, PathIsDecodedButPlusStays) {
  auto t = ParseTarget("/a%20b+c");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/a b+c");
  EXPECT_TRUE(t->params.empty());
}

TEST(ParseTargetTest, EmptySegmentsSkippedAndMissingValuesEmpty) {
  auto t = ParseTarget("/p?&a&&b=&=v&c=1=2#frag");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->params, (Params{{"a", ""}, {"b", ""}, {"", "v"}, {"c", "1=2"}}));
}

TEST(ParseTargetTest, EmptyQuery) {
  auto t = ParseTarget("/p?");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/p");
  EXPECT_TRUE(t->params.empty());
}

TEST(ParseTargetTest, RejectsNonOriginFormsAndBadEscapes) {
  for (const char* bad :
       {"", "*", "http://example.com/p", "example.com:80", "/p%2", "/p?q=%x1", "/p?%=1"}) {
    EXPECT_FALSE(ParseTarget(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace mamori::api
