// Internal: a TCP syslog listener (acceptor) and its sessions, in the shape of the Beast
// examples: the acceptor and every session run on their own strand; a session keeps itself alive
// with shared_from_this and chains DoRead -> OnRead -> Deliver -> DoRead.
//
// The same listener serves syslog over TLS (RFC 5425): TcpSession is a template over the stream,
// a plain tcp::socket or an ssl::stream<tcp::socket>. A TLS session first runs the server
// handshake (bounded by tls.handshake_timeout; a failure is counted in
// mamori_tls_handshake_failures_total{listener,reason} and closes the connection), then reads
// exactly like a TCP session: same framing (octet counting, with the LF fallback), limits, idle
// timeout, back-pressure and metrics (transport label "tls").
#pragma once

// clang-format off
#include <utility>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
// clang-format on
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
#include "mamori/core/tls.h"

namespace mamori::collector {

using PlainStream = boost::asio::ip::tcp::socket;
using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

// What the listener needs of a session of either stream type.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void Start() = 0;  // any thread
  virtual void Stop() = 0;   // any thread; see Collector::Stop()
};

class TcpListener final : public Listener, public std::enable_shared_from_this<TcpListener> {
 public:
  // `where` is the configuration path of the listener ("listeners[2]"), for TLS errors.
  TcpListener(boost::asio::io_context& io, ListenerConfig config,
              std::shared_ptr<SharedState> shared, std::string where);

  Status Open() override;
  void Run() override;
  void Stop() override;
  HostPort bound() const override { return bound_; }

  // TLS listeners: re-reads the certificate files (see mamori/core/tls.h). Any thread.
  Status ReloadTls();
  // TLS listeners: the current certificate, for the log.
  std::string DescribeTls() const;
  bool tls() const { return transport_ == Transport::kTls; }

  // For sessions.
  const ListenerConfig& config() const { return config_; }
  Transport transport() const { return transport_; }
  SharedState& shared() { return *shared_; }
  ListenerMetrics& metrics() { return metrics_; }
  TcpMetrics& tcp_metrics() { return tcp_metrics_; }
  TlsMetrics& tls_metrics() { return *tls_metrics_; }  // REQUIRES: tls()
  // Called once by each session when it has closed its socket. Any thread.
  void OnSessionClosed(std::uint64_t id);

 private:
  void DoAccept();
  void OnAccept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  const ListenerConfig config_;
  const Transport transport_;
  const std::string where_;
  const std::shared_ptr<SharedState> shared_;
  ListenerMetrics metrics_;
  TcpMetrics tcp_metrics_;
  std::optional<TlsMetrics> tls_metrics_;  // TLS listeners only
  std::shared_ptr<TlsServerContext> tls_;  // TLS listeners only; set by Open()
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;  // after an accept error such as EMFILE
  HostPort bound_;

  std::mutex mu_;
  bool stopping_ = false;                                                   // GUARDED_BY(mu_)
  std::uint64_t next_id_ = 1;                                               // GUARDED_BY(mu_)
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions_;  // GUARDED_BY(mu_)
};

// One TCP (or TLS) connection. Every member function but Start/Stop runs on the socket's strand.
template <typename Stream>
class TcpSession final : public SessionBase,
                         public std::enable_shared_from_this<TcpSession<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  static constexpr std::size_t kReadBufferBytes = 64 * 1024;
  static constexpr std::chrono::milliseconds kMinBackoff{1};
  static constexpr std::chrono::milliseconds kMaxBackoff{10};

  // `context`: TLS only (nullptr for plain TCP); it stays alive as long as the session.
  TcpSession(std::shared_ptr<TcpListener> listener, std::uint64_t id,
             boost::asio::ip::tcp::socket socket, std::string peer,
             std::shared_ptr<boost::asio::ssl::context> context);

  void Start() override;
  void Stop() override;

 private:
  boost::asio::ip::tcp::socket& socket();
  void DoHandshake();
  void OnHandshake(const boost::system::error_code& ec);
  void OnHandshakeTimer(const boost::system::error_code& ec);
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
  const std::shared_ptr<boost::asio::ssl::context> context_;  // TLS only
  Stream stream_;
  boost::asio::steady_timer idle_timer_;  // also bounds the TLS handshake
  boost::asio::steady_timer retry_timer_;
  std::vector<char> buffer_;
  TcpFramer framer_;
  std::vector<Frame> frames_;    // completed by the last read
  std::vector<Record> pending_;  // built from frames_, waiting for room in the queue
  std::chrono::milliseconds backoff_ = kMinBackoff;
  bool handshaking_ = false;        // the TLS handshake is in flight
  bool handshake_expired_ = false;  // the handshake timer cancelled the handshake
  bool reading_ = false;            // a read is in flight
  bool stopping_ = false;           // Stop() was called
  bool idle_fired_ = false;         // the idle timer cancelled the read
  bool closed_ = false;
  std::optional<CloseReason> end_;  // set when the connection must close after delivering
};

}  // namespace mamori::collector
