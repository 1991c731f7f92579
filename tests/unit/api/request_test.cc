#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <nlohmann/json.hpp>

#include "mamori/api/http_server.h"

namespace mamori::api {
namespace {

TEST(RequestTest, HeaderLookupIsCaseInsensitive) {
  Request r;
  r.headers = {{"Host", "a"}, {"X-Trace", "1"}, {"x-trace", "2"}};
  EXPECT_EQ(r.header("host"), "a");
  EXPECT_EQ(r.header("X-TRACE"), "1");
  EXPECT_EQ(r.header("Missing"), "");
}

TEST(RequestTest, ParamLookup) {
  Request r;
  r.params = {{"limit", "10"}, {"q", ""}, {"limit", "20"}};
  EXPECT_EQ(r.param("limit"), "10");
  EXPECT_TRUE(r.has_param("q"));
  EXPECT_EQ(r.param("q"), "");
  EXPECT_FALSE(r.has_param("Limit"));
}

TEST(JsonErrorTest, ShapeAndEscaping) {
  Response r = JsonError(404, "no \"such\" path: /x\xff");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"]["code"], 404);
  EXPECT_EQ(j["error"]["message"], "no \"such\" path: /x\xef\xbf\xbd");  // U+FFFD
}

TEST(MetricsHandlerTest, SerializesLiveRegistriesAndSkipsExpiredOnes) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto gone = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter()
      .Name("test_kept_total")
      .Help("h")
      .Register(*registry)
      .Add({})
      .Increment(3);
  prometheus::BuildCounter().Name("test_gone_total").Help("h").Register(*gone).Add({});
  Handler h = MetricsHandler({registry, gone});
  gone.reset();
  Response r = h(Request{});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("# TYPE test_kept_total counter"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("test_kept_total 3"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("test_gone_total"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace mamori::api
