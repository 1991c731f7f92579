#include "udp_listener.h"

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "mamori/core/log.h"

// recvmmsg (glibc, _GNU_SOURCE); after Asio, which includes <sys/socket.h> itself.
#include <sys/socket.h>

namespace mamori::collector {
namespace {

namespace asio = boost::asio;
using boost::asio::ip::udp;
using boost::system::error_code;

}  // namespace

UdpListener::UdpListener(asio::io_context& io, ListenerConfig config,
                         std::shared_ptr<SharedState> shared)
    : config_(std::move(config)),
      shared_(std::move(shared)),
      metrics_(shared_->families, config_.name, Transport::kUdp),
      strand_(asio::make_strand(io)),
      socket_(strand_),
      slot_bytes_(std::max<std::size_t>(config_.max_message_bytes, 1)),
      buffer_(new char[slot_bytes_ * kDatagramsPerCall]) {}

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
  mmsghdr msgs[kDatagramsPerCall];
  iovec iov[kDatagramsPerCall];
  sockaddr_storage from[kDatagramsPerCall];
  std::size_t bytes = 0;  // counted once per wakeup: the counter is shared with other threads
  for (int round = 0; round < kMaxDatagramsPerWakeup / kDatagramsPerCall; ++round) {
    for (int i = 0; i < kDatagramsPerCall; ++i) {
      iov[i] = {buffer_.get() + slot_bytes_ * static_cast<std::size_t>(i), slot_bytes_};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
    }
    // MSG_TRUNC: msg_len is the datagram's real length even when it did not fit the slot.
    const int got = ::recvmmsg(socket_.native_handle(), msgs, kDatagramsPerCall,
                               MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      // E.g. ECONNREFUSED from an ICMP error: nothing to do with this socket's health.
      log::Debug("collector", ListenerContext(config_) + "receive: " + std::strerror(errno));
      continue;
    }
    batch.reserve(batch.size() + static_cast<std::size_t>(got));
    for (int i = 0; i < got; ++i) {
      const std::size_t n = msgs[i].msg_len;
      bytes += n;
      const bool truncated = n > config_.max_message_bytes;
      const std::size_t keep = std::min(n, slot_bytes_);
      if (truncated) metrics_.truncated.Increment();
      udp::endpoint sender;
      const socklen_t len = msgs[i].msg_hdr.msg_namelen;
      if (len > 0 && len <= sender.capacity()) {
        std::memcpy(sender.data(), &from[i], len);
        sender.resize(len);
      }
      Record& record = batch.emplace_back();
      StampRecord(config_, Transport::kUdp, PeerOf(sender), now,
                  std::string(static_cast<const char*>(iov[i].iov_base), keep), n, truncated,
                  &record);
    }
    if (got < kDatagramsPerCall) break;  // drained
  }
  if (bytes > 0) metrics_.bytes.Increment(static_cast<double>(bytes));
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
    if (shared_->processor) shared_->processor(config_, std::span<Record>(batch));
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
