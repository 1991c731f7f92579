// Internal: a TCP syslog listener (acceptor) and its sessions, in the shape of the Beast
// examples: the acceptor and every session run on their own strand; a session keeps itself alive
// with shared_from_this and chains DoRead -> OnRead -> Deliver -> DoRead.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "listener.h"
#include "mamori/collector/tcp_framer.h"

namespace mamori::collector {

class TcpSession;

class TcpListener final : public Listener, public std::enable_shared_from_this<TcpListener> {
 public:
  TcpListener(boost::asio::io_context& io, ListenerConfig config,
              std::shared_ptr<SharedState> shared);

  Status Open() override;
  void Run() override;
  void Stop() override;
  HostPort bound() const override { return bound_; }

  // For sessions.
  const ListenerConfig& config() const { return config_; }
  SharedState& shared() { return *shared_; }
  ListenerMetrics& metrics() { return metrics_; }
  TcpMetrics& tcp_metrics() { return tcp_metrics_; }
  // Called once by each session when it has closed its socket. Any thread.
  void OnSessionClosed(std::uint64_t id);

 private:
  void DoAccept();
  void OnAccept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  const ListenerConfig config_;
  const std::shared_ptr<SharedState> shared_;
  ListenerMetrics metrics_;
  TcpMetrics tcp_metrics_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;  // after an accept error such as EMFILE
  HostPort bound_;

  std::mutex mu_;
  bool stopping_ = false;      // GUARDED_BY(mu_)
  std::uint64_t next_id_ = 1;  // GUARDED_BY(mu_)
  // The open sessions; its size is the connection count checked against max_connections.
  std::unordered_map<std::uint64_t, std::weak_ptr<TcpSession>> sessions_;  // GUARDED_BY(mu_)
};

// One TCP connection. Every member function but Start/Stop runs on the socket's strand.
class TcpSession final : public std::enable_shared_from_this<TcpSession> {
 public:
  static constexpr std::size_t kReadBufferBytes = 64 * 1024;
  static constexpr std::chrono::milliseconds kMinBackoff{1};
  static constexpr std::chrono::milliseconds kMaxBackoff{10};

  TcpSession(std::shared_ptr<TcpListener> listener, std::uint64_t id,
             boost::asio::ip::tcp::socket socket, std::string peer);

  void Start();  // any thread
  void Stop();   // any thread; see Collector::Stop()

 private:
  void DoRead();
  void OnRead(const boost::system::error_code& ec, std::size_t n);
  void OnIdleTimer(const boost::system::error_code& ec);
  void MakeRecords();
  void Deliver();
  void AfterDeliver();
  void Close(CloseReason reason);

  const std::shared_ptr<TcpListener> listener_;
  const ListenerConfig& config_;
  ListenerMetrics& metrics_;
  TcpMetrics& tcp_metrics_;
  const std::uint64_t id_;
  const std::string peer_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer idle_timer_;
  boost::asio::steady_timer retry_timer_;
  std::vector<char> buffer_;
  TcpFramer framer_;
  std::vector<Frame> frames_;    // completed by the last read
  std::vector<Record> pending_;  // built from frames_, waiting for room in the queue
  std::chrono::milliseconds backoff_ = kMinBackoff;
  bool reading_ = false;     // a read is in flight
  bool stopping_ = false;    // Stop() was called
  bool idle_fired_ = false;  // the idle timer cancelled the read
  bool closed_ = false;
  std::optional<CloseReason> end_;  // set when the connection must close after delivering
};

}  // namespace mamori::collector
