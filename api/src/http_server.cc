// The Beast side of HttpServer, in the shape of the Beast examples: a Listener accepts and gives
// each socket its own strand; a Session owns the stream and buffers and chains
// read header → (100 Continue) → read body → handle → write → read header ..., one operation in
// flight, each with a timeout. After a response that closes the connection the session shuts
// down its sending side and drains what the client still sends for a moment (a "lingering
// close"), so that the client reads the error response instead of a reset.
//
// HTTPS (HttpConfig::tls): the same Session over beast::ssl_stream<beast::tcp_stream>; it first
// runs the server handshake (bounded by tls.handshake_timeout; a failure is counted in
// mamori_tls_handshake_failures_total{listener="api",reason}), and its lingering close sends a
// TLS close_notify instead of shutting the socket's sending side.
#include "mamori/api/http_server.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "mamori/api/target.h"
#include "mamori/core/log.h"
#include "mamori/core/tls.h"
#include "router.h"

namespace mamori::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kIoTimeout = std::chrono::seconds(HttpServer::kIoTimeoutSeconds);
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr std::size_t kMaxLingerBytes = 1024 * 1024;
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

std::string EndpointString(const tcp::endpoint& ep) {
  std::string addr = ep.address().to_string();
  if (ep.address().is_v6()) addr = "[" + addr + "]";
  return addr + ":" + std::to_string(ep.port());
}

// RFC 7231 IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string HttpDate() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Per-route metrics, resolved once at Start so the request path only increments.
struct RouteMetrics {
  std::array<prometheus::Counter*, 5> by_class{};  // "1xx".."5xx"
  prometheus::Histogram* duration = nullptr;
};

class Metrics {
 public:
  explicit Metrics(prometheus::Registry& registry)
      : requests_(prometheus::BuildCounter()
                      .Name("mamori_api_requests_total")
                      .Help("HTTP responses sent, by route (the registered path, or "
                            "\"unmatched\") and status class (\"2xx\", \"4xx\", ...)")
                      .Register(registry)),
        duration_(prometheus::BuildHistogram()
                      .Name("mamori_api_request_duration_seconds")
                      .Help("Time from a request's header received to its response written, "
                            "by route")
                      .Register(registry)),
        connections_(prometheus::BuildGauge()
                         .Name("mamori_api_connections")
                         .Help("Open HTTP connections")
                         .Register(registry)
                         .Add({})) {}

  void AddRoute(std::string_view route) {
    static const prometheus::Histogram::BucketBoundaries kBuckets = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    RouteMetrics& m = routes_[std::string(route)];
    for (int c = 0; c < 5; ++c) {
      std::string code = std::to_string(c + 1) + "xx";
      m.by_class[c] = &requests_.Add({{"route", std::string(route)}, {"code", code}});
    }
    m.duration = &duration_.Add({{"route", std::string(route)}}, kBuckets);
  }

  // REQUIRES: AddRoute(Router::kUnmatched) was called.
  void Observe(std::string_view route, int status, double seconds) const {
    auto it = routes_.find(route);
    if (it == routes_.end()) it = routes_.find(Router::kUnmatched);
    int c = std::clamp(status / 100, 1, 5) - 1;
    it->second.by_class[c]->Increment();
    it->second.duration->Observe(seconds);
  }

  prometheus::Gauge& connections() { return connections_; }

  // HTTPS only: registers mamori_tls_handshake_failures_total{listener="api",reason}. Before
  // Start's listener runs.
  void EnableTls(prometheus::Registry& registry) {
    auto& family = prometheus::BuildCounter()
                       .Name("mamori_tls_handshake_failures_total")
                       .Help(std::string(kTlsHandshakeFailuresHelp))
                       .Register(registry);
    for (std::string_view reason : kTlsHandshakeFailureReasons) {
      tls_failures_[reason] = &family.Add({{"listener", "api"}, {"reason", std::string(reason)}});
    }
    tls_expiry_ = &prometheus::BuildGauge()
                       .Name("mamori_tls_certificate_expiry_timestamp_seconds")
                       .Help(std::string(kTlsCertificateExpiryHelp))
                       .Register(registry)
                       .Add({{"listener", "api"}});
  }
  void SetCertificateExpiry(std::int64_t seconds) const {
    if (tls_expiry_ != nullptr) tls_expiry_->Set(static_cast<double>(seconds));
  }
  void HandshakeFailed(std::string_view reason) const {
    auto it = tls_failures_.find(reason);
    if (it == tls_failures_.end()) it = tls_failures_.find("other");
    if (it != tls_failures_.end()) it->second->Increment();
  }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Gauge& connections_;
  std::map<std::string, RouteMetrics, std::less<>> routes_;        // written before Start only
  std::map<std::string_view, prometheus::Counter*> tls_failures_;  // written before Start only
  prometheus::Gauge* tls_expiry_ = nullptr;                        // written before Start only
};

// What the listener needs of a session of either stream type.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void Stop() = 0;  // any thread
};

// What the listener and every session share. Outlives the HttpServer while sessions finish.
struct ServerState {
  ServerState(const HttpConfig& c, prometheus::Registry& r) : config(c), registry(r), metrics(r) {}

  const HttpConfig config;
  prometheus::Registry& registry;
  Router router;    // read-only after Start
  Metrics metrics;  // read-only after Start (the metrics themselves are thread-safe)
  std::atomic<bool> stopping_flag{false};  // mirrors `stopping`, read without the lock
  std::atomic<std::size_t> open_sessions{0};

  std::mutex mu;
  bool stopping = false;                                                   // GUARDED_BY(mu)
  std::uint64_t next_session_id = 0;                                       // GUARDED_BY(mu)
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;  // GUARDED_BY(mu)
};

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <typename Stream>
Stream MakeStream(tcp::socket&& socket, const std::shared_ptr<net::ssl::context>& context) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    return Stream(std::move(socket), *context);
  } else {
    return Stream(std::move(socket));
  }
}

template <typename Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // `context`: HTTPS only (nullptr for HTTP); kept alive as long as the session.
  Session(tcp::socket&& socket, std::shared_ptr<ServerState> state,
          std::shared_ptr<net::ssl::context> context)
      : context_(std::move(context)),
        stream_(MakeStream<Stream>(std::move(socket), context_)),
        state_(std::move(state)) {
    beast::error_code ec;
    auto ep = lowest().socket().remote_endpoint(ec);
    if (!ec) peer_ = EndpointString(ep);
    state_->open_sessions.fetch_add(1);
    state_->metrics.connections().Increment();
  }

  ~Session() {
    state_->metrics.connections().Decrement();
    state_->open_sessions.fetch_sub(1);
    std::lock_guard lock(state_->mu);
    state_->sessions.erase(id_);
  }

  // Registers with the server (or closes at once if it is stopping) and starts reading.
  void Run() {
    {
      std::lock_guard lock(state_->mu);
      if (!state_->stopping) {
        id_ = ++state_->next_session_id;
        state_->sessions[id_] = this->weak_from_this();
      }
    }
    if (id_ == 0) return CloseNow();
    if constexpr (kTls) {
      net::dispatch(stream_.get_executor(),
                    beast::bind_front_handler(&Session::DoHandshake, this->shared_from_this()));
    } else {
      net::dispatch(stream_.get_executor(),
                    beast::bind_front_handler(&Session::DoReadHeader, this->shared_from_this()));
    }
  }

  // Any thread. Closes the connection if it is waiting for a request (or in its TLS
  // handshake); a response being written completes first (OnWrite sees the stopping flag).
  void Stop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->waiting_) self->CloseNow();
    });
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void DoHandshake() {
    if constexpr (kTls) {
      if (state_->stopping_flag.load()) return CloseNow();
      waiting_ = true;
      lowest().expires_after(std::chrono::milliseconds(state_->config.tls.handshake_timeout_ms));
      stream_.async_handshake(
          net::ssl::stream_base::server,
          beast::bind_front_handler(&Session::OnHandshake, this->shared_from_this()));
    }
  }

  void OnHandshake(beast::error_code ec) {
    waiting_ = false;
    if (!ec) return DoReadHeader();
    if (closed_ || state_->stopping_flag.load()) return CloseNow();
    std::string_view reason =
        ec == beast::error::timeout ? std::string_view("timeout") : TlsHandshakeFailureReason(ec);
    state_->metrics.HandshakeFailed(reason);
    log::Debug("api", "TLS handshake with " + peer_ + " failed (" + std::string(reason) +
                          "): " + ec.message());
    CloseNow();
  }

  void DoReadHeader() {
    if (state_->stopping_flag.load()) return CloseNow();
    parser_.emplace();
    parser_->header_limit(HttpServer::kMaxHeaderBytes);
    parser_->body_limit(state_->config.max_body_bytes);
    waiting_ = true;
    lowest().expires_after(kIoTimeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::OnReadHeader, this->shared_from_this()));
  }

  void OnReadHeader(beast::error_code ec, std::size_t) {
    waiting_ = false;
    started_ = SteadyClock::now();
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return Handle();
    const auto& req = parser_->get();
    if (req.version() >= 11 && beast::iequals(req[http::field::expect], "100-continue")) {
      continue_ = {http::status::continue_, req.version()};
      lowest().expires_after(kIoTimeout);
      http::async_write(
          stream_, continue_,
          beast::bind_front_handler(&Session::OnWriteContinue, this->shared_from_this()));
      return;
    }
    DoReadBody();
  }

  void OnWriteContinue(beast::error_code ec, std::size_t) {
    if (ec) return CloseNow();
    DoReadBody();
  }

  void DoReadBody() {
    if (state_->stopping_flag.load()) return CloseNow();
    waiting_ = true;
    lowest().expires_after(kIoTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnReadBody, this->shared_from_this()));
  }

  void OnReadBody(beast::error_code ec, std::size_t) {
    waiting_ = false;
    if (ec) return OnReadError(ec);
    Handle();
  }

  void OnReadError(beast::error_code ec) {
    static const auto& kHttpCategory = http::make_error_code(http::error::bad_target).category();
    if (closed_ || ec == net::error::operation_aborted) return;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == beast::error::timeout || ec.category() != kHttpCategory) {
      // The client went away, stalled, or the socket failed: nobody to answer.
      return CloseNow();
    }
    if (ec == http::error::body_limit) {
      return SendError(413, "request body larger than " +
                                std::to_string(state_->config.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return SendError(431, "request header larger than " +
                                std::to_string(HttpServer::kMaxHeaderBytes) + " bytes");
    }
    log::Debug("api", "bad request from " + peer_ + ": " + ec.message());
    SendError(400, "bad request: " + ec.message());
  }

  // An error before a request could be routed: answer and close.
  void SendError(int status, std::string_view message) {
    Send(JsonError(status, message), Router::kUnmatched, /*head=*/false, /*close=*/true,
         /*version=*/11);
  }

  void Handle() {
    try {
      http::request<http::string_body> msg = parser_->release();
      parser_.reset();
      bool close = !msg.keep_alive() || state_->stopping_flag.load();
      auto target = ParseTarget(msg.target());
      if (!target.ok()) {
        log::Debug("api", "bad request target from " + peer_ + ": " + target.status().message());
        return Send(JsonError(400, "bad request target: " + target.status().message()),
                    Router::kUnmatched, /*head=*/false, /*close=*/true, msg.version());
      }
      Request req;
      req.method = std::string(msg.method_string());
      req.path = std::move(target->path);
      req.params = std::move(target->params);
      for (const auto& field : msg) {
        req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      req.body = std::move(msg.body());
      req.peer = peer_;
      Router::Outcome out = state_->router.Dispatch(req);
      Send(std::move(out.response), out.route, out.head || req.method == "HEAD", close,
           msg.version());
    } catch (const std::exception& e) {
      // Out of memory building the request or the response: drop the connection.
      log::Error("api", "dropping connection from " + peer_ + ": " + e.what());
      CloseNow();
    }
  }

  void Send(Response r, std::string_view route, bool head, bool close, unsigned version) {
    res_ = {};
    res_.version(version);
    res_.result(static_cast<unsigned>(r.status));
    res_.set(http::field::server, "mamori");
    res_.set(http::field::date, HttpDate());
    if (!r.content_type.empty() && !HasLineBreak(r.content_type)) {
      res_.set(http::field::content_type, r.content_type);
    }
    for (const auto& [name, value] : r.headers) {
      if (name.empty() || HasLineBreak(name) || HasLineBreak(value)) {
        log::Error("api", "handler for " + std::string(route) + " set an invalid header; dropped");
        continue;
      }
      res_.insert(name, value);
    }
    res_.keep_alive(!close);
    if (r.status == 204 || r.status == 304) {
      r.body.clear();  // no body and no Content-Length (RFC 7230 3.3.2)
    } else {
      res_.body() = std::move(r.body);
      res_.prepare_payload();
      if (head) res_.body().clear();  // Content-Length stays that of the GET response
    }
    route_ = route;
    status_ = r.status;
    close_after_write_ = close;
    lowest().expires_after(kIoTimeout);
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&Session::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    std::chrono::duration<double> elapsed = SteadyClock::now() - started_;
    state_->metrics.Observe(route_, status_, elapsed.count());
    res_ = {};
    if (ec) return CloseNow();
    // Shutting down: no lingering (Stop() promises the connection goes away promptly).
    if (state_->stopping_flag.load()) return CloseNow();
    if (close_after_write_) return Linger();
    DoReadHeader();
  }

  void Linger() {
    buffer_.clear();
    lingered_ = 0;
    waiting_ = true;
    lowest().expires_after(kLingerTimeout);
    if constexpr (kTls) {
      // close_notify, then wait (bounded) for the client's: it has read the whole response.
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->CloseNow(); });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      DoDrain();
    }
  }

  void DoDrain() {
    stream_.async_read_some(net::buffer(drain_),
                            beast::bind_front_handler(&Session::OnDrain, this->shared_from_this()));
  }

  void OnDrain(beast::error_code ec, std::size_t n) {
    lingered_ += n;
    if (ec || lingered_ > kMaxLingerBytes) return CloseNow();
    DoDrain();
  }

  void CloseNow() {
    if (closed_) return;
    closed_ = true;
    waiting_ = false;
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  const std::shared_ptr<net::ssl::context> context_;  // HTTPS only
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;      // alive until its write completes
  http::response<http::empty_body> continue_;  // "100 Continue", alive during its write
  std::array<char, 4096> drain_{};
  std::shared_ptr<ServerState> state_;
  std::string peer_;
  std::uint64_t id_ = 0;
  // The fields below are touched only on the session's strand.
  bool waiting_ = false;  // a read (of a request, or lingering) is pending
  bool closed_ = false;
  bool close_after_write_ = false;
  std::size_t lingered_ = 0;
  SteadyClock::time_point started_;
  std::string_view route_ = Router::kUnmatched;  // points into the Router or a literal
  int status_ = 0;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& io, std::shared_ptr<ServerState> state,
           std::shared_ptr<TlsServerContext> tls)
      : io_(io),
        acceptor_(net::make_strand(io)),
        retry_timer_(acceptor_.get_executor()),
        state_(std::move(state)),
        tls_(std::move(tls)) {}

  Status Open(const tcp::endpoint& endpoint) {
    beast::error_code ec;
    auto fail = [&](std::string_view what) {
      return Status::IOError("http: " + std::string(what) + " " + EndpointString(endpoint) + ": " +
                             ec.message());
    };
    if (acceptor_.open(endpoint.protocol(), ec); ec) return fail("open");
    if (acceptor_.set_option(net::socket_base::reuse_address(true), ec); ec) {
      return fail("set SO_REUSEADDR on");
    }
    if (acceptor_.bind(endpoint, ec); ec) return fail("bind");
    if (acceptor_.listen(net::socket_base::max_listen_connections, ec); ec) return fail("listen");
    local_ = acceptor_.local_endpoint(ec);
    if (ec) return fail("local address of");
    return Status::Ok();
  }

  const tcp::endpoint& local() const { return local_; }

  void Run() {
    net::dispatch(acceptor_.get_executor(),
                  beast::bind_front_handler(&Listener::DoAccept, shared_from_this()));
  }

  // Any thread.
  void Stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_timer_.cancel();
    });
  }

 private:
  void DoAccept() {
    if (!acceptor_.is_open()) return;
    acceptor_.async_accept(net::make_strand(io_),
                           beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // EMFILE and friends: back off instead of spinning.
      log::Warn("api", "accept on " + EndpointString(local_) + ": " + ec.message());
      retry_timer_.expires_after(kAcceptRetryDelay);
      retry_timer_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e) self->DoAccept();
      });
      return;
    }
    if (tls_) {
      std::make_shared<Session<TlsStream>>(std::move(socket), state_, tls_->Get())->Run();
    } else {
      std::make_shared<Session<PlainStream>>(std::move(socket), state_, nullptr)->Run();
    }
    DoAccept();
  }

  net::io_context& io_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  std::shared_ptr<ServerState> state_;
  const std::shared_ptr<TlsServerContext> tls_;  // HTTPS only
  tcp::endpoint local_;
};

}  // namespace

struct HttpServer::Impl {
  Impl(net::io_context& io, const HttpConfig& config, prometheus::Registry& registry)
      : io(io), state(std::make_shared<ServerState>(config, registry)) {}

  net::io_context& io;
  std::shared_ptr<ServerState> state;
  std::shared_ptr<Listener> listener;
  std::shared_ptr<TlsServerContext> tls;  // HTTPS only
  bool started = false;
  HostPort bound;
};

HttpServer::HttpServer(net::io_context& io, const HttpConfig& config,
                       prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(io, config, registry)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(std::string method, std::string path, Handler handler) {
  if (impl_->started) {
    log::Error("api", "route " + method + " " + path + " added after Start(); ignored");
    return;
  }
  impl_->state->router.Add(std::move(method), std::move(path), std::move(handler));
}

Status HttpServer::Start() {
  if (impl_->started) return Status::Internal("http: Start() called twice");
  if (impl_->state->stopping_flag.load()) return Status::Unavailable("http: server stopped");
  const HostPort& address = impl_->state->config.address;
  beast::error_code ec;
  tcp::endpoint endpoint;
  auto ip = net::ip::make_address(address.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(ip, address.port);
  } else {
    tcp::resolver resolver(impl_->io);
    auto results = resolver.resolve(address.host, std::to_string(address.port), ec);
    if (ec || results.empty()) {
      return Status::InvalidArgument("http: cannot resolve '" + address.host +
                                     "': " + (ec ? ec.message() : "no address"));
    }
    endpoint = results.begin()->endpoint();
  }
  std::shared_ptr<TlsServerContext> tls;
  if (impl_->state->config.tls.enabled()) {
    auto made = TlsServerContext::Create(impl_->state->config.tls, "http.tls");
    if (!made.ok()) return made.status();
    tls = std::move(made).value();
  }
  auto listener = std::make_shared<Listener>(impl_->io, impl_->state, tls);
  if (Status s = listener->Open(endpoint); !s.ok()) return s;

  auto& metrics = impl_->state->metrics;
  if (tls) {
    metrics.EnableTls(impl_->state->registry);
    metrics.SetCertificateExpiry(tls->NotAfterSeconds());
  }
  metrics.AddRoute(Router::kUnmatched);
  for (std::string_view path : impl_->state->router.Paths()) metrics.AddRoute(path);

  impl_->listener = std::move(listener);
  impl_->started = true;
  impl_->bound =
      HostPort{impl_->listener->local().address().to_string(), impl_->listener->local().port()};
  impl_->tls = tls;
  log::Info("api", "listening on " + impl_->bound.ToString() + (tls ? " (https)" : " (http)"));
  if (tls) {
    log::Info("api",
              "tls: certificate " + tls->Describe() +
                  (impl_->state->config.tls.verify_client ? "; client certificates required" : ""));
  }
  impl_->listener->Run();
  return Status::Ok();
}

HostPort HttpServer::BoundAddress() const { return impl_->bound; }

void HttpServer::Stop() {
  ServerState& state = *impl_->state;
  std::vector<std::shared_ptr<SessionBase>> sessions;
  {
    std::lock_guard lock(state.mu);
    if (state.stopping) return;
    state.stopping = true;
    state.stopping_flag.store(true);
    for (const auto& [id, weak] : state.sessions) {
      if (auto s = weak.lock()) sessions.push_back(std::move(s));
    }
  }
  if (impl_->listener) impl_->listener->Stop();
  for (const auto& s : sessions) s->Stop();
}

Status HttpServer::ReloadTls() {
  if (!impl_->tls) return Status::Ok();
  Status st = impl_->tls->Reload();
  if (st.ok()) {
    impl_->state->metrics.SetCertificateExpiry(impl_->tls->NotAfterSeconds());
    log::Info("api", "tls: reloaded certificate " + impl_->tls->Describe());
  }
  return st;
}

bool HttpServer::tls() const { return impl_->tls != nullptr; }

std::size_t HttpServer::ActiveConnections() const { return impl_->state->open_sessions.load(); }

}  // namespace mamori::api
