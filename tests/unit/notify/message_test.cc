#include "mamori/notify/message.h"

#include <gtest/gtest.h>

namespace mamori::notify {
namespace {

incidents::Incident SampleIncident() {
  incidents::Incident inc;
  inc.id = 7;
  inc.severity = incidents::Severity::kHigh;
  inc.title = "SSH password brute force";
  inc.rule_id = "ssh-brute-force";
  inc.group_key = "source.ip=203.0.113.7";
  inc.first_seen_ns = 1'700'000'000'000'000'000;
  inc.last_seen_ns = 1'700'000'060'000'000'000;
  inc.count = 1;
  inc.evidence_seqs = {12, 13, 14, 15, 16};
  inc.evidence_count = 5;
  inc.tags = {"attack.t1110", "policy.6.6"};
  inc.summary = "SSH brute force against web-1: 5 failures within 2m (203.0.113.7)";
  inc.last_summary = inc.summary;
  inc.fields = {{"source.ip", "203.0.113.7"}};
  inc.timeline.push_back({});
  return inc;
}

TEST(HmacTest, Rfc4231KnownAnswers) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 1: key 0x0b x 20, "Hi There".
  EXPECT_EQ(HmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(SmtpDataTest, DotStuffingLineEndsAndTerminator) {
  EXPECT_EQ(SmtpData("hello\n.hidden\n..two\nend"), "hello\r\n..hidden\r\n...two\r\nend\r\n.\r\n");
  // A lone "." line must not end the mail early.
  EXPECT_EQ(SmtpData(".\n"), "..\r\n.\r\n");
  // CRLF and lone CR are both line ends; text ending in a newline gets no blank line.
  EXPECT_EQ(SmtpData("a\r\nb\rc\r\n"), "a\r\nb\r\nc\r\n.\r\n");
  EXPECT_EQ(SmtpData(""), "\r\n.\r\n");
  // Lines longer than 998 octets are split (RFC 5321 4.5.3.1.6).
  std::string data = SmtpData(std::string(2000, 'x'));
  EXPECT_EQ(data.find("\r\n"), 998u);
  // A split that starts a line with "." stuffs it too.
  data = SmtpData(std::string(998, 'x') + ".y");
  EXPECT_NE(data.find("\r\n..y\r\n"), std::string::npos);
}

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64(std::string("\0user\0pass", 10)), "AHVzZXIAcGFzcw==");
}

TEST(RetryDelayTest, DoublesFromInitialToTheCapWithJitterBelow) {
  NotificationsConfig c;  // 1 s doubling to 5 min, 20 % jitter
  std::vector<std::int64_t> got;
  for (std::uint32_t a = 1; a <= 11; ++a) got.push_back(RetryDelayMs(c, a, 0.0));
  EXPECT_EQ(got, (std::vector<std::int64_t>{1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000,
                                            256000, 300000, 300000}));
  EXPECT_EQ(RetryDelayMs(c, 1'000'000, 0.0), 300000);  // no overflow for huge attempts
  EXPECT_EQ(RetryDelayMs(c, 1, 1.0), 800);             // at most 20 % less
  EXPECT_EQ(RetryDelayMs(c, 3, 0.5), 3600);
  c.retry_jitter_percent = 0;
  EXPECT_EQ(RetryDelayMs(c, 3, 0.99), 4000);
  c.retry_initial_ms = 100;
  c.retry_max_ms = 500;
  EXPECT_EQ(RetryDelayMs(c, 4, 0.0), 500);
}

TEST(RoutingTest, MinimumSeverityAndAnyOfTags) {
  NotificationChannelConfig ch;
  const std::vector<std::string> tags = {"attack.t1110", "policy.6.6"};
  EXPECT_TRUE(Routes(ch, incidents::Severity::kInfo, {}));
  ch.min_severity = 3;  // high
  EXPECT_FALSE(Routes(ch, incidents::Severity::kMedium, tags));
  EXPECT_TRUE(Routes(ch, incidents::Severity::kHigh, tags));
  EXPECT_TRUE(Routes(ch, incidents::Severity::kCritical, tags));
  ch.tags = {"policy.7.2", "policy.6.6"};
  EXPECT_TRUE(Routes(ch, incidents::Severity::kHigh, tags));
  ch.tags = {"policy.7.2"};
  EXPECT_FALSE(Routes(ch, incidents::Severity::kCritical, tags));
  EXPECT_FALSE(Routes(ch, incidents::Severity::kCritical, {}));
}

TEST(ThrottleTest, CreationsAlwaysUpdatesOncePerWindowPerKey) {
  const std::int64_t s = 1'000'000'000;
  Throttle t(60 * s);
  EXPECT_TRUE(t.Allow("r", "ip=1", Kind::kCreated, 0));
  EXPECT_FALSE(t.Allow("r", "ip=1", Kind::kUpdated, 10 * s));
  EXPECT_FALSE(t.Allow("r", "ip=1", Kind::kReopened, 59 * s));
  EXPECT_TRUE(t.Allow("r", "ip=2", Kind::kUpdated, 59 * s));   // another key
  EXPECT_TRUE(t.Allow("r2", "ip=1", Kind::kUpdated, 59 * s));  // another rule
  EXPECT_TRUE(t.Allow("r", "ip=1", Kind::kUpdated, 60 * s));   // window over
  EXPECT_FALSE(t.Allow("r", "ip=1", Kind::kUpdated, 61 * s));
  EXPECT_TRUE(t.Allow("r", "ip=1", Kind::kCreated, 62 * s));  // a new incident of the key
  EXPECT_FALSE(t.Allow("r", "ip=1", Kind::kUpdated, 63 * s));
  // Keys are not confused by separators inside them.
  Throttle u(60 * s);
  EXPECT_TRUE(u.Allow("a",
                      "b\x01"
                      "c",
                      Kind::kCreated, 0));
  EXPECT_TRUE(
      u.Allow("a\x01"
              "b",
              "c", Kind::kUpdated, 1));
}

TEST(ThrottleTest, PrunesOldKeys) {
  const std::int64_t s = 1'000'000'000;
  Throttle t(s);
  for (int i = 0; i < 2000; ++i) t.Allow("r", std::to_string(i), Kind::kCreated, 0);
  EXPECT_EQ(t.size(), 2000u);
  t.Allow("r", "late", Kind::kCreated, 10 * s);
  EXPECT_EQ(t.size(), 1u);
}

TEST(NotificationJsonTest, IncidentWithoutTimelineAndLink) {
  auto j = NotificationJson("abc-42", Kind::kCreated, 1'700'000'100'000'000'000, SampleIncident(),
                            "https://mamori.example:8514/");
  EXPECT_EQ(j["id"], "abc-42");
  EXPECT_EQ(j["kind"], "created");
  EXPECT_EQ(j["incident"]["id"], 7);
  EXPECT_EQ(j["incident"]["rule_id"], "ssh-brute-force");
  EXPECT_FALSE(j["incident"].contains("timeline"));
  EXPECT_EQ(j["link"], "https://mamori.example:8514/api/v1/incident?id=7");
  EXPECT_FALSE(NotificationJson("abc-1", Kind::kUpdated, 0, SampleIncident(), "").contains("link"));
}

TEST(MailTextTest, ReadableBodyAndSafeHeaders) {
  incidents::Incident inc = SampleIncident();
  inc.title = "Evil\r\nBcc: victim@example.com";
  auto j = NotificationJson("abc-42", Kind::kReopened, 0, inc, "http://m:1");
  std::string m = MailText(j, "mamori@city.example", {"a@city.example", "b@city.example"}, "h1");
  EXPECT_NE(m.find("To: a@city.example, b@city.example\n"), std::string::npos);
  EXPECT_NE(m.find("Subject: [mamori] HIGH incident 7 reopened: Evil  Bcc: victim@example.com\n"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("\nBcc:"), std::string::npos);
  EXPECT_NE(m.find("X-Mamori-Notification-Id: abc-42\n"), std::string::npos);
  EXPECT_NE(m.find("Rule:        ssh-brute-force"), std::string::npos);
  EXPECT_NE(m.find("Severity:    high"), std::string::npos);
  EXPECT_NE(m.find("Group:       source.ip=203.0.113.7"), std::string::npos);
  EXPECT_NE(m.find("First event: 2023-11-14T22:13:20"), std::string::npos) << m;
  EXPECT_NE(m.find("12, 13, 14, 15, 16"), std::string::npos);
  EXPECT_NE(m.find("--seq 12,13,14,15,16\n"), std::string::npos) << m;
  EXPECT_NE(m.find("Incident: http://m:1/api/v1/incident?id=7"), std::string::npos);
}

TEST(SyslogLineTest, Rfc5424WithStructuredData) {
  incidents::Incident inc = SampleIncident();
  inc.group_key = "k=\"q\"]\\";
  auto j = NotificationJson("abc-42", Kind::kCreated, 1'700'000'100'000'000'000, inc, "");
  std::string line = SyslogLine(j, "mamori-1");
  EXPECT_EQ(line.rfind("<131>1 2023-11-14T22:15:00Z ", 0), 0u) << line;
  EXPECT_NE(line.find(" mamori-1 mamori - incident [mamori@32473 id=\"abc-42\" incident=\"7\" "
                      "rule=\"ssh-brute-force\" severity=\"high\" kind=\"created\" "
                      "group=\"k=\\\"q\\\"\\]\\\\\"] SSH password brute force: SSH brute"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
  // RFC 5424 allows at most 6 fraction digits.
  j["time"] = "2026-11-27T02:24:16.327989219Z";
  EXPECT_EQ(SyslogLine(j, "h").rfind("<131>1 2026-11-27T02:24:16.327989Z h ", 0), 0u);
}

}  // namespace
}  // namespace mamori::notify
