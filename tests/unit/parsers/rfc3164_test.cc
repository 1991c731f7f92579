#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "mamori/core/time_util.h"
#include "mamori/parsers/syslog.h"
#include "xorshift.h"

namespace mamori::parsers {
namespace {

const std::int64_t kJune2026 = UnixNsFromUtc(2026, 6, 15, 12, 0, 0);

Event Parse3164(std::string_view msg, std::int64_t received = kJune2026, ParseContext ctx = {}) {
  Event e;
  EXPECT_TRUE(ParseRfc3164(msg, received, ctx, &e)) << msg;
  return e;
}

TEST(Rfc3164Test, RfcExample) {
  Event e =
      Parse3164("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
  EXPECT_EQ(e.format, "rfc3164");
  EXPECT_EQ(e.facility, 4);
  EXPECT_EQ(e.severity, 2);
  // Of 2025, 2026 and 2027, Oct 11 2026 is the closest to the receive time (June 15 2026).
  EXPECT_EQ(e.event_time_ns, UnixNsFromUtc(2026, 10, 11, 22, 14, 15));
  EXPECT_EQ(e.time_flags, kTimeYearInferred | kTimeZoneInferred);
  EXPECT_EQ(e.host, "mymachine");
  EXPECT_EQ(e.app, "su");
  EXPECT_EQ(e.procid, "");
  EXPECT_EQ(e.message, "'su root' failed for lonvick on /dev/pts/8");
}

TEST(Rfc3164Test, TagWithPid) {
  Event e = Parse3164("<38>Mar 27 19:06:53 source_server sshd(pam_unix)[12750]: session opened");
  EXPECT_EQ(e.host, "source_server");
  EXPECT_EQ(e.app, "sshd(pam_unix)");
  EXPECT_EQ(e.procid, "12750");
  EXPECT_EQ(e.message, "session opened");
}

TEST(Rfc3164Test, TagVariants) {
  Event no_colon = Parse3164("<13>Mar  6 16:57:54 host tag message text");
  EXPECT_EQ(no_colon.app, "tag");
  EXPECT_EQ(no_colon.message, "message text");
  Event pid_no_colon = Parse3164("<13>Mar  6 16:57:54 host app[42] message");
  EXPECT_EQ(pid_no_colon.app, "app");
  EXPECT_EQ(pid_no_colon.procid, "42");
  EXPECT_EQ(pid_no_colon.message, "message");
  Event no_space = Parse3164("<13>Mar  6 16:57:54 host app:message");
  EXPECT_EQ(no_space.app, "app");
  EXPECT_EQ(no_space.message, "message");
}

TEST(Rfc3164Test, MissingHostname) {
  // What a local /dev/log sender writes: no HOSTNAME; the TAG ends with ':' or holds '['.
  Event a = Parse3164("<13>Mar  6 16:57:54 sshd[123]: Accepted publickey");
  EXPECT_EQ(a.host, "");
  EXPECT_EQ(a.app, "sshd");
  EXPECT_EQ(a.procid, "123");
  EXPECT_EQ(a.message, "Accepted publickey");
  Event b = Parse3164("<13>Mar  6 16:57:54 cron: job done");
  EXPECT_EQ(b.host, "");
  EXPECT_EQ(b.app, "cron");
}

TEST(Rfc3164Test, MissingPriAndMissingTimestamp) {
  Event no_pri = Parse3164("Feb 18 16:01:59 serverX -- MARK --");
  EXPECT_EQ(no_pri.facility, -1);
  EXPECT_EQ(no_pri.severity, -1);
  EXPECT_EQ(no_pri.host, "serverX");
  EXPECT_EQ(no_pri.app, "--");
  EXPECT_EQ(no_pri.message, "MARK --");

  Event no_ts = Parse3164("<27>xapi: [error|xen3] Connection to master died.", 77);
  EXPECT_EQ(no_ts.event_time_ns, 77);
  EXPECT_EQ(no_ts.time_flags, kTimeFromReceipt);
  EXPECT_EQ(no_ts.host, "");
  EXPECT_EQ(no_ts.app, "xapi");
  EXPECT_EQ(no_ts.message, "[error|xen3] Connection to master died.");

  Event e;
  EXPECT_FALSE(ParseRfc3164("just some text", kJune2026, {}, &e));
  EXPECT_FALSE(ParseRfc3164("", kJune2026, {}, &e));
}

TEST(Rfc3164Test, DateVariants) {
  const std::int64_t want = UnixNsFromUtc(2026, 3, 7, 19, 6, 53);
  for (const char* m :
       {"<38>Mar  7 19:06:53 example tag: x", "<38>Mar 7 19:06:53 example tag: x",
        "<38> Mar  7 19:06:53 example tag: x", "<38>Mar 07 19:06:53 example tag: x",
        "<38>MAR  7 19:06:53 example tag: x", "<38>Mar 7 19:06:53: example tag: x"}) {
    Event e = Parse3164(m);
    EXPECT_EQ(e.event_time_ns, want) << m;
    EXPECT_EQ(e.host, "example") << m;
    EXPECT_EQ(e.app, "tag") << m;
    EXPECT_EQ(e.message, "x") << m;
  }
}

TEST(Rfc3164Test, ExplicitYearIsNotInferred) {
  for (const char* m :
       {"<38>Mar 7 2008 19:06:53 example tag: x", "<38>Mar 7 2008 19:06:53: example tag: x",
        "<38>Mar  7 19:06:53 2008 example tag: x"}) {
    Event e = Parse3164(m);
    EXPECT_EQ(e.event_time_ns, UnixNsFromUtc(2008, 3, 7, 19, 6, 53)) << m;
    EXPECT_EQ(e.time_flags, kTimeZoneInferred) << m;
    EXPECT_EQ(e.host, "example") << m;
  }
}

TEST(Rfc3164Test, FractionalSeconds) {
  Event e = Parse3164("<13>Mar  7 19:06:53.250 host app: x");
  EXPECT_EQ(e.event_time_ns, UnixNsFromUtc(2026, 3, 7, 19, 6, 53, 250'000'000));
}

TEST(Rfc3164Test, YearInferenceAcrossNewYear) {
  // Received just after midnight on Jan 1 2027 (UTC): a "Dec 31" stamp is from 2026.
  const std::int64_t jan1 = UnixNsFromUtc(2027, 1, 1, 0, 0, 5);
  Event dec = Parse3164("<13>Dec 31 23:59:58 host app: x", jan1);
  EXPECT_EQ(dec.event_time_ns, UnixNsFromUtc(2026, 12, 31, 23, 59, 58));
  EXPECT_TRUE(dec.time_flags & kTimeYearInferred);
  // Received on Dec 31 2026 from a sender whose clock is a little ahead: "Jan 1" is 2027.
  const std::int64_t dec31 = UnixNsFromUtc(2026, 12, 31, 23, 59, 50);
  Event jan = Parse3164("<13>Jan  1 00:00:03 host app: x", dec31);
  EXPECT_EQ(jan.event_time_ns, UnixNsFromUtc(2027, 1, 1, 0, 0, 3));
  // Mid-year, the same year.
  Event mid = Parse3164("<13>Jun 14 15:16:01 host app: x", kJune2026);
  EXPECT_EQ(mid.event_time_ns, UnixNsFromUtc(2026, 6, 14, 15, 16, 1));
}

TEST(Rfc3164Test, Feb29TakesALeapYear) {
  const std::int64_t received = UnixNsFromUtc(2029, 1, 10, 0, 0, 0);
  Event e = Parse3164("<13>Feb 29 10:00:00 host app: x", received);
  EXPECT_EQ(e.event_time_ns, UnixNsFromUtc(2028, 2, 29, 10, 0, 0));
}

TEST(Rfc3164Test, ImpossibleDateFallsBackToReceipt) {
  Event e = Parse3164("<13>Feb 30 10:00:00 host app: x", 1234);
  EXPECT_EQ(e.event_time_ns, 1234);
  EXPECT_EQ(e.time_flags, kTimeFromReceipt);
  EXPECT_EQ(e.host, "host");  // the header is still read
  EXPECT_EQ(e.app, "app");
  EXPECT_EQ(e.message, "x");
}

TEST(Rfc3164Test, ListenerZoneApplied) {
  ParseContext jst;
  jst.utc_offset_minutes = 9 * 60;
  Event e = Parse3164("<13>Jun 15 09:00:00 host app: x", kJune2026, jst);
  EXPECT_EQ(e.event_time_ns, UnixNsFromUtc(2026, 6, 15, 0, 0, 0));
  EXPECT_EQ(e.time_flags, kTimeYearInferred | kTimeZoneInferred);
}

TEST(Rfc3164Test, Rfc3339TimestampInside3164) {
  Event z = Parse3164("<14>2010-08-30T23:00:05Z X4711 app: hello");
  EXPECT_EQ(z.event_time_ns, UnixNsFromUtc(2010, 8, 30, 23, 0, 5));
  EXPECT_EQ(z.time_flags, 0);
  EXPECT_EQ(z.host, "X4711");
  Event off = Parse3164("<14>2010-08-30T23:00:05.5+0200 X4711 app: hello");
  EXPECT_EQ(off.event_time_ns, UnixNsFromUtc(2010, 8, 30, 21, 0, 5, 500'000'000));
  ParseContext jst;
  jst.utc_offset_minutes = 540;
  Event local = Parse3164("<14>2010-08-30T09:00:00 X4711 app: hello", kJune2026, jst);
  EXPECT_EQ(local.event_time_ns, UnixNsFromUtc(2010, 8, 30, 0, 0, 0));
  EXPECT_EQ(local.time_flags, kTimeZoneInferred);
}

TEST(Rfc3164Test, Ipv6Hostname) {
  Event e = Parse3164("<13>Mar  6 16:57:54 2001:db8::1 app: x");
  EXPECT_EQ(e.host, "2001:db8::1");
  EXPECT_EQ(e.app, "app");
  EXPECT_EQ(e.event_time_ns, UnixNsFromUtc(2026, 3, 6, 16, 57, 54));
}

TEST(Rfc3164Test, HeaderOnly) {
  Event e = Parse3164("<14>Aug 30 23:00:05 X4711");
  EXPECT_EQ(e.host, "X4711");
  EXPECT_EQ(e.app, "");
  EXPECT_EQ(e.message, "");
  Event bare = Parse3164("<14>Aug 30 23:00:05");
  EXPECT_EQ(bare.host, "");
}

TEST(Rfc3164Test, JsonAfterTag) {
  Event e = Parse3164(R"(<13>Mar  6 16:57:54 web nginx: {"status":404,"req":{"path":"/x"}})");
  EXPECT_EQ(e.app, "nginx");
  EXPECT_EQ(e.message, R"({"status":404,"req":{"path":"/x"}})");
  EXPECT_EQ(*e.Get("status"), "404");
  EXPECT_EQ(*e.Get("req.path"), "/x");
  Event bad = Parse3164("<13>Mar  6 16:57:54 web nginx: {not json");
  EXPECT_TRUE(bad.fields.empty());
  EXPECT_EQ(bad.message, "{not json");
}

// The HOSTNAME rule (host name / IPv4 characters, or an IPv6 address: hex digits, '.' and at
// least two ':', not ending in ':'), written out plainly: the parser's table-driven check must
// agree with it on random words.
bool ReferenceLooksLikeHost(std::string_view tok) {
  if (tok.empty()) return false;
  bool plain = true, v6 = true;
  int colons = 0;
  for (char c : tok) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-' || c == '_')) {
      plain = false;
    }
    if (c == ':') {
      ++colons;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                 c == '.')) {
      v6 = false;
    }
  }
  return plain || (v6 && colons >= 2 && tok.back() != ':');
}

TEST(Rfc3164Test, HostnameRuleOnRandomWords) {
  const std::string alphabet = "aFgZ09.-_:[]/@\x80\xff";
  testing::XorShift64 next(0xDEADBEEFCAFEF00Dull);
  for (int round = 0; round < 20000; ++round) {
    std::string tok;
    const bool hexish = next() % 2 == 0;  // IPv6-like words: hex digits, '.' and ':'
    for (std::size_t n = 1 + next() % 20; n > 0; --n) {
      tok.push_back(hexish ? "0a9F.:"[next() % 6] : alphabet[next() % alphabet.size()]);
    }
    const std::string msg = "<13>Nov 27 02:10:00 " + tok + " sshd[1]: hello";
    Event e;
    ASSERT_TRUE(ParseRfc3164(msg, kJune2026, {}, &e)) << msg;
    EXPECT_EQ(e.host, ReferenceLooksLikeHost(tok) ? tok : "") << msg;
  }
}

}  // namespace
}  // namespace mamori::parsers
