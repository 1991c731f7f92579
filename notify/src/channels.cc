#include "mamori/notify/channels.h"

// Boost 1.74's Asio needs <utility> before it with GCC 12 and C++20 (DESIGN.md, "Known trap").
// clang-format off
#include <utility>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
// clang-format on
#include <unistd.h>

#include <chrono>
#include <optional>

#include "mamori/notify/message.h"

namespace mamori::notify {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string Hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

struct Url {
  std::string scheme, host, port, target = "/";
};

Url ParseUrl(const std::string& s) {
  Url u;
  auto sep = s.find("://");
  u.scheme = s.substr(0, sep);
  std::string rest = s.substr(sep + 3);
  auto slash = rest.find('/');
  if (slash != std::string::npos) {
    u.target = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  auto hp = ParseHostPort(rest);  // validated by the config loader
  if (hp.ok()) {
    u.host = hp->host;
    u.port = std::to_string(hp->port);
  }
  return u;
}

// A TCP (optionally TLS) connection whose operations are written in sequence but run on a
// private io_context with one deadline for the whole exchange, and give up when *stop is set.
class Conn {
 public:
  Conn(const std::atomic<bool>* stop, std::int64_t timeout_ms)
      : stop_(stop), deadline_(Clock::now() + std::chrono::milliseconds(timeout_ms)) {}
  ~Conn() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

  Status Connect(const std::string& host, const std::string& port) {
    tcp::resolver resolver(io_);
    tcp::resolver::results_type results;
    Status st = Run("resolving " + host, [&](auto done) {
      resolver.async_resolve(
          host, port,
          [&results, done](boost::system::error_code ec, tcp::resolver::results_type r) {
            results = r;
            done(ec);
          });
    });
    if (!st.ok()) return st;
    return Run("connecting to " + host + ":" + port, [&](auto done) {
      asio::async_connect(socket_, results,
                          [done](boost::system::error_code ec, const tcp::endpoint&) { done(ec); });
    });
  }

  // TLS handshake verifying the certificate chain and the host name.
  Status StartTls(const std::string& host, const std::string& ca_file) {
    boost::system::error_code ec;
    ctx_.set_verify_mode(ssl::verify_peer, ec);
    if (ca_file.empty()) {
      ctx_.set_default_verify_paths(ec);
    } else {
      ctx_.load_verify_file(ca_file, ec);
    }
    if (ec) return Status::IOError("TLS trust store: " + ec.message());
    tls_.emplace(socket_, ctx_);
    if (!SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str())) {
      return Status::IOError("TLS: cannot set SNI");
    }
    tls_->set_verify_callback(ssl::host_name_verification(host));
    return Run("TLS handshake with " + host, [&](auto done) {
      tls_->async_handshake(ssl::stream_base::client,
                            [done](boost::system::error_code ec) { done(ec); });
    });
  }

  Status Write(std::string_view data) {
    return Run("writing", [&](auto done) {
      auto cb = [done](boost::system::error_code ec, std::size_t) { done(ec); };
      if (tls_) {
        asio::async_write(*tls_, asio::buffer(data), cb);
      } else {
        asio::async_write(socket_, asio::buffer(data), cb);
      }
    });
  }

  // One line (without CRLF) of at most 4 KiB.
  Status ReadLine(std::string* line) {
    std::size_t n = 0;
    Status st = Run("reading", [&](auto done) {
      auto cb = [&n, done](boost::system::error_code ec, std::size_t got) {
        n = got;
        done(ec);
      };
      if (tls_) {
        asio::async_read_until(*tls_, buf_, "\n", cb);
      } else {
        asio::async_read_until(socket_, buf_, "\n", cb);
      }
    });
    if (!st.ok()) return st;
    std::string s(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n);
    buf_.consume(n);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    *line = std::move(s);
    return Status::Ok();
  }

  Status HttpExchange(http::request<http::string_body>& req,
                      http::response<http::string_body>* resp) {
    Status st = Run("sending the request", [&](auto done) {
      auto cb = [done](boost::system::error_code ec, std::size_t) { done(ec); };
      if (tls_) {
        http::async_write(*tls_, req, cb);
      } else {
        http::async_write(socket_, req, cb);
      }
    });
    if (!st.ok()) return st;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    st = Run("reading the response", [&](auto done) {
      auto cb = [done](boost::system::error_code ec, std::size_t) { done(ec); };
      if (tls_) {
        http::async_read(*tls_, flat_, parser, cb);
      } else {
        http::async_read(socket_, flat_, parser, cb);
      }
    });
    if (!st.ok()) return st;
    *resp = parser.release();
    return Status::Ok();
  }

 private:
  // Starts an operation with start(done) and runs the io_context until done(ec) is called, the
  // deadline passes or *stop is set (then the socket is closed and the handler drained).
  template <typename Start>
  Status Run(const std::string& what, Start&& start) {
    bool finished = false;
    boost::system::error_code result;
    io_.restart();
    start([&finished, &result](boost::system::error_code ec) {
      finished = true;
      result = ec;
    });
    bool timed_out = false, stopped = false;
    while (!finished) {
      if (stop_->load()) stopped = true;
      if (Clock::now() >= deadline_) timed_out = true;
      if (stopped || timed_out) {
        boost::system::error_code ignored;
        socket_.cancel(ignored);
        socket_.close(ignored);
        io_.restart();
        io_.run_for(std::chrono::seconds(1));  // let the handlers see the cancellation
        break;
      }
      io_.run_for(std::chrono::milliseconds(100));
      if (io_.stopped() && !finished) io_.restart();
    }
    if (stopped) return Status::Unavailable(what + ": stopping");
    if (timed_out) return Status::Unavailable(what + ": timed out");
    if (result) return Status::Unavailable(what + ": " + result.message());
    return Status::Ok();
  }

  const std::atomic<bool>* stop_;
  Clock::time_point deadline_;
  asio::io_context io_;
  tcp::socket socket_{io_};
  ssl::context ctx_{ssl::context::tls_client};
  std::optional<ssl::stream<tcp::socket&>> tls_;
  asio::streambuf buf_{64 * 1024};
  boost::beast::flat_buffer flat_;
};

class WebhookSender final : public Sender {
 public:
  WebhookSender(const NotificationChannelConfig& c, const std::atomic<bool>* stop)
      : config_(c), url_(ParseUrl(c.url)), stop_(stop) {}

  Status Send(const Entry& e) override {
    Conn conn(stop_, config_.timeout_ms);
    if (Status st = conn.Connect(url_.host, url_.port); !st.ok()) return st;
    if (url_.scheme == "https") {
      if (Status st = conn.StartTls(url_.host, config_.ca_file); !st.ok()) return st;
    }
    http::request<http::string_body> req{http::verb::post, url_.target, 11};
    req.set(http::field::host, url_.host + ":" + url_.port);
    req.set(http::field::user_agent, "mamori/" MAMORI_VERSION);
    req.set(http::field::content_type, "application/json");
    auto payload = nlohmann::json::parse(e.payload, nullptr, false);
    if (payload.is_object() && payload.contains("id") && payload["id"].is_string()) {
      req.set("X-Mamori-Notification-Id", payload["id"].get<std::string>());
    }
    if (payload.is_object() && payload.contains("kind") && payload["kind"].is_string()) {
      req.set("X-Mamori-Event", "incident." + payload["kind"].get<std::string>());
    }
    if (!config_.secret.empty()) {
      req.set("X-Mamori-Signature", "sha256=" + HmacSha256Hex(config_.secret, e.payload));
    }
    req.keep_alive(false);
    req.body() = e.payload;
    req.prepare_payload();
    http::response<http::string_body> resp;
    if (Status st = conn.HttpExchange(req, &resp); !st.ok()) return st;
    const unsigned code = resp.result_int();
    if (code < 200 || code > 299) {
      return Status::Unavailable("receiver answered HTTP " + std::to_string(code));
    }
    return Status::Ok();
  }

 private:
  const NotificationChannelConfig config_;
  const Url url_;
  const std::atomic<bool>* stop_;
};

class SyslogSender final : public Sender {
 public:
  SyslogSender(const NotificationChannelConfig& c, const std::atomic<bool>* stop)
      : config_(c), url_(ParseUrl(c.url)), stop_(stop), hostname_(Hostname()) {}

  Status Send(const Entry& e) override {
    auto payload = nlohmann::json::parse(e.payload, nullptr, false);
    if (!payload.is_object()) return Status::Corruption("entry payload is not a JSON object");
    std::string line = SyslogLine(payload, hostname_);
    if (url_.scheme == "udp") return SendUdp(line);
    Conn conn(stop_, config_.timeout_ms);
    if (Status st = conn.Connect(url_.host, url_.port); !st.ok()) return st;
    return conn.Write(std::to_string(line.size()) + " " + line);
  }

 private:
  Status SendUdp(const std::string& line) {
    asio::io_context io;
    boost::system::error_code ec;
    asio::ip::udp::resolver resolver(io);
    auto results = resolver.resolve(url_.host, url_.port, ec);
    if (ec || results.empty())
      return Status::Unavailable("resolving " + url_.host + ": " + ec.message());
    asio::ip::udp::socket sock(io);
    const auto ep = results.begin()->endpoint();
    sock.open(ep.protocol(), ec);
    if (!ec) sock.send_to(asio::buffer(line), ep, 0, ec);
    if (ec) return Status::Unavailable("sending to " + config_.url + ": " + ec.message());
    return Status::Ok();
  }

  const NotificationChannelConfig config_;
  const Url url_;
  const std::atomic<bool>* stop_;
  const std::string hostname_;
};

class SmtpSender final : public Sender {
 public:
  SmtpSender(const NotificationChannelConfig& c, const std::atomic<bool>* stop)
      : config_(c), url_(ParseUrl(c.url)), stop_(stop), hostname_(Hostname()) {}

  Status Send(const Entry& e) override {
    auto payload = nlohmann::json::parse(e.payload, nullptr, false);
    if (!payload.is_object()) return Status::Corruption("entry payload is not a JSON object");
    Conn conn(stop_, config_.timeout_ms);
    if (Status st = conn.Connect(url_.host, url_.port); !st.ok()) return st;
    std::string text;
    if (Status st = Expect(conn, 220, "greeting", &text); !st.ok()) return st;
    if (Status st = Command(conn, "EHLO " + hostname_, 250, &text); !st.ok()) return st;
    if (config_.starttls) {
      if (text.find("STARTTLS") == std::string::npos) {
        return Status::Unavailable("SMTP server does not offer STARTTLS");
      }
      if (Status st = Command(conn, "STARTTLS", 220, &text); !st.ok()) return st;
      if (Status st = conn.StartTls(url_.host, config_.ca_file); !st.ok()) return st;
      if (Status st = Command(conn, "EHLO " + hostname_, 250, &text); !st.ok()) return st;
    }
    if (!config_.username.empty()) {
      std::string cred = std::string(1, '\0') + config_.username + '\0' + config_.password;
      if (Status st = Command(conn, "AUTH PLAIN " + Base64(cred), 235, &text, "AUTH PLAIN");
          !st.ok()) {
        return st;
      }
    }
    if (Status st = Command(conn, "MAIL FROM:<" + config_.mail_from + ">", 250, &text); !st.ok()) {
      return st;
    }
    for (const auto& to : config_.mail_to) {
      if (Status st = Command(conn, "RCPT TO:<" + to + ">", 250, &text); !st.ok()) return st;
    }
    if (Status st = Command(conn, "DATA", 354, &text); !st.ok()) return st;
    std::string data = SmtpData(MailText(payload, config_.mail_from, config_.mail_to, hostname_));
    if (Status st = conn.Write(data); !st.ok()) return st;
    if (Status st = Expect(conn, 250, "end of DATA", &text); !st.ok()) return st;
    Command(conn, "QUIT", 221, &text).ok();  // delivered already; QUIT's answer does not matter
    return Status::Ok();
  }

 private:
  // Reads a (possibly multi-line) reply; all lines' texts joined by '\n' into *text.
  Status Expect(Conn& conn, int want, const std::string& what, std::string* text) {
    text->clear();
    for (int lines = 0; lines < 100; ++lines) {
      std::string line;
      if (Status st = conn.ReadLine(&line); !st.ok()) return st;
      if (line.size() < 3)
        return Status::Unavailable("SMTP " + what + ": bad reply '" + line + "'");
      int code = std::atoi(line.substr(0, 3).c_str());
      *text += line.size() > 4 ? line.substr(4) + "\n" : "\n";
      if (line.size() > 3 && line[3] == '-') continue;
      if (code != want) {
        return Status::Unavailable("SMTP " + what + ": expected " + std::to_string(want) +
                                   ", got '" + line + "'");
      }
      return Status::Ok();
    }
    return Status::Unavailable("SMTP " + what + ": reply too long");
  }

  Status Command(Conn& conn, const std::string& cmd, int want, std::string* text,
                 const std::string& shown = "") {
    if (Status st = conn.Write(cmd + "\r\n"); !st.ok()) return st;
    return Expect(conn, want, shown.empty() ? cmd : shown, text);
  }

  const NotificationChannelConfig config_;
  const Url url_;
  const std::atomic<bool>* stop_;
  const std::string hostname_;
};

}  // namespace

std::unique_ptr<Sender> MakeSender(const NotificationChannelConfig& channel,
                                   const std::atomic<bool>* stop) {
  switch (channel.type) {
    case NotificationChannelConfig::Type::kWebhook:
      return std::make_unique<WebhookSender>(channel, stop);
    case NotificationChannelConfig::Type::kSyslog:
      return std::make_unique<SyslogSender>(channel, stop);
    case NotificationChannelConfig::Type::kSmtp:
      return std::make_unique<SmtpSender>(channel, stop);
  }
  return nullptr;
}

}  // namespace mamori::notify
