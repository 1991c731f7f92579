#include "tcp_listener.h"

// clang-format off
#include <utility>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
// clang-format on
#include <algorithm>
#include <type_traits>

#include "mamori/core/log.h"

namespace mamori::collector {
namespace {

namespace asio = boost::asio;
using boost::asio::ip::tcp;
using boost::system::error_code;

constexpr std::chrono::milliseconds kAcceptRetry{100};

}  // namespace

// --- TcpListener ---

TcpListener::TcpListener(asio::io_context& io, ListenerConfig config,
                         std::shared_ptr<SharedState> shared, std::string where)
    : io_(io),
      config_(std::move(config)),
      transport_(config_.kind == ListenerConfig::Kind::kSyslogTls ? Transport::kTls
                                                                  : Transport::kTcp),
      where_(std::move(where)),
      shared_(std::move(shared)),
      metrics_(shared_->families, config_.name, transport_),
      tcp_metrics_(shared_->families, config_.name),
      strand_(asio::make_strand(io)),
      acceptor_(strand_),
      accept_retry_(strand_) {
  if (transport_ == Transport::kTls) tls_metrics_.emplace(shared_->families, config_.name);
}

Status TcpListener::ReloadTls() {
  if (!tls_) return Status::Ok();
  Status st = tls_->Reload();
  if (st.ok()) tls_metrics_->certificate_expiry.Set(static_cast<double>(tls_->NotAfterSeconds()));
  return st;
}

std::string TcpListener::DescribeTls() const { return tls_ ? tls_->Describe() : ""; }

Status TcpListener::Open() {
  const std::string where = ListenerContext(config_);
  if (transport_ == Transport::kTls) {
    auto tls = TlsServerContext::Create(config_.tls, where_ + ".tls");
    if (!tls.ok()) return Status::InvalidArgument(where + tls.status().message());
    tls_ = std::move(tls).value();
    tls_metrics_->certificate_expiry.Set(static_cast<double>(tls_->NotAfterSeconds()));
  }
  auto address = ResolveHost(config_.address.host);
  if (!address.ok()) return Status::InvalidArgument(where + address.status().message());
  tcp::endpoint endpoint(*address, config_.address.port);
  error_code ec;
  if (acceptor_.open(endpoint.protocol(), ec); ec) {
    return Status::IOError(where + "open: " + ec.message());
  }
  // Lets a restarted daemon bind while old connections sit in TIME_WAIT; on Linux it does not
  // allow two listening sockets on one port.
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec); ec) {
    return Status::IOError(where + "SO_REUSEADDR: " + ec.message());
  }
  if (acceptor_.bind(endpoint, ec); ec) return Status::IOError(where + "bind: " + ec.message());
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return Status::IOError(where + "listen: " + ec.message());
  }
  tcp::endpoint local = acceptor_.local_endpoint(ec);
  if (ec) return Status::IOError(where + "local address: " + ec.message());
  bound_ = HostPort{local.address().to_string(), local.port()};
  return Status::Ok();
}

void TcpListener::Run() {
  asio::post(strand_, [self = shared_from_this()] { self->DoAccept(); });
}

void TcpListener::Stop() {
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& [id, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  asio::post(strand_, [self = shared_from_this()] {
    error_code ignored;
    self->acceptor_.close(ignored);
    self->accept_retry_.cancel();
  });
  for (auto& s : live) s->Stop();
}

void TcpListener::DoAccept() {
  if (!acceptor_.is_open()) return;
  // Each connection gets its own strand: the io_context may be run by several threads.
  acceptor_.async_accept(
      asio::any_io_executor(asio::make_strand(io_)),
      asio::bind_executor(strand_, [self = shared_from_this()](error_code ec, tcp::socket s) {
        self->OnAccept(ec, std::move(s));
      }));
}

void TcpListener::OnAccept(const error_code& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // EMFILE, ENFILE, ENOBUFS...: the listener lives on; retry shortly instead of spinning.
    log::Warn("collector", ListenerContext(config_) + "accept: " + ec.message());
    accept_retry_.expires_after(kAcceptRetry);
    accept_retry_.async_wait([self = shared_from_this()](error_code wait_ec) {
      if (!wait_ec) self->DoAccept();
    });
    return;
  }
  std::shared_ptr<SessionBase> session;
  {
    std::lock_guard lock(mu_);
    error_code peer_ec;
    const tcp::endpoint remote = socket.remote_endpoint(peer_ec);
    if (stopping_ || peer_ec) {
      error_code ignored;
      socket.close(ignored);
    } else if (sessions_.size() >= config_.max_connections) {
      tcp_metrics_.rejected.Increment();
      error_code ignored;
      socket.close(ignored);
    } else {
      const std::uint64_t id = next_id_++;
      std::string peer = FormatPeer(remote.address(), remote.port());
      if (tls_) {
        session = std::make_shared<TcpSession<TlsStream>>(shared_from_this(), id, std::move(socket),
                                                          std::move(peer), tls_->Get());
      } else {
        session = std::make_shared<TcpSession<PlainStream>>(
            shared_from_this(), id, std::move(socket), std::move(peer), nullptr);
      }
      sessions_.emplace(id, session);
      tcp_metrics_.connections.Increment();
    }
  }
  if (session) session->Start();
  DoAccept();
}

void TcpListener::OnSessionClosed(std::uint64_t id) {
  std::lock_guard lock(mu_);
  if (sessions_.erase(id) > 0) tcp_metrics_.connections.Decrement();
}

// --- TcpSession ---

namespace {

template <typename Stream>
Stream MakeStream(tcp::socket socket, const std::shared_ptr<asio::ssl::context>& context) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    return Stream(std::move(socket), *context);
  } else {
    return socket;
  }
}

}  // namespace

template <typename Stream>
TcpSession<Stream>::TcpSession(std::shared_ptr<TcpListener> listener, std::uint64_t id,
                               tcp::socket socket, std::string peer,
                               std::shared_ptr<asio::ssl::context> context)
    : listener_(std::move(listener)),
      config_(listener_->config()),
      metrics_(listener_->metrics()),
      tcp_metrics_(listener_->tcp_metrics()),
      id_(id),
      peer_(std::move(peer)),
      context_(std::move(context)),
      stream_(MakeStream<Stream>(std::move(socket), context_)),
      idle_timer_(stream_.get_executor()),
      retry_timer_(stream_.get_executor()),
      buffer_(kReadBufferBytes),
      framer_(config_.max_message_bytes) {}

template <typename Stream>
tcp::socket& TcpSession<Stream>::socket() {
  if constexpr (kTls) {
    return stream_.next_layer();
  } else {
    return stream_;
  }
}

template <typename Stream>
void TcpSession<Stream>::Start() {
  asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
    if constexpr (kTls) {
      self->DoHandshake();
    } else {
      self->DoRead();
    }
  });
}

template <typename Stream>
void TcpSession<Stream>::Stop() {
  asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
    self->stopping_ = true;
    if (self->reading_ || self->handshaking_) {
      error_code ignored;
      self->socket().cancel(ignored);  // OnRead/OnHandshake sees operation_aborted and closes
    }
    // While waiting for room in the queue, the retry loop finishes the delivery, then closes.
  });
}

template <typename Stream>
void TcpSession<Stream>::DoHandshake() {
  if constexpr (kTls) {
    if (stopping_) return Close(CloseReason::kShutdown);
    handshaking_ = true;
    idle_timer_.expires_after(std::chrono::milliseconds(config_.tls.handshake_timeout_ms));
    idle_timer_.async_wait(
        [self = this->shared_from_this()](error_code ec) { self->OnHandshakeTimer(ec); });
    stream_.async_handshake(
        asio::ssl::stream_base::server,
        [self = this->shared_from_this()](error_code ec) { self->OnHandshake(ec); });
  }
}

template <typename Stream>
void TcpSession<Stream>::OnHandshakeTimer(const error_code& ec) {
  if (ec || !handshaking_) return;
  handshake_expired_ = true;
  error_code ignored;
  socket().cancel(ignored);
}

template <typename Stream>
void TcpSession<Stream>::OnHandshake(const error_code& ec) {
  handshaking_ = false;
  idle_timer_.cancel();
  if (!ec) return DoRead();
  if (ec == asio::error::operation_aborted && !handshake_expired_) {
    return Close(CloseReason::kShutdown);
  }
  const std::string_view reason =
      handshake_expired_ ? std::string_view("timeout") : TlsHandshakeFailureReason(ec);
  listener_->tls_metrics().HandshakeFailure(reason).Increment();
  log::Debug("collector", ListenerContext(config_) + "TLS handshake with " + peer_ + " failed (" +
                              std::string(reason) + "): " + ec.message());
  Close(CloseReason::kHandshakeFailed);
}

template <typename Stream>
void TcpSession<Stream>::DoRead() {
  if (closed_) return;
  if (stopping_) return Close(CloseReason::kShutdown);
  reading_ = true;
  if (config_.idle_timeout_ms > 0) {
    idle_timer_.expires_after(std::chrono::milliseconds(config_.idle_timeout_ms));
    idle_timer_.async_wait(
        [self = this->shared_from_this()](error_code ec) { self->OnIdleTimer(ec); });
  }
  stream_.async_read_some(
      asio::buffer(buffer_),
      [self = this->shared_from_this()](error_code ec, std::size_t n) { self->OnRead(ec, n); });
}

template <typename Stream>
void TcpSession<Stream>::OnIdleTimer(const error_code& ec) {
  // A stale completion (the timer was re-armed after it fired) shows a future expiry.
  if (ec || !reading_ || idle_timer_.expiry() > asio::steady_timer::clock_type::now()) return;
  idle_fired_ = true;
  error_code ignored;
  socket().cancel(ignored);
}

template <typename Stream>
void TcpSession<Stream>::OnRead(const error_code& ec, std::size_t n) {
  reading_ = false;
  frames_.clear();
  if (n > 0) {
    metrics_.bytes.Increment(static_cast<double>(n));
    const std::uint64_t fallbacks = framer_.lf_fallbacks();
    framer_.Feed(std::string_view(buffer_.data(), n), &frames_);
    if (framer_.lf_fallbacks() != fallbacks) {
      tcp_metrics_.framing_errors.Increment(
          static_cast<double>(framer_.lf_fallbacks() - fallbacks));
    }
  }
  if (ec && !end_) {
    // TLS: a client that closes without close_notify shows stream_truncated; still an EOF.
    if (ec == asio::error::eof || (kTls && ec == asio::ssl::error::stream_truncated)) {
      end_ = CloseReason::kEof;
    } else if (ec == asio::error::operation_aborted) {
      end_ = idle_fired_ ? CloseReason::kIdleTimeout : CloseReason::kShutdown;
    } else {
      end_ = CloseReason::kError;
    }
    // The sender is gone (or silent): what it sent last is still evidence.
    if (*end_ != CloseReason::kShutdown) framer_.Finish(&frames_);
  }
  MakeRecords();
  Deliver();
}

template <typename Stream>
void TcpSession<Stream>::MakeRecords() {
  if (frames_.empty()) return;
  SharedState& shared = listener_->shared();
  const std::int64_t now = shared.clock.NowNs();
  const Transport transport = listener_->transport();
  const std::size_t first = pending_.size();
  pending_.reserve(first + frames_.size());
  for (Frame& frame : frames_) {
    if (frame.truncated) metrics_.truncated.Increment();
    Record& record = pending_.emplace_back();
    StampRecord(config_, transport, peer_, now, std::move(frame.bytes), frame.original_size,
                frame.truncated, &record);
  }
  if (shared.processor) shared.processor(config_, std::span<Record>(pending_).subspan(first));
  metrics_.received.Increment(static_cast<double>(frames_.size()));
  frames_.clear();
}

template <typename Stream>
void TcpSession<Stream>::Deliver() {
  RecordQueue& queue = listener_->shared().queue;
  if (pending_.empty() || queue.TryPush(pending_)) {
    backoff_ = kMinBackoff;
    return AfterDeliver();
  }
  if (queue.closed()) {
    metrics_.dropped_queue_closed.Increment(static_cast<double>(pending_.size()));
    pending_.clear();
    return AfterDeliver();
  }
  // Back-pressure: no read is in flight, so the kernel buffers fill and the sender blocks.
  retry_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  retry_timer_.async_wait([self = this->shared_from_this()](error_code) { self->Deliver(); });
}

template <typename Stream>
void TcpSession<Stream>::AfterDeliver() {
  if (end_) return Close(*end_);
  if (stopping_) return Close(CloseReason::kShutdown);
  DoRead();
}

template <typename Stream>
void TcpSession<Stream>::Close(CloseReason reason) {
  if (closed_) return;
  closed_ = true;
  if (reason == CloseReason::kShutdown && framer_.has_partial()) {
    metrics_.dropped_shutdown.Increment();
  }
  idle_timer_.cancel();
  retry_timer_.cancel();
  // TLS: no close_notify; the listener only receives, and the peer may already be gone.
  error_code ignored;
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
  tcp_metrics_.Closed(reason).Increment();
  listener_->OnSessionClosed(id_);
}

template class TcpSession<PlainStream>;
template class TcpSession<TlsStream>;

}  // namespace mamori::collector
