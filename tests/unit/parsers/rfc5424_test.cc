#include <gtest/gtest.h>

#include "mamori/core/time_util.h"
#include "mamori/parsers/syslog.h"

namespace mamori::parsers {
namespace {

constexpr std::int64_t kReceived = 1'700'000'000'000'000'000;

Event Parse5424(std::string_view msg, const ParseContext& ctx = {}) {
  Event e;
  EXPECT_TRUE(ParseRfc5424(msg, kReceived, ctx, &e)) << msg;
  return e;
}

std::int64_t Utc(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

// RFC 5424 section 6.5, example 1 (with a real BOM).
TEST(Rfc5424Test, Example1WithBom) {
  Event e = Parse5424(
      "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
      "\xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8");
  EXPECT_EQ(e.format, "rfc5424");
  EXPECT_EQ(e.facility, 4);
  EXPECT_EQ(e.severity, 2);
  EXPECT_EQ(e.event_time_ns, Utc("2003-10-11T22:14:15.003Z"));
  EXPECT_EQ(e.time_flags, 0);
  EXPECT_EQ(e.host, "mymachine.example.com");
  EXPECT_EQ(e.app, "su");
  EXPECT_EQ(e.procid, "");
  EXPECT_EQ(e.msgid, "ID47");
  EXPECT_TRUE(e.fields.empty());
  EXPECT_EQ(e.message, "'su root' failed for lonvick on /dev/pts/8");
}

// Example 2: microseconds and a negative offset, no MSGID.
TEST(Rfc5424Test, Example2FractionAndOffset) {
  Event e = Parse5424(
      "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make "
      "the do-nuts.");
  EXPECT_EQ(e.facility, 20);
  EXPECT_EQ(e.severity, 5);
  EXPECT_EQ(e.event_time_ns, Utc("2003-08-24T12:14:15.000003Z"));
  EXPECT_EQ(e.host, "192.0.2.1");
  EXPECT_EQ(e.app, "myproc");
  EXPECT_EQ(e.procid, "8710");
  EXPECT_EQ(e.msgid, "");
  EXPECT_EQ(e.message, "%% It's time to make the do-nuts.");
}

// Examples 3 and 4: structured data with several elements, with and without a message.
TEST(Rfc5424Test, StructuredDataElements) {
  Event e = Parse5424(
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
      "[examplePriority@32473 class=\"high\"]");
  ASSERT_EQ(e.fields.size(), 4u);
  EXPECT_EQ(*e.Get("sd.exampleSDID@32473.iut"), "3");
  EXPECT_EQ(*e.Get("sd.exampleSDID@32473.eventSource"), "Application");
  EXPECT_EQ(*e.Get("sd.exampleSDID@32473.eventID"), "1011");
  EXPECT_EQ(*e.Get("sd.examplePriority@32473.class"), "high");
  EXPECT_EQ(e.message, "");
  EXPECT_EQ(e.Get("parse.error"), nullptr);

  Event m = Parse5424(
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\"] \xEF\xBB\xBF"
      "An application event log entry...");
  EXPECT_EQ(*m.Get("sd.exampleSDID@32473.iut"), "3");
  EXPECT_EQ(m.message, "An application event log entry...");
}

TEST(Rfc5424Test, SdEscapesAreDecoded) {
  Event e =
      Parse5424(R"(<13>1 - - - - - [x@1 a="q\"uote" b="back\\slash" c="br\]acket" d="keep\n"] m)");
  EXPECT_EQ(*e.Get("sd.x@1.a"), "q\"uote");
  EXPECT_EQ(*e.Get("sd.x@1.b"), "back\\slash");
  EXPECT_EQ(*e.Get("sd.x@1.c"), "br]acket");
  EXPECT_EQ(*e.Get("sd.x@1.d"), "keep\\n");  // only \" \\ \] are escapes
  EXPECT_EQ(e.message, "m");
}

TEST(Rfc5424Test, SdValueMayHoldBracketsAndSpaces) {
  Event e = Parse5424(R"(<13>1 - h a - - [id k="a ] [b" k2=""] msg)");
  EXPECT_EQ(*e.Get("sd.id.k"), "a ] [b");
  EXPECT_EQ(*e.Get("sd.id.k2"), "");
  EXPECT_EQ(e.message, "msg");
}

TEST(Rfc5424Test, NilValuesEverywhere) {
  Event e = Parse5424("<0>1 - - - - - -");
  EXPECT_EQ(e.facility, 0);
  EXPECT_EQ(e.severity, 0);
  EXPECT_EQ(e.event_time_ns, kReceived);
  EXPECT_EQ(e.time_flags, kTimeFromReceipt);
  EXPECT_EQ(e.host, "");
  EXPECT_EQ(e.app, "");
  EXPECT_EQ(e.procid, "");
  EXPECT_EQ(e.msgid, "");
  EXPECT_EQ(e.message, "");
}

TEST(Rfc5424Test, TimestampForms) {
  EXPECT_EQ(Parse5424("<13>1 2026-11-26T09:00:00+09:00 h a - - -").event_time_ns,
            Utc("2026-11-26T00:00:00Z"));
  EXPECT_EQ(Parse5424("<13>1 2026-11-26T00:00:00.123456789Z h a - - -").event_time_ns,
            Utc("2026-11-26T00:00:00.123456789Z"));
  EXPECT_EQ(Parse5424("<13>1 2026-11-26T00:00:00.5-00:30 h a - - -").event_time_ns,
            Utc("2026-11-26T00:30:00.5Z"));
  // An offset is mandatory in RFC 5424: without one the time is not trusted.
  Event no_offset = Parse5424("<13>1 2026-11-26T00:00:00 h a - - - x");
  EXPECT_EQ(no_offset.time_flags, kTimeFromReceipt);
  EXPECT_EQ(no_offset.event_time_ns, kReceived);
  EXPECT_EQ(no_offset.host, "h");
  EXPECT_EQ(no_offset.message, "x");
}

TEST(Rfc5424Test, JsonBodyFillsFields) {
  Event e = Parse5424(R"(<13>1 - h app - - - @cee:{"user":{"name":"taro"},"n":1})");
  EXPECT_EQ(e.message, R"(@cee:{"user":{"name":"taro"},"n":1})");
  EXPECT_EQ(*e.Get("user.name"), "taro");
  EXPECT_EQ(*e.Get("n"), "1");
  EXPECT_EQ(e.host, "h");  // the header wins
}

TEST(Rfc5424Test, MalformedSdIsBestEffort) {
  Event e = Parse5424(R"(<13>1 - h a - - [id k="v"][broken k=v] msg)");
  EXPECT_EQ(*e.Get("sd.id.k"), "v");
  EXPECT_NE(e.Get("parse.error"), nullptr);
  Event no_sd = Parse5424("<13>1 - h a - - plain message");
  EXPECT_EQ(no_sd.message, "plain message");
}

TEST(Rfc5424Test, RejectsNonRfc5424) {
  Event e;
  EXPECT_FALSE(ParseRfc5424("<13>Oct 11 22:14:15 host su: x", kReceived, {}, &e));
  EXPECT_FALSE(ParseRfc5424("<13>2 - - - - - -", kReceived, {}, &e));
  EXPECT_FALSE(ParseRfc5424("13>1 - - - - - -", kReceived, {}, &e));
  EXPECT_FALSE(ParseRfc5424("<192>1 - - - - - -", kReceived, {}, &e));
  EXPECT_FALSE(ParseRfc5424("", kReceived, {}, &e));
}

}  // namespace
}  // namespace mamori::parsers
