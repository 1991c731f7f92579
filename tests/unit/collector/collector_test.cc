// Collector over real sockets: 127.0.0.1 (and ::1 when available), port 0, a real io_context run
// by two threads, a real BoundedQueue. Nothing sleeps to wait for something: every wait polls
// with a deadline.
#include "mamori/collector/collector.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <prometheus/registry.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <csignal>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../testing/test_pki.h"

namespace mamori::collector {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using Labels = std::map<std::string, std::string>;
using std::string_literals::operator""s;

constexpr std::int64_t kNow = 1'780'000'000'123'456'789;
constexpr auto kDeadline = std::chrono::seconds(10);

// Writes to a socket the collector has closed must fail with EPIPE, not kill the test.
const bool kSigpipeIgnored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

bool WaitFor(const std::function<bool()>& done, steady_clock::duration timeout = kDeadline) {
  const auto deadline = steady_clock::now() + timeout;
  while (!done()) {
    if (steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

bool Ipv6LoopbackAvailable() {
  asio::io_context io;
  tcp::acceptor a(io);
  boost::system::error_code ec;
  a.open(tcp::v6(), ec);
  if (!ec) a.bind(tcp::endpoint(asio::ip::make_address("::1"), 0), ec);
  return !ec;
}

ListenerConfig Listener(std::string name, ListenerConfig::Kind kind,
                        std::string host = "127.0.0.1") {
  ListenerConfig c;
  c.name = std::move(name);
  c.kind = kind;
  c.address = HostPort{std::move(host), 0};
  c.idle_timeout_ms = 0;
  c.receive_buffer_bytes = 1024 * 1024;
  return c;
}
ListenerConfig Tcp(std::string host = "127.0.0.1") {
  return Listener("tcp", ListenerConfig::Kind::kSyslogTcp, std::move(host));
}
ListenerConfig Udp(std::string host = "127.0.0.1") {
  return Listener("udp", ListenerConfig::Kind::kSyslogUdp, std::move(host));
}

// "<13>seq 00000042 xxxx..." padded to `size` bytes (without the LF).
std::string Numbered(std::size_t i, std::size_t size = 0) {
  char head[32];
  std::snprintf(head, sizeof head, "<13>seq %08zu ", i);
  std::string s = head;
  if (s.size() < size) s.append(size - s.size(), 'x');
  return s;
}

class CollectorTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (collector_) collector_->Stop();
    if (queue_) queue_->Close();  // a session still waiting for room gives up
    JoinIo();
  }

  void Start(std::vector<ListenerConfig> listeners, std::size_t queue_capacity = 1 << 20) {
    queue_ = std::make_unique<RecordQueue>(queue_capacity);
    collector_ = std::make_unique<Collector>(
        io_, *queue_,
        [this](const ListenerConfig& l, std::span<Record> records) {
          for (Record& r : records) {
            processed_.fetch_add(1);
            r.event.format = "seen-by-" + l.name;
          }
        },
        registry_, clock_);
    Status s = collector_->Start(listeners);
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (int i = 0; i < 2; ++i) {
      io_threads_.emplace_back([this] {
        io_.run();
        io_exited_.fetch_add(1);
      });
    }
  }

  void JoinIo() {
    for (auto& t : io_threads_) t.join();
    io_threads_.clear();
  }

  HostPort Bound(const std::string& name) const {
    for (const auto& [n, hp] : collector_->BoundAddresses()) {
      if (n == name) return hp;
    }
    ADD_FAILURE() << "no listener " << name;
    return {};
  }

  // Pops from the queue until records_ holds at least n records or the deadline passes.
  bool WaitRecords(std::size_t n, steady_clock::duration timeout = kDeadline) {
    const auto deadline = steady_clock::now() + timeout;
    while (records_.size() < n) {
      if (steady_clock::now() > deadline) return false;
      std::vector<std::vector<Record>> batches;
      queue_->PopAll(&batches, milliseconds(5));
      for (auto& b : batches) {
        for (auto& r : b) records_.push_back(std::move(r));
      }
    }
    return true;
  }
  std::vector<std::string> RecordBytes() const {
    std::vector<std::string> out;
    for (const Record& r : records_) out.push_back(r.raw.bytes);
    return out;
  }

  // Value of a counter or gauge; -1 when the series does not exist.
  double Metric(const std::string& name, const Labels& labels) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric) {
        std::size_t matched = 0;
        for (const auto& l : m.label) {
          auto it = labels.find(l.name);
          if (it != labels.end() && it->second == l.value) ++matched;
        }
        if (matched != labels.size()) continue;
        return family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
      }
    }
    return -1;
  }
  bool WaitMetric(const std::string& name, const Labels& labels, double value) {
    return WaitFor([&] { return Metric(name, labels) == value; });
  }

  tcp::socket Connect(const HostPort& hp) {
    tcp::socket s(client_io_);
    s.connect(tcp::endpoint(asio::ip::make_address(hp.host), hp.port));
    return s;
  }
  static void Send(tcp::socket& s, std::string_view data) {
    asio::write(s, asio::buffer(data.data(), data.size()));
  }
  // True once the collector has closed the connection (EOF or reset).
  static bool WaitClosedByPeer(tcp::socket& s, steady_clock::duration timeout = kDeadline) {
    const auto deadline = steady_clock::now() + timeout;
    char buf[4096];
    while (steady_clock::now() < deadline) {
      pollfd p{s.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      const ssize_t n = ::recv(s.native_handle(), buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

  asio::io_context io_;
  asio::io_context client_io_;  // never run: clients use blocking calls
  prometheus::Registry registry_;
  FakeClock clock_{kNow};
  std::unique_ptr<RecordQueue> queue_;
  std::unique_ptr<Collector> collector_;
  std::vector<std::thread> io_threads_;
  std::atomic<int> io_exited_{0};
  std::atomic<int> processed_{0};
  std::vector<Record> records_;
};

TEST_F(CollectorTest, UdpDatagramsArriveWithMetadata) {
  auto config = Udp();
  config.max_message_bytes = 16;
  Start({config});
  const HostPort hp = Bound("udp");
  EXPECT_EQ(hp.host, "127.0.0.1");
  ASSERT_NE(hp.port, 0);

  udp::socket client(client_io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const udp::endpoint to(asio::ip::make_address(hp.host), hp.port);
  const std::vector<std::string> sent = {"<13>one", "<13>two\n\r\0x"s,
                                         "<13>" + std::string(40, 'L')};
  for (const auto& d : sent) client.send_to(asio::buffer(d), to);
  ASSERT_TRUE(WaitRecords(3));

  const std::string peer = "127.0.0.1:" + std::to_string(client.local_endpoint().port());
  for (std::size_t i = 0; i < 3; ++i) {
    const RawRecord& raw = records_[i].raw;
    EXPECT_EQ(raw.listener, "udp");
    EXPECT_EQ(raw.transport, Transport::kUdp);
    EXPECT_EQ(raw.peer, peer);
    EXPECT_EQ(raw.received_ns, kNow);
    EXPECT_EQ(raw.original_size, sent[i].size());
    EXPECT_EQ(records_[i].event.format, "seen-by-udp");  // the processor ran before queueing
  }
  EXPECT_EQ(records_[0].raw.bytes, sent[0]);
  EXPECT_EQ(records_[1].raw.bytes, sent[1]);  // one datagram = one message, LF and NUL kept
  EXPECT_EQ(records_[2].raw.bytes, sent[2].substr(0, 16));
  EXPECT_EQ(records_[2].raw.flags & kRawTruncated, kRawTruncated);
  EXPECT_EQ(records_[0].raw.flags, 0u);
  EXPECT_EQ(Metric("mamori_events_received_total", {{"listener", "udp"}, {"transport", "udp"}}), 3);
  EXPECT_EQ(Metric("mamori_events_truncated_total", {{"listener", "udp"}}), 1);
  const double bytes = sent[0].size() + sent[1].size() + sent[2].size();
  EXPECT_EQ(Metric("mamori_bytes_received_total", {{"listener", "udp"}, {"transport", "udp"}}),
            bytes);
}

TEST_F(CollectorTest, UdpDropsAndCountsWhenQueueIsFull) {
  Start({Udp()}, /*queue_capacity=*/1);
  udp::socket client(client_io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const udp::endpoint to(asio::ip::make_address("127.0.0.1"), Bound("udp").port);
  client.send_to(asio::buffer("<13>first"s), to);
  const Labels received = {{"listener", "udp"}, {"transport", "udp"}};
  ASSERT_TRUE(WaitMetric("mamori_events_received_total", received, 1));
  ASSERT_EQ(queue_->depth(), 1u);  // nobody drains: the queue is now full
  for (int i = 0; i < 20; ++i) client.send_to(asio::buffer(Numbered(i)), to);
  ASSERT_TRUE(WaitMetric("mamori_events_received_total", received, 21));
  EXPECT_EQ(Metric("mamori_events_dropped_total", {{"listener", "udp"}, {"reason", "queue_full"}}),
            20);
  ASSERT_TRUE(WaitRecords(1));
  EXPECT_EQ(records_.size(), 1u);
  EXPECT_EQ(records_[0].raw.bytes, "<13>first");
}

TEST_F(CollectorTest, TcpLfFramingWithMetadata) {
  Start({Tcp()});
  tcp::socket c = Connect(Bound("tcp"));
  Send(c, "<13>a\n<13>b\r\n\n<13>c\0d\n"s);
  ASSERT_TRUE(WaitRecords(3));
  EXPECT_EQ(RecordBytes(), (std::vector<std::string>{"<13>a", "<13>b\r", "<13>c\0d"s}));
  const std::string peer = "127.0.0.1:" + std::to_string(c.local_endpoint().port());
  for (const Record& r : records_) {
    EXPECT_EQ(r.raw.listener, "tcp");
    EXPECT_EQ(r.raw.transport, Transport::kTcp);
    EXPECT_EQ(r.raw.peer, peer);
    EXPECT_EQ(r.raw.received_ns, kNow);
    EXPECT_EQ(r.raw.original_size, r.raw.bytes.size());
    EXPECT_EQ(r.event.format, "seen-by-tcp");
  }
  EXPECT_EQ(Metric("mamori_events_received_total", {{"listener", "tcp"}, {"transport", "tcp"}}), 3);
  EXPECT_EQ(Metric("mamori_collector_connections", {{"listener", "tcp"}}), 1);
}

TEST_F(CollectorTest, TcpOctetCountingAndMixedFramingOnOneConnection) {
  Start({Tcp()});
  tcp::socket c = Connect(Bound("tcp"));
  Send(c, "5 <13>a<13>lf\n11 <13>b\nc d e<13>lf2\n");
  ASSERT_TRUE(WaitRecords(4));
  EXPECT_EQ(RecordBytes(),
            (std::vector<std::string>{"<13>a", "<13>lf", "<13>b\nc d e", "<13>lf2"}));
}

TEST_F(CollectorTest, TcpFramesSplitByteByByte) {
  Start({Tcp()});
  tcp::socket c = Connect(Bound("tcp"));
  c.set_option(tcp::no_delay(true));
  const std::string stream = "11 <13>octet 1<13>line one\n<13>line two\n9 <13>last!";
  for (char ch : stream) Send(c, std::string_view(&ch, 1));
  ASSERT_TRUE(WaitRecords(4));
  EXPECT_EQ(RecordBytes(),
            (std::vector<std::string>{"<13>octet 1", "<13>line one", "<13>line two", "<13>last!"}));
}

TEST_F(CollectorTest, TruncationKeepsBothFramingsInSync) {
  auto config = Tcp();
  config.max_message_bytes = 10;
  Start({config});
  tcp::socket c = Connect(Bound("tcp"));
  const std::string long_line = "<13>" + std::string(100000, 'x');
  const std::string long_octet = "<13>" + std::string(5000, 'y');
  Send(c, long_line + "\n<13>after1\n" + std::to_string(long_octet.size()) + " " + long_octet +
              "<13>after2\n");
  ASSERT_TRUE(WaitRecords(4));
  EXPECT_EQ(RecordBytes(), (std::vector<std::string>{long_line.substr(0, 10), "<13>after1",
                                                     long_octet.substr(0, 10), "<13>after2"}));
  EXPECT_EQ(records_[0].raw.original_size, long_line.size());
  EXPECT_EQ(records_[0].raw.flags & kRawTruncated, kRawTruncated);
  EXPECT_EQ(records_[2].raw.original_size, long_octet.size());
  EXPECT_EQ(records_[2].raw.flags & kRawTruncated, kRawTruncated);
  EXPECT_EQ(records_[1].raw.flags, 0u);
  EXPECT_EQ(Metric("mamori_events_truncated_total", {{"listener", "tcp"}}), 2);
}

TEST_F(CollectorTest, LineStartingWithDigitsButNoOctetCountIsReadAsLfFramed) {
  Start({Tcp()});
  tcp::socket c = Connect(Bound("tcp"));
  // Senders that write bare lines (no PRI) often start with a date or a long number.
  Send(c,
       "<13>before\n2020-03-24 10:00:00 host sshd[1]: x\n123456789012 <13>long\n"
       "11 <13>counted<13>after\n");
  ASSERT_TRUE(WaitRecords(5));
  EXPECT_EQ(RecordBytes(),
            (std::vector<std::string>{"<13>before", "2020-03-24 10:00:00 host sshd[1]: x",
                                      "123456789012 <13>long", "<13>counted", "<13>after"}));
  EXPECT_EQ(Metric("mamori_collector_framing_errors_total", {{"listener", "tcp"}}), 2);
  EXPECT_EQ(Metric("mamori_collector_connections", {{"listener", "tcp"}}), 1);  // still open
}

TEST_F(CollectorTest, FinalUnterminatedMessageIsDeliveredAtEof) {
  Start({Tcp()});
  tcp::socket c = Connect(Bound("tcp"));
  Send(c, "<13>first\n<13>no newline at the end");
  c.shutdown(tcp::socket::shutdown_send);
  ASSERT_TRUE(WaitRecords(2));
  EXPECT_EQ(RecordBytes(), (std::vector<std::string>{"<13>first", "<13>no newline at the end"}));
  EXPECT_EQ(records_[1].raw.flags, 0u);
  EXPECT_TRUE(WaitClosedByPeer(c));
  EXPECT_TRUE(WaitMetric("mamori_collector_connections_closed_total",
                         {{"listener", "tcp"}, {"reason", "eof"}}, 1));
}

TEST_F(CollectorTest, ConnectionLimitRejectsExtraConnections) {
  auto config = Tcp();
  config.max_connections = 2;
  Start({config});
  const HostPort hp = Bound("tcp");
  tcp::socket c1 = Connect(hp);
  tcp::socket c2 = Connect(hp);
  Send(c1, "<13>1\n");
  Send(c2, "<13>2\n");
  ASSERT_TRUE(WaitRecords(2));  // both are sessions now
  tcp::socket c3 = Connect(hp);
  EXPECT_TRUE(WaitClosedByPeer(c3));
  EXPECT_EQ(Metric("mamori_collector_connections_rejected_total", {{"listener", "tcp"}}), 1);
  EXPECT_EQ(Metric("mamori_collector_connections", {{"listener", "tcp"}}), 2);

  c1.close();  // frees a slot
  ASSERT_TRUE(WaitMetric("mamori_collector_connections", {{"listener", "tcp"}}, 1));
  tcp::socket c4 = Connect(hp);
  Send(c4, "<13>4\n");
  ASSERT_TRUE(WaitRecords(3));
  EXPECT_EQ(records_[2].raw.bytes, "<13>4");
  Send(c2, "<13>2 still open\n");
  ASSERT_TRUE(WaitRecords(4));
}

TEST_F(CollectorTest, IdleConnectionIsClosed) {
  auto config = Tcp();
  config.idle_timeout_ms = 200;
  Start({config});
  tcp::socket c = Connect(Bound("tcp"));
  Send(c, "<13>hello\n<13>partial");
  ASSERT_TRUE(WaitRecords(1));
  const auto since = steady_clock::now();
  ASSERT_TRUE(WaitClosedByPeer(c));
  EXPECT_GE(steady_clock::now() - since, milliseconds(150));
  EXPECT_TRUE(WaitMetric("mamori_collector_connections_closed_total",
                         {{"listener", "tcp"}, {"reason", "idle_timeout"}}, 1));
  // What the silent sender had started is still evidence.
  ASSERT_TRUE(WaitRecords(2));
  EXPECT_EQ(records_[1].raw.bytes, "<13>partial");
}

TEST_F(CollectorTest, GarbageAndHugeLinesDoNotHurt) {
  auto config = Tcp();
  config.max_message_bytes = 64 * 1024;
  Start({config, Udp()});
  const HostPort hp = Bound("tcp");
  std::mt19937 rng(20261126);
  {
    std::vector<tcp::socket> clients;
    for (int i = 0; i < 16; ++i) {
      clients.push_back(Connect(hp));
      std::string junk(64 * 1024, '\0');
      for (char& ch : junk) ch = static_cast<char>(rng());
      if (i % 2 == 0) junk[0] = '<';  // half of them LF-framed garbage, not a framing error
      boost::system::error_code ec;
      asio::write(clients.back(), asio::buffer(junk), ec);  // may fail: the collector may close
    }
    tcp::socket huge = Connect(hp);
    Send(huge, "<13>" + std::string(1024 * 1024, 'A') + "\n<13>after huge\n");
    huge.close();
    // Datagrams of garbage, up to the largest UDP payload.
    udp::socket u(client_io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    for (std::size_t size : {1u, 1000u, 65507u}) {
      std::string junk(size, '\0');
      for (char& ch : junk) ch = static_cast<char>(rng());
      u.send_to(asio::buffer(junk),
                udp::endpoint(asio::ip::make_address("127.0.0.1"), Bound("udp").port));
    }
  }  // every client disconnects abruptly
  ASSERT_TRUE(WaitMetric("mamori_collector_connections", {{"listener", "tcp"}}, 0));
  ASSERT_TRUE(WaitFor([&] {
    return Metric("mamori_events_received_total", {{"listener", "udp"}, {"transport", "udp"}}) == 3;
  }));
  // Still serving.
  tcp::socket ok = Connect(hp);
  Send(ok, "<13>still alive\n");
  ASSERT_TRUE(WaitFor([&] {
    WaitRecords(records_.size() + 1, milliseconds(10));
    return !records_.empty() && records_.back().raw.bytes == "<13>still alive";
  }));
  bool saw_huge = false;
  for (const Record& r : records_) {
    EXPECT_LE(r.raw.bytes.size(), 64u * 1024);
    if (r.raw.original_size == 1024 * 1024 + 4) {
      saw_huge = true;
      EXPECT_EQ(r.raw.flags & kRawTruncated, kRawTruncated);
    }
  }
  EXPECT_TRUE(saw_huge);
  EXPECT_GE(Metric("mamori_events_truncated_total", {{"listener", "tcp"}}), 1);
}

TEST_F(CollectorTest, BackPressureStallsTheSenderAndLosesNothing) {
  Start({Tcp()}, /*queue_capacity=*/8);
  constexpr std::size_t kMessages = 250'000;
  constexpr std::size_t kSize = 199;  // + LF = 200 bytes: 50 MB in all
  std::string payload;
  payload.reserve(kMessages * (kSize + 1));
  for (std::size_t i = 0; i < kMessages; ++i) payload += Numbered(i, kSize) + "\n";

  tcp::socket c = Connect(Bound("tcp"));
  c.non_blocking(true);
  std::size_t sent = 0;
  // Sends until done, or until the socket has not been writable for `stall`. Returns true if done.
  auto send_some = [&](milliseconds stall, steady_clock::duration budget) {
    const auto deadline = steady_clock::now() + budget;
    while (sent < payload.size() && steady_clock::now() < deadline) {
      boost::system::error_code ec;
      sent += c.write_some(asio::buffer(payload.data() + sent, payload.size() - sent), ec);
      if (ec == asio::error::would_block) {
        pollfd p{c.native_handle(), POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(stall.count())) == 0) return false;
      } else if (ec) {
        ADD_FAILURE() << "send: " << ec.message();
        return false;
      }
    }
    return sent == payload.size();
  };

  // Nobody drains: the session stops reading, the kernel buffers fill and the sender stalls.
  ASSERT_FALSE(send_some(milliseconds(500), std::chrono::seconds(30)));
  EXPECT_LT(sent, payload.size());
  EXPECT_GE(queue_->depth(), 1u);
  const double framed =
      Metric("mamori_events_received_total", {{"listener", "tcp"}, {"transport", "tcp"}});
  EXPECT_LT(framed, kMessages);

  // Drain, and the rest goes through.
  std::atomic<bool> stop_draining{false};
  std::atomic<std::size_t> drained_count{0};
  std::vector<Record> drained;
  std::thread drainer([&] {
    while (!stop_draining.load() && drained.size() < kMessages) {
      std::vector<std::vector<Record>> batches;
      queue_->PopAll(&batches, milliseconds(5));
      for (auto& b : batches) {
        for (auto& r : b) drained.push_back(std::move(r));
      }
      drained_count.store(drained.size());
    }
  });
  EXPECT_TRUE(send_some(milliseconds(10'000), std::chrono::seconds(60)));
  c.shutdown(tcp::socket::shutdown_send);
  EXPECT_TRUE(WaitFor([&] { return drained_count.load() >= kMessages; }, std::chrono::seconds(60)));
  stop_draining.store(true);
  drainer.join();
  EXPECT_EQ(Metric("mamori_events_received_total", {{"listener", "tcp"}, {"transport", "tcp"}}),
            kMessages);
  ASSERT_EQ(drained.size(), kMessages);
  for (std::size_t i = 0; i < kMessages; ++i) {
    if (drained[i].raw.bytes != Numbered(i, kSize)) {
      FAIL() << "record " << i << " is '" << drained[i].raw.bytes.substr(0, 20) << "'";
    }
  }
  EXPECT_EQ(Metric("mamori_events_dropped_total", {{"listener", "tcp"}, {"reason", "queue_full"}}),
            0);
}

TEST_F(CollectorTest, StopDeliversCompleteFramesAndDropsThePartialOne) {
  Start({Tcp()});
  tcp::socket c = Connect(Bound("tcp"));
  std::string data;
  for (int i = 0; i < 2000; ++i) data += Numbered(i) + "\n";
  Send(c, data + "<13>cut by shutdown");
  const Labels received = {{"listener", "tcp"}, {"transport", "tcp"}};
  ASSERT_TRUE(WaitMetric("mamori_events_received_total", received, 2000));
  collector_->Stop();
  EXPECT_TRUE(WaitClosedByPeer(c));
  EXPECT_TRUE(WaitFor([&] { return io_exited_.load() == 2; }));  // io.run() returned
  ASSERT_TRUE(WaitRecords(2000));
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(records_[i].raw.bytes, Numbered(i));
  EXPECT_FALSE(WaitRecords(2001, milliseconds(20)));
  EXPECT_EQ(Metric("mamori_events_dropped_total", {{"listener", "tcp"}, {"reason", "shutdown"}}),
            1);
  EXPECT_EQ(Metric("mamori_collector_connections_closed_total",
                   {{"listener", "tcp"}, {"reason", "shutdown"}}),
            1);
  EXPECT_EQ(Metric("mamori_collector_connections", {{"listener", "tcp"}}), 0);
}

TEST_F(CollectorTest, StopWaitsForRoomInTheQueue) {
  Start({Tcp()}, /*queue_capacity=*/1);
  tcp::socket c = Connect(Bound("tcp"));
  std::string data;
  for (int i = 0; i < 20000; ++i) data += Numbered(i, 100) + "\n";  // 2 MB: several reads
  c.non_blocking(true);
  boost::system::error_code ec;
  asio::write(c, asio::buffer(data), ec);  // as much as fits; the rest does not matter
  const Labels received = {{"listener", "tcp"}, {"transport", "tcp"}};
  // The session framed more than the queue took: it holds a batch and waits for room.
  ASSERT_TRUE(WaitFor([&] {
    return queue_->depth() > 0 &&
           Metric("mamori_events_received_total", received) > static_cast<double>(queue_->depth());
  }));
  collector_->Stop();
  // Still waiting for room: io.run() cannot return yet.
  EXPECT_FALSE(WaitFor([&] { return io_exited_.load() > 0; }, milliseconds(100)));
  ASSERT_TRUE(WaitFor([&] {
    WaitRecords(records_.size() + 1, milliseconds(5));
    return io_exited_.load() == 2;
  }));
  const double framed = Metric("mamori_events_received_total", received);
  WaitRecords(static_cast<std::size_t>(framed), milliseconds(100));
  ASSERT_EQ(records_.size(), static_cast<std::size_t>(framed));
  for (std::size_t i = 0; i < records_.size(); ++i) {
    ASSERT_EQ(records_[i].raw.bytes, Numbered(i, 100));
  }
}

TEST_F(CollectorTest, StopLetsRunReturnWithIdleConnectionsOpen) {
  Start({Tcp(), Udp()});
  tcp::socket c1 = Connect(Bound("tcp"));
  tcp::socket c2 = Connect(Bound("tcp"));
  ASSERT_TRUE(WaitMetric("mamori_collector_connections", {{"listener", "tcp"}}, 2));
  collector_->Stop();
  collector_->Stop();  // idempotent
  EXPECT_TRUE(WaitFor([&] { return io_exited_.load() == 2; }));
  EXPECT_TRUE(WaitClosedByPeer(c1));
  EXPECT_TRUE(WaitClosedByPeer(c2));
  EXPECT_EQ(Metric("mamori_collector_connections_closed_total",
                   {{"listener", "tcp"}, {"reason", "shutdown"}}),
            2);
  EXPECT_EQ(Metric("mamori_events_dropped_total", {{"listener", "tcp"}, {"reason", "shutdown"}}),
            0);
}

TEST_F(CollectorTest, StartFailsWhenTheAddressIsInUseAndNamesTheListener) {
  Start({Tcp(), Udp()});
  RecordQueue queue(16);
  prometheus::Registry registry;
  Collector second(io_, queue, nullptr, registry, clock_);
  auto tcp = Tcp();
  tcp.name = "second-tcp";
  tcp.address.port = Bound("tcp").port;
  Status s = second.Start({Listener("fine", ListenerConfig::Kind::kSyslogTcp), tcp});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("second-tcp"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.ToString();
  EXPECT_TRUE(second.BoundAddresses().empty());

  auto udp = Udp();
  udp.name = "second-udp";
  udp.address.port = Bound("udp").port;
  Collector third(io_, queue, nullptr, registry, clock_);
  s = third.Start({udp});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("second-udp"), std::string::npos) << s.ToString();
}

TEST_F(CollectorTest, StartRejectsBadConfig) {
  RecordQueue queue(16);
  Collector c(io_, queue, nullptr, registry_, clock_);
  auto a = Tcp();
  auto b = Udp();
  b.name = "tcp";
  Status s = c.Start({a, b});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tcp"), std::string::npos);
  auto bad = Tcp();
  bad.address.host = "not an address";
  Collector d(io_, queue, nullptr, registry_, clock_);
  s = d.Start({bad});
  EXPECT_FALSE(s.ok()) << s.ToString();
}

TEST_F(CollectorTest, Ipv6Listeners) {
  if (!Ipv6LoopbackAvailable()) GTEST_SKIP() << "no ::1";
  Start({Tcp("::1"), Udp("::1")});
  const HostPort tcp_hp = Bound("tcp");
  EXPECT_EQ(tcp_hp.host, "::1");
  tcp::socket c = Connect(tcp_hp);
  Send(c, "<13>over v6 tcp\n");
  ASSERT_TRUE(WaitRecords(1));
  EXPECT_EQ(records_[0].raw.peer, "[::1]:" + std::to_string(c.local_endpoint().port()));
  udp::socket u(client_io_, udp::endpoint(asio::ip::make_address("::1"), 0));
  u.send_to(asio::buffer("<13>over v6 udp"s),
            udp::endpoint(asio::ip::make_address("::1"), Bound("udp").port));
  ASSERT_TRUE(WaitRecords(2));
  EXPECT_EQ(records_[1].raw.bytes, "<13>over v6 udp");
  EXPECT_EQ(records_[1].raw.peer, "[::1]:" + std::to_string(u.local_endpoint().port()));
}

// --- syslog over TLS (RFC 5425) ---

ListenerConfig Tls(bool verify_client = false) {
  ListenerConfig c = Listener("tls", ListenerConfig::Kind::kSyslogTls);
  c.tls.cert_file = testing::Pki().server;
  c.tls.key_file = testing::Pki().server_key;
  c.tls.handshake_timeout_ms = 500;
  if (verify_client) {
    c.tls.ca_file = testing::Pki().ca;
    c.tls.verify_client = true;
  }
  return c;
}

// A blocking TLS client that trusts the test CA, optionally with a client certificate.
struct TlsClient {
  explicit TlsClient(asio::io_context& io, const std::string& cert = "",
                     const std::string& key = "")
      : ctx(MakeContext(cert, key)), stream(io, ctx) {}
  // The stream copies the context's settings when it is made: configure the context first.
  static asio::ssl::context MakeContext(const std::string& cert, const std::string& key) {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.load_verify_file(testing::Pki().ca);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    if (!cert.empty()) {
      ctx.use_certificate_chain_file(cert);
      ctx.use_private_key_file(key, asio::ssl::context::pem);
    }
    return ctx;
  }
  // Handshake; then, in TLS 1.3, the server's verdict on the client certificate arrives with the
  // first read, so a refused client sees an error when it reads.
  boost::system::error_code Connect(const HostPort& hp) {
    boost::system::error_code ec;
    stream.next_layer().connect(tcp::endpoint(asio::ip::make_address(hp.host), hp.port), ec);
    if (!ec) stream.handshake(asio::ssl::stream_base::client, ec);
    return ec;
  }
  asio::ssl::context ctx;
  asio::ssl::stream<tcp::socket> stream;
};

TEST_F(CollectorTest, TlsOctetCountedFramesArriveWithTransportTls) {
  ASSERT_TRUE(testing::Pki().ok);
  Start({Tls()});
  TlsClient client(client_io_);
  ASSERT_FALSE(client.Connect(Bound("tls"))) << "handshake";
  const std::string a = "<13>1 - h app - - - first", b = "<13>1 - h app - - - second";
  const std::string data =
      std::to_string(a.size()) + " " + a + std::to_string(b.size()) + " " + b + "<13>lf\n";
  asio::write(client.stream, asio::buffer(data));
  ASSERT_TRUE(WaitRecords(3));
  EXPECT_EQ(RecordBytes(), (std::vector<std::string>{a, b, "<13>lf"}));
  EXPECT_EQ(records_[0].raw.transport, Transport::kTls);
  EXPECT_EQ(records_[0].raw.listener, "tls");
  EXPECT_EQ(records_[0].event.format, "seen-by-tls");
  EXPECT_EQ(Metric("mamori_events_received_total", {{"listener", "tls"}, {"transport", "tls"}}), 3);
  EXPECT_EQ(Metric("mamori_tls_handshake_failures_total", {{"listener", "tls"}}), 0);
  EXPECT_GT(Metric("mamori_tls_certificate_expiry_timestamp_seconds", {{"listener", "tls"}}),
            static_cast<double>(std::time(nullptr)));
}

TEST_F(CollectorTest, TlsGarbageIsACountedHandshakeFailure) {
  ASSERT_TRUE(testing::Pki().ok);
  Start({Tls()});
  std::mt19937 rng(7);
  for (int i = 0; i < 3; ++i) {
    auto s = Connect(Bound("tls"));
    std::string garbage(4096, '\0');
    for (char& ch : garbage) ch = static_cast<char>(rng());
    if (i == 0) garbage = "<13>Nov 27 02:00:00 host app: plain syslog to a TLS port\n";
    Send(s, garbage);
    EXPECT_TRUE(WaitClosedByPeer(s));
  }
  EXPECT_TRUE(WaitMetric("mamori_tls_handshake_failures_total",
                         {{"listener", "tls"}, {"reason", "protocol"}}, 3));
  EXPECT_TRUE(WaitMetric("mamori_collector_connections_closed_total",
                         {{"listener", "tls"}, {"reason", "handshake_failed"}}, 3));
  // A silent client is closed after the handshake timeout.
  auto silent = Connect(Bound("tls"));
  EXPECT_TRUE(WaitClosedByPeer(silent));
  EXPECT_TRUE(WaitMetric("mamori_tls_handshake_failures_total",
                         {{"listener", "tls"}, {"reason", "timeout"}}, 1));
  EXPECT_EQ(Metric("mamori_events_received_total", {{"listener", "tls"}}), 0);
  EXPECT_TRUE(WaitMetric("mamori_collector_connections", {{"listener", "tls"}}, 0));
  // Still serving.
  TlsClient client(client_io_);
  ASSERT_FALSE(client.Connect(Bound("tls")));
  asio::write(client.stream, asio::buffer(std::string("<13>after\n")));
  ASSERT_TRUE(WaitRecords(1));
  EXPECT_EQ(records_[0].raw.bytes, "<13>after");
}

TEST_F(CollectorTest, TlsMutualRefusesClientsWithoutAValidCertificate) {
  ASSERT_TRUE(testing::Pki().ok);
  Start({Tls(/*verify_client=*/true)});
  auto refused = [&](TlsClient& c) {
    boost::system::error_code ec = c.Connect(Bound("tls"));
    if (!ec) {
      asio::write(c.stream, asio::buffer(std::string("<13>must not arrive\n")), ec);
      char buf[16];
      c.stream.read_some(asio::buffer(buf), ec);  // the server's alert, or EOF
    }
    return ec.failed();
  };
  TlsClient anonymous(client_io_);
  EXPECT_TRUE(refused(anonymous));
  EXPECT_TRUE(WaitMetric("mamori_tls_handshake_failures_total",
                         {{"listener", "tls"}, {"reason", "no_client_cert"}}, 1));
  TlsClient rogue(client_io_, testing::Pki().rogue, testing::Pki().rogue_key);
  EXPECT_TRUE(refused(rogue));
  EXPECT_TRUE(WaitMetric("mamori_tls_handshake_failures_total",
                         {{"listener", "tls"}, {"reason", "bad_client_cert"}}, 1));
  TlsClient good(client_io_, testing::Pki().client, testing::Pki().client_key);
  ASSERT_FALSE(good.Connect(Bound("tls")));
  asio::write(good.stream, asio::buffer(std::string("<13>welcome\n")));
  ASSERT_TRUE(WaitRecords(1));
  EXPECT_EQ(RecordBytes(), std::vector<std::string>{"<13>welcome"});
}

TEST_F(CollectorTest, TlsStartFailsOnABadCertificateNamingTheKey) {
  ASSERT_TRUE(testing::Pki().ok);
  RecordQueue queue(16);
  Collector c(io_, queue, nullptr, registry_, clock_);
  auto bad = Tls();
  bad.tls.cert_file = testing::Pki().Path("nope.pem");
  Status s = c.Start({Udp(), bad});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("listener 'tls'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("listeners[1].tls.cert_file"), std::string::npos) << s.message();
  EXPECT_TRUE(c.BoundAddresses().empty());
}

TEST_F(CollectorTest, TlsReloadKeepsServingAndReportsErrors) {
  ASSERT_TRUE(testing::Pki().ok);
  const std::string cert = testing::Pki().Path("collector-reload.pem");
  ASSERT_TRUE(testing::Sh("cp " + testing::Pki().server + " " + cert));
  auto l = Tls();
  l.tls.cert_file = cert;
  Start({Tcp(), l});
  auto r = collector_->ReloadTls();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].first, "tls");
  EXPECT_TRUE(r[0].second.ok());
  testing::WriteFile(cert, "garbage");
  r = collector_->ReloadTls();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].second.ok());
  TlsClient client(client_io_);
  ASSERT_FALSE(client.Connect(Bound("tls")));  // the previous certificate is still served
}

}  // namespace
}  // namespace mamori::collector
