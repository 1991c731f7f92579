// HttpServer against real sockets: a server on 127.0.0.1 port 0 run by two I/O threads, and the
// raw-socket TestClient (or curl) on the other side.
#include "mamori/api/http_server.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "../testing/test_pki.h"
#include "test_client.h"

namespace mamori::api {
namespace {

using testing::ClientResponse;
using testing::TestClient;
using Json = nlohmann::json;

// Polls `pred` until it holds or 5 s pass.
template <typename Pred>
bool Eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

Response Text(std::string body) { return Response{200, "text/plain", std::move(body), {}}; }

// Echoes what the handler saw as JSON.
Response Echo(const Request& r) {
  Json params = Json::array();
  for (const auto& [k, v] : r.params) params.push_back({k, v});
  Json j = {{"method", r.method},           {"path", r.path}, {"params", params}, {"body", r.body},
            {"trace", r.header("x-trace")}, {"peer", r.peer}};
  return Response{200, "application/json", j.dump(), {{"X-Echo", "1"}}};
}

class HttpServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) server_->Stop();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    server_.reset();
  }

  // Creates the server with the standard routes plus whatever `extra` adds, and starts it.
  void Start(HttpConfig config = {}, std::function<void(HttpServer&)> extra = nullptr) {
    config.address = HostPort{"127.0.0.1", 0};
    server_ = std::make_unique<HttpServer>(io_, config, *registry_);
    server_->Route("GET", "/hello", [](const Request&) { return Text("hello\n"); });
    server_->Route("GET", "/echo", Echo);
    server_->Route("POST", "/echo", Echo);
    server_->Route("GET", "/metrics", MetricsHandler({registry_}));
    server_->Route("GET", "/throw",
                   [](const Request&) -> Response { throw std::runtime_error("handler bug"); });
    server_->Route("GET", "/oom", [](const Request&) -> Response { throw std::bad_alloc(); });
    if (extra) extra(*server_);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_NE(server_->BoundAddress().port, 0);
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  HostPort addr() const { return server_->BoundAddress(); }

  // Value of a sample of the registry, or -1 when absent.
  double Sample(const std::string& name, const std::map<std::string, std::string>& labels,
                bool histogram_count = false) {
    for (const auto& family : registry_->Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric) {
        std::map<std::string, std::string> got;
        for (const auto& l : m.label) got[l.name] = l.value;
        if (got != labels) continue;
        if (histogram_count) return static_cast<double>(m.histogram.sample_count);
        return family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
      }
    }
    return -1;
  }

  // Declared before io_: sessions still queued in io_ touch the registry when io_ destroys them.
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::vector<std::thread> threads_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, RoutesToTheRegisteredHandler) {
  Start();
  TestClient c(addr());
  ASSERT_TRUE(c.connected());
  auto r = c.Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello\n");
  EXPECT_EQ(r->header("Content-Type"), "text/plain");
  EXPECT_EQ(r->header("Server"), "mamori");
  EXPECT_NE(r->header("Date").find(" GMT"), std::string::npos);
}

TEST_F(HttpServerTest, UnknownPathIs404JsonError) {
  Start();
  TestClient c(addr());
  auto r = c.Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->header("Content-Type"), "application/json");
  auto j = Json::parse(r->body);
  EXPECT_EQ(j["error"]["code"], 404);
  EXPECT_TRUE(j["error"]["message"].is_string());
  // Exact paths only: no trailing-slash folding, no prefix match.
  EXPECT_EQ(c.Get("/hello/")->status, 404);
  EXPECT_EQ(c.Get("/hello/x")->status, 404);
}

TEST_F(HttpServerTest, OtherMethodIs405WithAllow) {
  Start();
  TestClient c(addr());
  ASSERT_TRUE(c.Send("DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("Allow"), "GET, HEAD");
  EXPECT_EQ(Json::parse(r->body)["error"]["code"], 405);
  ASSERT_TRUE(c.Send("PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Allow"), "GET, POST, HEAD");
}

TEST_F(HttpServerTest, HeadOnGetRouteSendsHeadersOnly) {
  Start();
  TestClient c(addr());
  ASSERT_TRUE(c.Send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = c.Read(/*head=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Length"), "6");
  // No body bytes were sent: the next response on the connection parses cleanly.
  auto next = c.Get("/hello");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "hello\n");
}

TEST_F(HttpServerTest, DecodesPathAndQuery) {
  Start();
  TestClient c(addr());
  ASSERT_TRUE(
      c.Send("GET /echo?q=fail%28ed%29+login&host=web%2D1&flag&empty=&x=1&x=2 HTTP/1.1\r\n"
             "Host: t\r\nX-Trace: abc\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = Json::parse(r->body);
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/echo");
  EXPECT_EQ(j["params"], Json::parse(R"([["q","fail(ed) login"],["host","web-1"],["flag",""],
                                         ["empty",""],["x","1"],["x","2"]])"));
  EXPECT_EQ(j["trace"], "abc");
  EXPECT_EQ(j["peer"].get<std::string>().rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(r->header("X-Echo"), "1");
}

TEST_F(HttpServerTest, PercentEncodedPathMatchesDecodedRoute) {
  Start();
  TestClient c(addr());
  auto r = c.Get("/h%65llo");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, BadPercentEncodingIs400AndCloses) {
  Start();
  TestClient c(addr());
  auto r = c.Get("/echo?q=%zz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"]["code"], 400);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  Start();
  TestClient c(addr());
  for (int i = 0; i < 10; ++i) {
    auto r = c.Get("/echo?i=" + std::to_string(i));
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(Json::parse(r->body)["params"][0][1], std::to_string(i));
  }
  EXPECT_EQ(server_->ActiveConnections(), 1u);
}

TEST_F(HttpServerTest, PipelinedRequestsAnsweredInOrder) {
  Start();
  TestClient c(addr());
  std::string burst;
  for (int i = 0; i < 5; ++i) {
    burst += "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\n" + std::to_string(i);
  }
  burst += "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(c.Send(burst));
  for (int i = 0; i < 5; ++i) {
    auto r = c.Read();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(Json::parse(r->body)["body"], std::to_string(i));
  }
  auto last = c.Read();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, "hello\n");
  EXPECT_EQ(last->header("Connection"), "close");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, BodyOverLimitIs413AndCloses) {
  HttpConfig config;
  config.max_body_bytes = 1024;
  Start(config);
  {
    TestClient c(addr());
    std::string body(1024, 'a');
    ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\n\r\n" + body));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(Json::parse(r->body)["body"], body);
  }
  TestClient c(addr());
  std::string body(64 * 1024, 'b');
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 65536\r\n\r\n"));
  c.Send(body);  // the server may already have answered; a failure here is fine
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(Json::parse(r->body)["error"]["code"], 413);
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, ChunkedBodyOverLimitIs413) {
  HttpConfig config;
  config.max_body_bytes = 16;
  Start(config);
  TestClient c(addr());
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  Start();
  TestClient c(addr());
  ASSERT_TRUE(c.Send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.Send("hello"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["body"], "hello");
}

TEST_F(HttpServerTest, GarbageIs400AndServerKeepsServing) {
  using namespace std::string_literals;
  Start();
  for (std::string garbage :
       {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n"s,
        std::string("GET /hello HTTP/9.9\r\n\r\n"), std::string("GET\r\n\r\n"),
        std::string("GET /hello HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("POST /echo HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
        std::string("GET http://example.com/hello HTTP/1.1\r\nHost: t\r\n\r\n")}) {
    TestClient c(addr());
    ASSERT_TRUE(c.Send(garbage));
    auto r = c.Read();
    ASSERT_TRUE(r) << garbage;
    EXPECT_EQ(r->status, 400) << garbage;
    EXPECT_TRUE(c.WaitClosed()) << garbage;
  }
  TestClient c(addr());
  auto r = c.Get("/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, OversizedHeaderIs431AndCloses) {
  Start();
  TestClient c(addr());
  std::string big(HttpServer::kMaxHeaderBytes + 100, 'x');
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + big + "\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, ClientClosingMidRequestDoesNotHurt) {
  Start();
  {
    TestClient c(addr());
    ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc"));
  }
  EXPECT_TRUE(Eventually([&] { return server_->ActiveConnections() == 0; }));
  TestClient c(addr());
  EXPECT_EQ(c.Get("/hello")->status, 200);
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndConnectionSurvives) {
  Start();
  TestClient c(addr());
  for (const char* path : {"/throw", "/oom"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 500) << path;
    EXPECT_EQ(Json::parse(r->body)["error"]["code"], 500);
  }
  EXPECT_EQ(c.Get("/hello")->status, 200);
}

TEST_F(HttpServerTest, InvalidHandlerStatusIs500) {
  Start({}, [](HttpServer& s) {
    s.Route("GET", "/bad", [](const Request&) { return Response{42, "text/plain", "?", {}}; });
    s.Route("GET", "/nocontent", [](const Request&) { return Response{204, "", "x", {}}; });
  });
  TestClient c(addr());
  EXPECT_EQ(c.Get("/bad")->status, 500);
  auto r = c.Get("/nocontent");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->header("Content-Length"), "");
  EXPECT_EQ(c.Get("/hello")->body, "hello\n");
}

TEST_F(HttpServerTest, MetricsEndpointServesTheRegistry) {
  auto& counter = prometheus::BuildCounter()
                      .Name("test_widgets_total")
                      .Help("widgets")
                      .Register(*registry_)
                      .Add({{"kind", "blue"}});
  counter.Increment(7);
  Start();
  TestClient c(addr());
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("test_widgets_total{kind=\"blue\"} 7"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("# TYPE mamori_api_requests_total counter"), std::string::npos);
}

TEST_F(HttpServerTest, CountsRequestsByRouteAndStatusClass) {
  Start();
  TestClient c(addr());
  c.Get("/hello");
  c.Get("/hello");
  c.Get("/nope");
  c.Get("/throw");
  c.Send("DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n");
  c.Read();
  TestClient bad(addr());
  bad.Send("garbage\r\n\r\n");
  bad.Read();
  // The counter moves after the write completes, so the client may see the response first.
  EXPECT_TRUE(Eventually([&] {
    return Sample("mamori_api_requests_total", {{"route", "/hello"}, {"code", "2xx"}}) == 2 &&
           Sample("mamori_api_requests_total", {{"route", "/hello"}, {"code", "4xx"}}) == 1 &&
           Sample("mamori_api_requests_total", {{"route", "unmatched"}, {"code", "4xx"}}) == 2 &&
           Sample("mamori_api_requests_total", {{"route", "/throw"}, {"code", "5xx"}}) == 1;
  }));
  EXPECT_EQ(Sample("mamori_api_request_duration_seconds", {{"route", "/hello"}}, true), 3);
  EXPECT_EQ(Sample("mamori_api_connections", {}), 2);
  // Nothing keyed by a raw path: the 404's path is not a label value.
  EXPECT_EQ(Sample("mamori_api_requests_total", {{"route", "/nope"}, {"code", "4xx"}}), -1);
}

TEST_F(HttpServerTest, StopClosesIdleConnectionsAndStopsAccepting) {
  Start();
  TestClient c(addr());
  ASSERT_EQ(c.Get("/hello")->status, 200);  // now idle on keep-alive
  TestClient partial(addr());
  ASSERT_TRUE(partial.Send("GET /hel"));
  ASSERT_TRUE(Eventually([&] { return server_->ActiveConnections() == 2; }));
  HostPort where = addr();
  server_->Stop();
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_TRUE(partial.WaitClosed());
  EXPECT_TRUE(Eventually([&] { return server_->ActiveConnections() == 0; }));
  EXPECT_TRUE(Eventually([&] { return !TestClient(where).connected(); }));
  server_->Stop();  // idempotent
}

TEST_F(HttpServerTest, StopLetsAnInFlightResponseFinish) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Start({}, [&](HttpServer& s) {
    s.Route("GET", "/slow", [&entered, released](const Request&) {
      entered.set_value();
      released.wait();
      return Text("done");
    });
  });
  TestClient c(addr());
  ASSERT_TRUE(c.Send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_EQ(entered.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  server_->Stop();
  release.set_value();
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "done");
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_TRUE(Eventually([&] { return server_->ActiveConnections() == 0; }));
}

TEST_F(HttpServerTest, IoContextRunsOutOfWorkAfterStop) {
  Start();
  TestClient c(addr());
  ASSERT_EQ(c.Get("/hello")->status, 200);
  work_.reset();
  server_->Stop();
  // With no work guard, the I/O threads return once the listener and sessions are gone.
  for (auto& t : threads_) t.join();
  threads_.clear();
  EXPECT_TRUE(io_.stopped());
}

TEST_F(HttpServerTest, RouteAfterStartIsIgnored) {
  Start();
  server_->Route("GET", "/late", [](const Request&) { return Text("late"); });
  TestClient c(addr());
  EXPECT_EQ(c.Get("/late")->status, 404);
}

TEST_F(HttpServerTest, BindConflictIsIOError) {
  Start();
  HttpConfig config;
  config.address = addr();
  prometheus::Registry other_registry;
  HttpServer second(io_, config, other_registry);
  Status s = second.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_NE(s.message().find(config.address.ToString()), std::string::npos) << s.ToString();
}

TEST_F(HttpServerTest, UnresolvableHostIsInvalidArgument) {
  HttpConfig config;
  config.address = HostPort{"no-such-host.invalid", 0};
  prometheus::Registry registry;
  HttpServer server(io_, config, registry);
  Status s = server.Start();
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
}

std::string RunCurl(const std::string& args) {
  std::string cmd = "/usr/bin/curl -s -S --max-time 10 " + args + " 2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

TEST_F(HttpServerTest, Curl) {
  if (::access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/curl";
  Start();
  std::string base = "http://" + addr().ToString();
  std::string out = RunCurl("-i '" + base + "/hello'");
  EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
  EXPECT_NE(out.find("hello\n"), std::string::npos) << out;

  out = RunCurl("-G --data-urlencode 'q=sshd.*(Failed|Invalid) user' '" + base + "/echo'");
  auto j = Json::parse(out);
  EXPECT_EQ(j["params"][0][1], "sshd.*(Failed|Invalid) user") << out;

  // Above 1 KiB curl sends "Expect: 100-continue"; the body still arrives whole.
  std::string body(4000, 'z');
  out = RunCurl("--data-binary '" + body + "' '" + base + "/echo'");
  EXPECT_EQ(Json::parse(out)["body"], body);

  out = RunCurl("-I '" + base + "/hello'");
  EXPECT_NE(out.find("Content-Length: 6"), std::string::npos) << out;

  out = RunCurl("-w '%{http_code}' -o /dev/null '" + base + "/missing'");
  EXPECT_EQ(out, "404");
}

// --- HTTPS ---

namespace pki = ::mamori::testing;
namespace bhttp = boost::beast::http;

HttpConfig Https(bool verify_client = false) {
  HttpConfig c;
  c.tls.cert_file = pki::Pki().server;
  c.tls.key_file = pki::Pki().server_key;
  c.tls.handshake_timeout_ms = 500;
  if (verify_client) {
    c.tls.ca_file = pki::Pki().ca;
    c.tls.verify_client = true;
  }
  return c;
}

// A blocking HTTPS client that trusts the test CA.
struct HttpsClient {
  explicit HttpsClient(boost::asio::io_context& io, const std::string& cert = "",
                       const std::string& key = "")
      : ctx(MakeContext(cert, key)), stream(io, ctx) {}
  static boost::asio::ssl::context MakeContext(const std::string& cert, const std::string& key) {
    boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
    ctx.load_verify_file(pki::Pki().ca);
    ctx.set_verify_mode(boost::asio::ssl::verify_peer);
    if (!cert.empty()) {
      ctx.use_certificate_chain_file(cert);
      ctx.use_private_key_file(key, boost::asio::ssl::context::pem);
    }
    return ctx;
  }
  boost::system::error_code Connect(const HostPort& hp) {
    boost::system::error_code ec;
    stream.next_layer().connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(hp.host), hp.port), ec);
    if (!ec) stream.handshake(boost::asio::ssl::stream_base::client, ec);
    return ec;
  }
  boost::asio::ssl::context ctx;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream;
};

TEST_F(HttpServerTest, HttpsServesPipelinedRequestsOverOneConnection) {
  ASSERT_TRUE(pki::Pki().ok);
  Start(Https());
  EXPECT_TRUE(server_->tls());
  boost::asio::io_context client_io;
  HttpsClient c(client_io);
  ASSERT_FALSE(c.Connect(addr()));
  const std::string two =
      "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?a=1 HTTP/1.1\r\nHost: x\r\n\r\n";
  boost::asio::write(c.stream, boost::asio::buffer(two));
  boost::beast::flat_buffer buf;
  bhttp::response<bhttp::string_body> r1, r2;
  bhttp::read(c.stream, buf, r1);
  bhttp::read(c.stream, buf, r2);
  EXPECT_EQ(r1.result_int(), 200);
  EXPECT_EQ(r1.body(), "hello\n");
  EXPECT_EQ(r2.result_int(), 200);
  EXPECT_EQ(Json::parse(r2.body())["params"], Json::parse(R"([["a","1"]])"));
  EXPECT_EQ(
      Sample("mamori_tls_handshake_failures_total", {{"listener", "api"}, {"reason", "protocol"}}),
      0);
}

TEST_F(HttpServerTest, HttpsRefusesPlainHttpGarbageAndSilenceAndKeepsServing) {
  ASSERT_TRUE(pki::Pki().ok);
  Start(Https());
  {
    TestClient plain(addr());
    ASSERT_TRUE(plain.connected());
    plain.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_FALSE(plain.Read().has_value());
  }
  {
    TestClient garbage(addr());
    garbage.Send(std::string(3000, '\x16'));
    EXPECT_TRUE(garbage.WaitClosed());
  }
  {
    TestClient silent(addr());
    EXPECT_TRUE(silent.WaitClosed());  // after handshake_timeout (500 ms)
  }
  EXPECT_TRUE(Eventually([&] {
    return Sample("mamori_tls_handshake_failures_total",
                  {{"listener", "api"}, {"reason", "protocol"}}) == 2 &&
           Sample("mamori_tls_handshake_failures_total",
                  {{"listener", "api"}, {"reason", "timeout"}}) == 1;
  }));
  boost::asio::io_context client_io;
  HttpsClient c(client_io);
  ASSERT_FALSE(c.Connect(addr()));
  boost::asio::write(c.stream,
                     boost::asio::buffer(std::string("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")));
  boost::beast::flat_buffer buf;
  bhttp::response<bhttp::string_body> r;
  bhttp::read(c.stream, buf, r);
  EXPECT_EQ(r.result_int(), 200);
}

TEST_F(HttpServerTest, HttpsMutualTlsRequiresAClientCertificate) {
  ASSERT_TRUE(pki::Pki().ok);
  Start(Https(/*verify_client=*/true));
  boost::asio::io_context client_io;
  auto get = [&](HttpsClient& c) {
    boost::system::error_code ec = c.Connect(addr());
    if (ec) return -1;
    boost::asio::write(
        c.stream, boost::asio::buffer(std::string("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")), ec);
    boost::beast::flat_buffer buf;
    bhttp::response<bhttp::string_body> r;
    if (!ec) bhttp::read(c.stream, buf, r, ec);
    return ec ? -1 : static_cast<int>(r.result_int());
  };
  HttpsClient anonymous(client_io);
  EXPECT_EQ(get(anonymous), -1);
  HttpsClient rogue(client_io, pki::Pki().rogue, pki::Pki().rogue_key);
  EXPECT_EQ(get(rogue), -1);
  HttpsClient good(client_io, pki::Pki().client, pki::Pki().client_key);
  EXPECT_EQ(get(good), 200);
  EXPECT_TRUE(Eventually([&] {
    return Sample("mamori_tls_handshake_failures_total",
                  {{"listener", "api"}, {"reason", "no_client_cert"}}) == 1 &&
           Sample("mamori_tls_handshake_failures_total",
                  {{"listener", "api"}, {"reason", "bad_client_cert"}}) == 1;
  }));
}

TEST_F(HttpServerTest, HttpsBadCertificateFailsStartNamingTheKey) {
  ASSERT_TRUE(pki::Pki().ok);
  HttpConfig c = Https();
  c.address = HostPort{"127.0.0.1", 0};
  c.tls.key_file = pki::Pki().Path("no-such.key");
  HttpServer server(io_, c, *registry_);
  Status s = server.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("http.tls.key_file"), std::string::npos) << s.message();
}

TEST_F(HttpServerTest, HttpsReloadKeepsTheOldCertificateWhenTheNewOneIsBroken) {
  ASSERT_TRUE(pki::Pki().ok);
  const std::string cert = pki::Pki().Path("api-reload.pem");
  ASSERT_TRUE(pki::Sh("cp " + pki::Pki().server + " " + cert));
  HttpConfig c = Https();
  c.tls.cert_file = cert;
  Start(c);
  EXPECT_TRUE(server_->ReloadTls().ok());
  pki::WriteFile(cert, "garbage");
  Status s = server_->ReloadTls();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("http.tls.cert_file"), std::string::npos) << s.message();
  boost::asio::io_context client_io;
  HttpsClient client(client_io);
  EXPECT_FALSE(client.Connect(addr()));
}

}  // namespace
}  // namespace mamori::api
