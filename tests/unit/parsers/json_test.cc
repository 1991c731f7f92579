#include "mamori/parsers/json.h"

#include <gtest/gtest.h>

#include "mamori/core/time_util.h"

namespace mamori::parsers {
namespace {

constexpr std::int64_t kReceived = 1'700'000'000'000'000'000;

Event ParseJ(std::string_view msg) {
  Event e;
  EXPECT_TRUE(ParseJson(msg, kReceived, {}, &e)) << msg;
  return e;
}

TEST(JsonTest, FlattensNestedObjectsAndArrays) {
  Event e = ParseJ(
      R"({"a":{"b":{"c":"deep"}},"list":[1,"two",{"k":true}],"f":1.50,"neg":-3,)"
      R"("big":18446744073709551615,"no":false,"nil":null,"empty":{},"esc":"tab\there\u00e9"})");
  EXPECT_EQ(e.format, "json");
  EXPECT_EQ(*e.Get("a.b.c"), "deep");
  EXPECT_EQ(*e.Get("list.0"), "1");
  EXPECT_EQ(*e.Get("list.1"), "two");
  EXPECT_EQ(*e.Get("list.2.k"), "true");
  EXPECT_EQ(*e.Get("f"), "1.5");
  EXPECT_EQ(*e.Get("neg"), "-3");
  EXPECT_EQ(*e.Get("big"), "18446744073709551615");
  EXPECT_EQ(*e.Get("no"), "false");
  EXPECT_EQ(e.Get("nil"), nullptr);
  EXPECT_EQ(e.Get("empty"), nullptr);
  EXPECT_EQ(*e.Get("esc"), "tab\there\xC3\xA9");
  // Order of extraction is document order.
  ASSERT_GE(e.fields.size(), 2u);
  EXPECT_EQ(e.fields[0].key, "a.b.c");
  EXPECT_EQ(e.fields[1].key, "list.0");
}

TEST(JsonTest, MapsWellKnownKeys) {
  Event e = ParseJ(
      R"({"@timestamp":"2026-11-26T09:00:00.5+09:00","host":{"name":"web1"},)"
      R"("process":{"name":"nginx","pid":321},"message":"GET /","log":{"level":"Warning"}})");
  EXPECT_EQ(e.host, "web1");
  EXPECT_EQ(e.app, "nginx");
  EXPECT_EQ(e.procid, "321");
  EXPECT_EQ(e.message, "GET /");
  EXPECT_EQ(e.severity, 4);
  EXPECT_EQ(e.event_time_ns, *ParseRfc3339("2026-11-26T00:00:00.5Z"));
  EXPECT_EQ(e.time_flags, 0);
  EXPECT_EQ(*e.Get("host.name"), "web1");  // the fields keep every key
}

TEST(JsonTest, AlternativeKeysAndEpochTimes) {
  Event s = ParseJ(R"({"hostname":"h","program":"p","msg":"m","level":"error","time":1700000000})");
  EXPECT_EQ(s.host, "h");
  EXPECT_EQ(s.app, "p");
  EXPECT_EQ(s.message, "m");
  EXPECT_EQ(s.severity, 3);
  EXPECT_EQ(s.event_time_ns, 1'700'000'000'000'000'000);
  EXPECT_EQ(ParseJ(R"({"timestamp":1700000000123})").event_time_ns, 1'700'000'000'123'000'000);
  EXPECT_EQ(ParseJ(R"({"timestamp":1700000000.25})").event_time_ns, 1'700'000'000'250'000'000);
  EXPECT_EQ(ParseJ(R"({"timestamp":"1700000000"})").event_time_ns, 1'700'000'000'000'000'000);
  Event none = ParseJ(R"({"log":"line"})");
  EXPECT_EQ(none.message, "line");
  EXPECT_EQ(none.event_time_ns, kReceived);
  EXPECT_EQ(none.time_flags, kTimeFromReceipt);
  Event bad_time = ParseJ(R"({"time":"yesterday"})");
  EXPECT_EQ(bad_time.time_flags, kTimeFromReceipt);
}

TEST(JsonTest, WindowsEventTimeFromTimeCreated) {
  Event w = ParseJ(R"({"Event":{"System":{"EventID":4624,"Channel":"Security",)"
                   R"("TimeCreated":{"SystemTime":"2024-03-06T13:30:12.250Z"}}}})");
  EXPECT_EQ(w.event_time_ns, *ParseRfc3339("2024-03-06T13:30:12.250Z"));
  EXPECT_EQ(w.time_flags, 0);
  Event nx = ParseJ(R"({"EventTime":"2024-03-06 22:30:12","EventID":4625})");
  EXPECT_NE(nx.time_flags, kTimeFromReceipt);
  // A top-level timestamp still wins over the Windows key.
  Event both = ParseJ(
      R"({"@timestamp":"2026-11-26T00:00:00Z","TimeCreated":{"SystemTime":"2024-03-06T13:30:12Z"}})");
  EXPECT_EQ(both.event_time_ns, *ParseRfc3339("2026-11-26T00:00:00Z"));
}

TEST(JsonTest, SeverityNames) {
  EXPECT_EQ(SeverityFromName("EMERG"), 0);
  EXPECT_EQ(SeverityFromName("alert"), 1);
  EXPECT_EQ(SeverityFromName("critical"), 2);
  EXPECT_EQ(SeverityFromName("err"), 3);
  EXPECT_EQ(SeverityFromName("warn"), 4);
  EXPECT_EQ(SeverityFromName("notice"), 5);
  EXPECT_EQ(SeverityFromName("Info"), 6);
  EXPECT_EQ(SeverityFromName("debug"), 7);
  EXPECT_EQ(SeverityFromName("6"), 6);
  EXPECT_EQ(SeverityFromName("8"), -1);
  EXPECT_EQ(SeverityFromName("verbose"), -1);
  EXPECT_EQ(SeverityFromName(std::string(100, 'e')), -1);
  EXPECT_EQ(ParseJ(R"({"severity":3})").severity, 3);
}

TEST(JsonTest, RejectsNonObjectsAndInvalid) {
  Event e;
  for (const char* bad : {"", "[1,2]", "\"str\"", "42", "{", "{\"a\":}", "{\"a\":1} trailing",
                          "{\"a\":\"\xff\xfe\"}", "{'a':1}"}) {
    EXPECT_FALSE(ParseJson(bad, kReceived, {}, &e)) << bad;
  }
}

TEST(JsonTest, DepthIsBounded) {
  auto nested = [](std::size_t depth) {
    std::string s;
    for (std::size_t i = 0; i < depth; ++i) s += "{\"a\":";
    s += "1";
    for (std::size_t i = 0; i < depth; ++i) s += "}";
    return s;
  };
  Event ok = ParseJ(nested(kMaxJsonDepth));
  ASSERT_EQ(ok.fields.size(), 1u);
  EXPECT_EQ(ok.fields[0].key.size(), kMaxJsonDepth * 2 - 1);  // "a.a.....a"
  Event e;
  EXPECT_FALSE(ParseJson(nested(kMaxJsonDepth + 1), kReceived, {}, &e));
  EXPECT_FALSE(ParseJson(nested(10000), kReceived, {}, &e));
}

TEST(JsonTest, FieldCountIsBounded) {
  std::string s = "{\"a\":[";
  for (std::size_t i = 0; i <= kMaxJsonFields; ++i) s += i ? ",1" : "1";
  s += "]}";
  Event e;
  EXPECT_FALSE(ParseJson(s, kReceived, {}, &e));
  EXPECT_TRUE(e.fields.empty());
}

TEST(JsonTest, AppendJsonFieldsLeavesEventOnFailure) {
  Event e;
  e.Set("keep", "1");
  EXPECT_FALSE(AppendJsonFields("{\"x\":", &e));
  ASSERT_EQ(e.fields.size(), 1u);
  EXPECT_TRUE(AppendJsonFields(R"({"x":{"y":2}})", &e));
  EXPECT_EQ(*e.Get("x.y"), "2");
  EXPECT_EQ(*e.Get("keep"), "1");
}

}  // namespace
}  // namespace mamori::parsers
