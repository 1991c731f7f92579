// The channels against receivers that misbehave: garbage, errors, a connection closed early, a
// server that never answers. Each attempt must fail with a clear error within the channel's
// timeout (so the entry stays pending and is retried), never succeed, crash or hang. A receiver
// that answers properly is the positive control. Real loopback sockets, no mocks.
#include "mamori/notify/channels.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace mamori::notify {
namespace {

// A one-connection TCP server on 127.0.0.1 (ephemeral port). It accepts one connection,
// optionally reads what the client sends for `read_ms`, writes `reply` (in order, with the
// greeting first for SMTP: `greeting`), then either closes or stays silent until the client
// goes away.
class ScriptedServer {
 public:
  ScriptedServer(std::string greeting, std::string reply, bool silent = false)
      : greeting_(std::move(greeting)), reply_(std::move(reply)), silent_(silent) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    done_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  void Serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    timeval tv{0, 200'000};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (!greeting_.empty()) (void)::send(c, greeting_.data(), greeting_.size(), MSG_NOSIGNAL);
    char buf[4096];
    (void)::recv(c, buf, sizeof(buf), 0);  // the request (or EHLO), or a 200 ms wait
    if (!reply_.empty()) (void)::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    while (silent_ && !done_) {
      if (::recv(c, buf, sizeof(buf), 0) == 0) break;  // the client gave up and closed
    }
    ::close(c);
  }

  std::string greeting_, reply_;
  bool silent_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

Entry TestEntry() {
  Entry e;
  e.id = 7;
  e.channel = "test";
  e.incident_id = 3;
  e.payload = R"({"v":1,"incident":{"id":3}})";
  return e;
}

NotificationChannelConfig Channel(NotificationChannelConfig::Type type, std::string url) {
  NotificationChannelConfig c;
  c.name = "test";
  c.type = type;
  c.url = std::move(url);
  c.timeout_ms = 1000;
  c.mail_from = "mamori@example.org";
  c.mail_to = {"csirt@example.org"};
  return c;
}

// Sends once; returns the status and checks that it came back within the timeout (+ slack).
Status SendOnce(const NotificationChannelConfig& c) {
  std::atomic<bool> stop{false};
  auto sender = MakeSender(c, &stop);
  const auto start = std::chrono::steady_clock::now();
  Status st = sender->Send(TestEntry());
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(c.timeout_ms + 2000)) << st.ToString();
  return st;
}

std::string Http(int port) { return "http://127.0.0.1:" + std::to_string(port) + "/hook"; }
std::string Smtp(int port) { return "smtp://127.0.0.1:" + std::to_string(port); }

TEST(WebhookChannelTest, A2xxAnswerIsDelivered) {
  ScriptedServer s("", "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  Status st = SendOnce(Channel(NotificationChannelConfig::Type::kWebhook, Http(s.port())));
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST(WebhookChannelTest, MisbehavingReceiversFailClearly) {
  const char* replies[] = {
      "garbage\r\n\r\n",                                                  // not HTTP
      "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",  // an error status
      "HTTP/1.1 301 Moved\r\nLocation: http://elsewhere/\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",  // closed inside the body
      "HTTP/1.1 99999 ?\r\n\r\n",                             // a nonsense status line
      "",                                                     // closed without a word
  };
  for (const char* reply : replies) {
    ScriptedServer s("", reply);
    Status st = SendOnce(Channel(NotificationChannelConfig::Type::kWebhook, Http(s.port())));
    EXPECT_FALSE(st.ok()) << "reply: " << reply;
    EXPECT_FALSE(st.message().empty());
  }
}

TEST(WebhookChannelTest, ASilentReceiverTimesOut) {
  ScriptedServer s("", "", /*silent=*/true);
  Status st = SendOnce(Channel(NotificationChannelConfig::Type::kWebhook, Http(s.port())));
  EXPECT_FALSE(st.ok());
}

TEST(WebhookChannelTest, NobodyListening) {
  int port;
  {
    ScriptedServer s("", "");  // take a free port, then release it
    port = s.port();
  }
  Status st = SendOnce(Channel(NotificationChannelConfig::Type::kWebhook, Http(port)));
  EXPECT_FALSE(st.ok());
}

TEST(SmtpChannelTest, MisbehavingServersFailClearly) {
  const char* greetings[] = {
      "xyz\r\n",                                  // not an SMTP reply
      "554 no service here\r\n",                  // refuses at once
      "220 ok\r\n",                               // then garbage to EHLO (below)
      "220-first line of a multi-line greeting",  // never finished
  };
  for (const char* greeting : greetings) {
    ScriptedServer s(greeting, "this is not SMTP\r\n");
    Status st = SendOnce(Channel(NotificationChannelConfig::Type::kSmtp, Smtp(s.port())));
    EXPECT_FALSE(st.ok()) << "greeting: " << greeting;
    EXPECT_FALSE(st.message().empty());
  }
}

TEST(SmtpChannelTest, AHugeReplyLineDoesNotHangOrCrash) {
  ScriptedServer s(std::string(1 << 20, 'A'), "");
  Status st = SendOnce(Channel(NotificationChannelConfig::Type::kSmtp, Smtp(s.port())));
  EXPECT_FALSE(st.ok());
}

TEST(SyslogChannelTest, TcpReceiverGoneFails) {
  int port;
  {
    ScriptedServer s("", "");
    port = s.port();
  }
  Status st = SendOnce(
      Channel(NotificationChannelConfig::Type::kSyslog, "tcp://127.0.0.1:" + std::to_string(port)));
  EXPECT_FALSE(st.ok());
}

}  // namespace
}  // namespace mamori::notify
