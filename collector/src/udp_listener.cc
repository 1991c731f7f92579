#include "udp_listener.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <string>
#include <utility>

#include "mamori/core/log.h"

namespace mamori::collector {
namespace {

namespace asio = boost::asio;
using boost::asio::ip::udp;
using boost::system::error_code;

constexpr std::size_t kDatagramBufferBytes = 64 * 1024;

}  // namespace

UdpListener::UdpListener(asio::io_context& io, ListenerConfig config,
                         std::shared_ptr<SharedState> shared)
    : config_(std::move(config)),
      shared_(std::move(shared)),
      metrics_(shared_->families, config_.name, Transport::kUdp),
      strand_(asio::make_strand(io)),
      socket_(strand_),
      buffer_(kDatagramBufferBytes) {}

Status UdpListener::Open() {
  const std::string where = ListenerContext(config_);
  auto address = ResolveHost(config_.address.host);
  if (!address.ok()) return Status::InvalidArgument(where + address.status().message());
  udp::endpoint endpoint(*address, config_.address.port);
  error_code ec;
  if (socket_.open(endpoint.protocol(), ec); ec) {
    return Status::IOError(where + "open: " + ec.message());
  }
  if (config_.receive_buffer_bytes > 0) {
    asio::socket_base::receive_buffer_size want(static_cast<int>(config_.receive_buffer_bytes));
    if (socket_.set_option(want, ec); ec) {
      log::Warn("collector", where + "SO_RCVBUF: " + ec.message());
    }
    asio::socket_base::receive_buffer_size got;
    socket_.get_option(got, ec);
    // Linux reports twice the size it grants (bookkeeping overhead); it caps at net.core.rmem_max.
    if (!ec && static_cast<std::size_t>(got.value()) < config_.receive_buffer_bytes) {
      log::Warn("collector", where + "SO_RCVBUF is " + std::to_string(got.value()) +
                                 " bytes, less than the " +
                                 std::to_string(config_.receive_buffer_bytes) +
                                 " requested (raise net.core.rmem_max)");
    }
  }
  if (socket_.bind(endpoint, ec); ec) return Status::IOError(where + "bind: " + ec.message());
  if (socket_.non_blocking(true, ec); ec) {
    return Status::IOError(where + "non-blocking: " + ec.message());
  }
  udp::endpoint local = socket_.local_endpoint(ec);
  if (ec) return Status::IOError(where + "local address: " + ec.message());
  bound_ = HostPort{local.address().to_string(), local.port()};
  return Status::Ok();
}

void UdpListener::Run() {
  asio::post(strand_, [self = shared_from_this()] { self->DoWait(); });
}

void UdpListener::Stop() {
  asio::post(strand_, [self = shared_from_this()] {
    error_code ignored;
    self->socket_.close(ignored);
  });
}

void UdpListener::DoWait() {
  if (!socket_.is_open()) return;
  socket_.async_wait(udp::socket::wait_read,
                     asio::bind_executor(strand_, [self = shared_from_this()](error_code ec) {
                       self->OnReadable(ec);
                     }));
}

void UdpListener::OnReadable(const error_code& wait_ec) {
  if (wait_ec || !socket_.is_open()) return;  // operation_aborted: Stop() closed the socket
  std::vector<Record> batch;
  const std::int64_t now = shared_->clock.NowNs();
  for (int i = 0; i < kMaxDatagramsPerWakeup; ++i) {
    udp::endpoint sender;
    error_code ec;
    const std::size_t n = socket_.receive_from(asio::buffer(buffer_), sender, 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      // E.g. ECONNREFUSED from an ICMP error: nothing to do with this socket's health.
      log::Debug("collector", ListenerContext(config_) + "receive: " + ec.message());
      continue;
    }
    metrics_.bytes.Increment(static_cast<double>(n));
    const bool truncated = n > config_.max_message_bytes;
    const std::size_t keep = truncated ? config_.max_message_bytes : n;
    if (truncated) metrics_.truncated.Increment();
    Record& record = batch.emplace_back();
    StampRecord(config_, Transport::kUdp, PeerOf(sender), now, std::string(buffer_.data(), keep), n,
                truncated, &record);
  }
  if (!batch.empty()) Deliver(batch);
  DoWait();
}

void UdpListener::Deliver(std::vector<Record>& batch) {
  RecordQueue& queue = shared_->queue;
  const double n = static_cast<double>(batch.size());
  metrics_.received.Increment(n);
  // When the push is bound to fail, drop before parsing: an overloaded listener sheds load
  // cheaply. (depth() may be stale; then TryPush decides.)
  if (queue.depth() < queue.capacity()) {
    if (shared_->processor) {
      for (Record& record : batch) shared_->processor(config_, record);
    }
    if (queue.TryPush(batch)) return;
  }
  (queue.closed() ? metrics_.dropped_queue_closed : metrics_.dropped_queue_full).Increment(n);
}

const std::string& UdpListener::PeerOf(const udp::endpoint& sender) {
  if (last_peer_.empty() || sender != last_sender_) {
    last_sender_ = sender;
    last_peer_ = FormatPeer(sender.address(), sender.port());
  }
  return last_peer_;
}

}  // namespace mamori::collector
