#include "tcp_listener.h"

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <utility>

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
                         std::shared_ptr<SharedState> shared)
    : io_(io),
      config_(std::move(config)),
      shared_(std::move(shared)),
      metrics_(shared_->families, config_.name, Transport::kTcp),
      tcp_metrics_(shared_->families, config_.name),
      strand_(asio::make_strand(io)),
      acceptor_(strand_),
      accept_retry_(strand_) {}

Status TcpListener::Open() {
  const std::string where = ListenerContext(config_);
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
  std::vector<std::shared_ptr<TcpSession>> live;
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
  std::shared_ptr<TcpSession> session;
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
      session = std::make_shared<TcpSession>(shared_from_this(), id, std::move(socket),
                                             FormatPeer(remote.address(), remote.port()));
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

TcpSession::TcpSession(std::shared_ptr<TcpListener> listener, std::uint64_t id, tcp::socket socket,
                       std::string peer)
    : listener_(std::move(listener)),
      config_(listener_->config()),
      metrics_(listener_->metrics()),
      tcp_metrics_(listener_->tcp_metrics()),
      id_(id),
      peer_(std::move(peer)),
      socket_(std::move(socket)),
      idle_timer_(socket_.get_executor()),
      retry_timer_(socket_.get_executor()),
      buffer_(kReadBufferBytes),
      framer_(config_.max_message_bytes) {}

void TcpSession::Start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
}

void TcpSession::Stop() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    if (self->reading_) {
      error_code ignored;
      self->socket_.cancel(ignored);  // OnRead sees operation_aborted and closes
    }
    // While waiting for room in the queue, the retry loop finishes the delivery, then closes.
  });
}

void TcpSession::DoRead() {
  if (closed_) return;
  if (stopping_) return Close(CloseReason::kShutdown);
  reading_ = true;
  if (config_.idle_timeout_ms > 0) {
    idle_timer_.expires_after(std::chrono::milliseconds(config_.idle_timeout_ms));
    idle_timer_.async_wait([self = shared_from_this()](error_code ec) { self->OnIdleTimer(ec); });
  }
  socket_.async_read_some(
      asio::buffer(buffer_),
      [self = shared_from_this()](error_code ec, std::size_t n) { self->OnRead(ec, n); });
}

void TcpSession::OnIdleTimer(const error_code& ec) {
  // A stale completion (the timer was re-armed after it fired) shows a future expiry.
  if (ec || !reading_ || idle_timer_.expiry() > asio::steady_timer::clock_type::now()) return;
  idle_fired_ = true;
  error_code ignored;
  socket_.cancel(ignored);
}

void TcpSession::OnRead(const error_code& ec, std::size_t n) {
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
    if (ec == asio::error::eof) {
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

void TcpSession::MakeRecords() {
  if (frames_.empty()) return;
  SharedState& shared = listener_->shared();
  const std::int64_t now = shared.clock.NowNs();
  pending_.reserve(pending_.size() + frames_.size());
  for (Frame& frame : frames_) {
    if (frame.truncated) metrics_.truncated.Increment();
    Record& record = pending_.emplace_back();
    StampRecord(config_, Transport::kTcp, peer_, now, std::move(frame.bytes), frame.original_size,
                frame.truncated, &record);
    if (shared.processor) shared.processor(config_, record);
  }
  metrics_.received.Increment(static_cast<double>(frames_.size()));
  frames_.clear();
}

void TcpSession::Deliver() {
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
  retry_timer_.async_wait([self = shared_from_this()](error_code) { self->Deliver(); });
}

void TcpSession::AfterDeliver() {
  if (end_) return Close(*end_);
  if (stopping_) return Close(CloseReason::kShutdown);
  DoRead();
}

void TcpSession::Close(CloseReason reason) {
  if (closed_) return;
  closed_ = true;
  if (reason == CloseReason::kShutdown && framer_.has_partial()) {
    metrics_.dropped_shutdown.Increment();
  }
  idle_timer_.cancel();
  retry_timer_.cancel();
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  tcp_metrics_.Closed(reason).Increment();
  listener_->OnSessionClosed(id_);
}

}  // namespace mamori::collector
