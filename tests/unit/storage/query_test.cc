#include "mamori/storage/query.h"

#include <gtest/gtest.h>

namespace mamori::storage {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

Status Error(const Params& p) {
  auto q = QueryFromParams(p);
  EXPECT_FALSE(q.ok());
  return q.ok() ? Status::Ok() : q.status();
}

void ExpectErrorNaming(const Params& p, const std::string& needle) {
  Status s = Error(p);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

TEST(QueryFromParamsTest, Defaults) {
  auto q = QueryFromParams({});
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->from_ns.has_value());
  EXPECT_FALSE(q->to_ns.has_value());
  EXPECT_FALSE(q->max_severity.has_value());
  EXPECT_EQ(q->limit, 100u);
  EXPECT_TRUE(q->host.empty());
  EXPECT_TRUE(q->cursor.empty());
}

TEST(QueryFromParamsTest, AllKeys) {
  auto q = QueryFromParams({{"from", "2026-11-26"},
                            {"to", "2026-11-26T12:00:00+09:00"},
                            {"host", "web-01"},
                            {"app", "sshd"},
                            {"severity", "warning"},
                            {"q", "Failed password for (\\w+)"},
                            {"limit", "250"}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(*q->from_ns, 1'795'651'200LL * 1'000'000'000);
  EXPECT_EQ(*q->to_ns, (1'795'651'200LL + 3 * 3600) * 1'000'000'000);
  EXPECT_EQ(q->host, "web-01");
  EXPECT_EQ(q->app, "sshd");
  EXPECT_EQ(*q->max_severity, 4);
  EXPECT_EQ(q->pattern, "Failed password for (\\w+)");
  EXPECT_EQ(q->limit, 250u);
}

TEST(QueryFromParamsTest, SeverityNamesAndNumbers) {
  const std::vector<std::pair<std::string, int>> cases = {
      {"emerg", 0}, {"alert", 1},  {"crit", 2}, {"err", 3},   {"error", 3}, {"WARNING", 4},
      {"warn", 4},  {"notice", 5}, {"info", 6}, {"debug", 7}, {"0", 0},     {"7", 7}};
  for (const auto& [name, level] : cases) {
    auto q = QueryFromParams({{"severity", name}});
    ASSERT_TRUE(q.ok()) << name;
    EXPECT_EQ(*q->max_severity, level) << name;
  }
  ExpectErrorNaming({{"severity", "8"}}, "severity");
  ExpectErrorNaming({{"severity", "loud"}}, "severity");
  ExpectErrorNaming({{"severity", ""}}, "severity");
}

TEST(QueryFromParamsTest, BadValuesNameTheKey) {
  ExpectErrorNaming({{"from", "yesterday"}}, "from");
  ExpectErrorNaming({{"to", "2026-13-01"}}, "to");
  ExpectErrorNaming({{"limit", "0"}}, "limit");
  ExpectErrorNaming({{"limit", "10001"}}, "limit");
  ExpectErrorNaming({{"limit", "ten"}}, "limit");
  ExpectErrorNaming({{"limit", "-5"}}, "limit");
  ExpectErrorNaming({{"cursor", "xyz"}}, "cursor");
  ExpectErrorNaming({{"q", "a(b"}}, "q");
  ExpectErrorNaming({{"q", "a(b"}}, "a(b");
  ExpectErrorNaming({{"hostname", "x"}}, "hostname");
  ExpectErrorNaming({{"host", "a"}, {"host", "b"}}, "host");
  ExpectErrorNaming({{"from", "2026-11-27"}, {"to", "2026-11-26"}}, "from");
}

TEST(QueryFromParamsTest, LimitBoundsAccepted) {
  EXPECT_EQ(QueryFromParams({{"limit", "1"}})->limit, 1u);
  EXPECT_EQ(QueryFromParams({{"limit", "10000"}})->limit, 10000u);
}

}  // namespace
}  // namespace mamori::storage
