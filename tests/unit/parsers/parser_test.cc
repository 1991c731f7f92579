#include "mamori/parsers/parser.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <random>
#include <string>

#include "mamori/core/time_util.h"

namespace mamori::parsers {
namespace {

std::string HeaderFormat(const mamori::Event& e) {
  const std::string* f = e.Get("log.syslog.format");
  return f != nullptr ? *f : e.format;
}

const std::int64_t kReceived = UnixNsFromUtc(2026, 6, 15, 12, 0, 0);

const std::string k5424 =
    "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 99 ID47 "
    "[exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"lication\"] \xEF\xBB\xBF"
    "An entry";
const std::string k3164 =
    "<38>Mar 27 19:06:53 source_server sshd(pam_unix)[12750]: session opened for user foo";
const std::string kJson = R"({"host":"h","message":"m","a":{"b":[1,2]}})";

Event ParseAuto(const std::string& bytes, std::string_view format = "auto") {
  ParseContext ctx;
  ctx.format = format;
  RawRecord raw;
  raw.bytes = bytes;
  raw.received_ns = kReceived;
  Event e = Parse(raw, ctx);
  EXPECT_EQ(raw.bytes, bytes);
  return e;
}

void ExpectUnparsed(const Event& e, const std::string& bytes) {
  EXPECT_EQ(e.format, "unparsed");
  EXPECT_EQ(e.message, bytes);
  EXPECT_EQ(e.host, "");
  EXPECT_EQ(e.app, "");
  EXPECT_EQ(e.event_time_ns, kReceived);
  EXPECT_EQ(e.time_flags, kTimeFromReceipt);
  EXPECT_EQ(e.info_class, InfoClass::kIII);
}

TEST(ParserTest, DetectsEachFormat) {
  EXPECT_EQ(ParseAuto(k5424).format, "rfc5424");
  EXPECT_EQ(HeaderFormat(ParseAuto(k3164)), "rfc3164");
  EXPECT_EQ(ParseAuto(kJson).format, "json");
  EXPECT_EQ(ParseAuto("  " + kJson).format, "json");
  EXPECT_EQ(ParseAuto("Mar 27 19:06:53 host app: no PRI").format, "rfc3164");
  EXPECT_EQ(ParseAuto("<13>no timestamp at all").format, "rfc3164");
  ExpectUnparsed(ParseAuto("hello world"), "hello world");
  ExpectUnparsed(ParseAuto("{broken json"), "{broken json");
  ExpectUnparsed(ParseAuto(""), "");
}

TEST(ParserTest, DetectedEventsCarryTheirFields) {
  Event a = ParseAuto(k5424);
  EXPECT_EQ(a.procid, "99");
  EXPECT_EQ(*a.Get("sd.exampleSDID@32473.eventSource"), "App\"lication");
  EXPECT_EQ(a.message, "An entry");
  Event j = ParseAuto(kJson);
  EXPECT_EQ(j.host, "h");
  EXPECT_EQ(*j.Get("a.b.1"), "2");
  EXPECT_EQ(a.info_class, InfoClass::kIII);
}

TEST(ParserTest, PinnedFormatRunsOnlyThatParser) {
  EXPECT_EQ(ParseAuto(k5424, "rfc5424").format, "rfc5424");
  ExpectUnparsed(ParseAuto(k3164, "rfc5424"), k3164);
  ExpectUnparsed(ParseAuto(kJson, "rfc3164"), kJson);
  ExpectUnparsed(ParseAuto(k3164, "json"), k3164);
  EXPECT_EQ(ParseAuto(kJson, "json").format, "json");
  // A 5424 message pinned to 3164 is read as BSD syslog with no timestamp ("1" is the TAG).
  Event e = ParseAuto(k5424, "rfc3164");
  EXPECT_EQ(e.format, "rfc3164");
  EXPECT_EQ(e.app, "1");
  ExpectUnparsed(ParseAuto(k3164, "no-such-format"), k3164);
}

TEST(ParserTest, FormatNames) {
  const auto& names = FormatNames();
  EXPECT_EQ(names, (std::vector<std::string_view>{
                       "rfc5424",     "rfc3164",    "json",      "cef",         "leef",
                       "fortigate",   "kv",         "cisco_asa", "panos",       "checkpoint",
                       "iptables",    "pfsense",    "sshd",      "sudo",        "su",
                       "pam",         "linux_user", "auditd",    "http_access", "apache_error",
                       "nginx_error", "snare",      "windows",   "unparsed"}));
  for (auto n : names) EXPECT_EQ(IsKnownFormat(n), n != "unparsed") << n;
  EXPECT_TRUE(IsKnownFormat("auto"));
  EXPECT_TRUE(IsKnownFormat("cef"));
  EXPECT_FALSE(IsKnownFormat("no-such-format"));
  EXPECT_FALSE(IsKnownFormat(""));
}

// Every prefix of a valid message parses without crashing, keeps the raw bytes, and names a
// format; prefixes that still hold the header keep what the header said.
TEST(ParserTest, EveryPrefixOfValidMessages) {
  for (const std::string* full : {&k5424, &k3164, &kJson}) {
    for (std::size_t n = 0; n <= full->size(); ++n) {
      std::string prefix = full->substr(0, n);
      Event e = ParseAuto(prefix);
      auto names = FormatNames();
      EXPECT_NE(std::find(names.begin(), names.end(), e.format), names.end()) << prefix;
      if (e.format == "unparsed") {
        EXPECT_EQ(e.message, prefix);
      }
      if (n >= 7 && full == &k5424) {
        EXPECT_EQ(e.format, "rfc5424") << prefix;
      }
      if (n >= 4 && full == &k3164) {
        EXPECT_EQ(HeaderFormat(e), "rfc3164") << prefix;
      }
      if (full == &k5424 && n >= 32 + 22) {
        EXPECT_EQ(e.host.substr(0, 5), "mymac") << prefix;
      }
    }
  }
}

TEST(ParserTest, RandomBinaryNeverCrashes) {
  std::mt19937_64 rng(20261126);
  std::uniform_int_distribution<int> len(0, 300), byte(0, 255);
  const std::string alphabet = "<>1 -[]=\"\\:{}.0123456789TZ+MarJan@";
  std::vector<int> formats(FormatNames().size());
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s(static_cast<std::size_t>(len(rng)), '\0');
    bool structured = iter % 2 == 1;  // half: bytes from syslog's own alphabet
    for (char& c : s) {
      c = structured ? alphabet[static_cast<std::size_t>(byte(rng)) % alphabet.size()]
                     : static_cast<char>(byte(rng));
    }
    if (iter % 4 == 1) s = "<13>1 " + s;
    if (iter % 4 == 3) s = "<13>Mar  6 16:57:54 " + s;
    Event e = ParseAuto(s);
    const auto& names = FormatNames();
    auto it = std::find(names.begin(), names.end(), e.format);
    ASSERT_NE(it, names.end()) << e.format;
    ++formats[it - names.begin()];
    if (e.format == "unparsed") {
      ASSERT_EQ(e.message, s);
    }
  }
  EXPECT_GT(formats[0], 0);  // the prefixed inputs really reached the syslog parsers
  EXPECT_GT(formats[1], 0);
  EXPECT_GT(formats.back(), 0);  // "unparsed"
}

TEST(ParserTest, InvalidUtf8AndNulsAreKeptVerbatim) {
  std::string bad = "<13>Mar  6 16:57:54 host app: \xC3\x28 \xFF\x00 end";
  bad += std::string("\0tail", 5);
  Event e = ParseAuto(bad);
  EXPECT_EQ(e.format, "rfc3164");
  EXPECT_EQ(e.message, bad.substr(bad.find("\xC3")));
  std::string nul_only(16, '\0');
  ExpectUnparsed(ParseAuto(nul_only), nul_only);
  Event j = ParseAuto("{\"a\":\"\xFF\"}");
  EXPECT_EQ(j.format, "unparsed");  // JSON must be UTF-8
}

TEST(ParserTest, OneMebibyteLine) {
  std::string big = "<13>1 2026-01-01T00:00:00Z h app - - - " + std::string(1 << 20, 'x');
  Event e = ParseAuto(big);
  EXPECT_EQ(e.format, "rfc5424");
  EXPECT_EQ(e.message.size(), std::size_t{1} << 20);
  std::string big3164 = "<13>Jan  1 00:00:00 h app: " + std::string(1 << 20, 'y');
  EXPECT_EQ(ParseAuto(big3164).message.size(), std::size_t{1} << 20);
  std::string big_json = "{\"message\":\"" + std::string(1 << 20, 'z') + "\"}";
  EXPECT_EQ(ParseAuto(big_json).message.size(), std::size_t{1} << 20);
  std::string junk(1 << 20, '\xAB');
  ExpectUnparsed(ParseAuto(junk), junk);
}

TEST(ParserTest, TenThousandDeepNestingFallsBack) {
  std::string deep(10000, '[');
  deep = "{\"a\":" + deep + std::string(10000, ']') + "}";
  ExpectUnparsed(ParseAuto(deep), deep);
  std::string deep_obj;
  for (int i = 0; i < 10000; ++i) deep_obj += "{\"a\":";
  ExpectUnparsed(ParseAuto(deep_obj), deep_obj);  // also unterminated
  // Deep JSON after a syslog header: header kept, no JSON fields.
  Event e = ParseAuto("<13>1 - h app - - - " + deep);
  EXPECT_EQ(e.format, "rfc5424");
  EXPECT_TRUE(e.fields.empty());
}

TEST(ParserTest, StatsCountPerFormat) {
  prometheus::Registry registry;
  ParseStats stats(registry);
  // Every series exists before the first event.
  auto families = registry.Collect();
  ASSERT_EQ(families.size(), 2u);
  auto value = [&](const std::string& family, const std::string& format) {
    for (const auto& f : registry.Collect()) {
      if (f.name != family) continue;
      for (const auto& m : f.metric) {
        bool match =
            format.empty() ? m.label.empty() : (m.label.size() == 1 && m.label[0].value == format);
        if (match) return m.counter.value;
      }
    }
    return -1.0;
  };
  for (auto n : FormatNames()) EXPECT_EQ(value("mamori_events_parsed_total", std::string(n)), 0);
  EXPECT_EQ(value("mamori_events_unparsed_total", ""), 0);

  stats.Count(ParseAuto(k5424));
  stats.Count(ParseAuto(k3164));
  stats.Count(ParseAuto(k3164));
  stats.Count(ParseAuto(kJson));
  stats.Count(ParseAuto("garbage"));
  EXPECT_EQ(value("mamori_events_parsed_total", "rfc5424"), 1);
  // k3164 is an sshd line: counted under the body parser that produced it.
  EXPECT_EQ(value("mamori_events_parsed_total", "sshd"), 2);
  EXPECT_EQ(value("mamori_events_parsed_total", "json"), 1);
  EXPECT_EQ(value("mamori_events_parsed_total", "unparsed"), 1);
  EXPECT_EQ(value("mamori_events_unparsed_total", ""), 1);

  // A tally (the collector counts a whole read into one) publishes the same counts at once; an
  // event of an unknown format (a parser bug) counts as unparsed.
  ParseStats::Tally tally;
  stats.Count(ParseAuto(k5424), &tally);
  stats.Count(ParseAuto(k3164), &tally);
  stats.Count(ParseAuto("garbage"), &tally);
  Event odd;
  odd.format = "no-such-format";
  stats.Count(odd, &tally);
  EXPECT_EQ(value("mamori_events_parsed_total", "rfc5424"), 1) << "not yet published";
  stats.Publish(&tally);
  EXPECT_EQ(value("mamori_events_parsed_total", "rfc5424"), 2);
  EXPECT_EQ(value("mamori_events_parsed_total", "sshd"), 3);
  EXPECT_EQ(value("mamori_events_parsed_total", "unparsed"), 3);
  EXPECT_EQ(value("mamori_events_unparsed_total", ""), 3);
  stats.Publish(&tally);  // emptied by the first
  EXPECT_EQ(value("mamori_events_unparsed_total", ""), 3);
}

}  // namespace
}  // namespace mamori::parsers
