// Internal: a UDP syslog listener. One datagram = one message; up to kMaxDatagramsPerWakeup are
// read per wakeup (recvmmsg, kDatagramsPerCall per system call) and pushed as one batch, dropped
// and counted when the queue is full.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/strand.hpp>
#include <memory>
#include <string>
#include <vector>

#include "listener.h"

namespace mamori::collector {

class UdpListener final : public Listener, public std::enable_shared_from_this<UdpListener> {
 public:
  static constexpr int kDatagramsPerCall = 64;
  static constexpr int kMaxDatagramsPerWakeup = 4 * kDatagramsPerCall;

  UdpListener(boost::asio::io_context& io, ListenerConfig config,
              std::shared_ptr<SharedState> shared);

  Status Open() override;
  void Run() override;
  void Stop() override;
  HostPort bound() const override { return bound_; }

 private:
  void DoWait();
  void OnReadable(const boost::system::error_code& ec);
  void Deliver(std::vector<Record>& batch);
  const std::string& PeerOf(const boost::asio::ip::udp::endpoint& sender);

  const ListenerConfig config_;
  const std::shared_ptr<SharedState> shared_;
  ListenerMetrics metrics_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::udp::socket socket_;
  HostPort bound_;
  // kDatagramsPerCall slots of max_message_bytes each, allocated but not initialized: only the
  // pages datagrams actually fill become resident.
  std::size_t slot_bytes_;
  std::unique_ptr<char[]> buffer_;
  boost::asio::ip::udp::endpoint last_sender_;  // PeerOf's one-entry cache
  std::string last_peer_;
};

}  // namespace mamori::collector
