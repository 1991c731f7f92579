// Collector: the network front door. It binds the configured syslog listeners (UDP and TCP, IPv4
// and IPv6), cuts what arrives into messages, stamps each one into a Record (raw bytes exactly
// as framed, receive time, listener, transport, peer), runs the Processor on it (the app wires
// the parser there) and pushes the records in batches into the pipeline's RecordQueue.
//
// Framing and limits (see collector/README.md for the operator's view):
//   - UDP: one datagram = one message. Several datagrams are read per wakeup (up to 64) and
//     pushed as one batch. When the queue is full the batch is dropped and counted
//     (mamori_events_dropped_total{reason="queue_full"}): UDP has no back-pressure.
//   - TCP: RFC 6587 framing recognised per frame (octet counting if the frame starts with a
//     digit, LF-delimited otherwise); see tcp_framer.h. When the queue is full a session stops
//     reading and retries (1 ms, doubling to 10 ms) until its batch is accepted: the sender feels
//     TCP back-pressure and nothing is lost.
//   - TLS (RFC 5425, listener type syslog_tls): the TCP session over TLS 1.2+, with the same
//     framing, limits, idle timeout, connection limit, back-pressure and metrics (transport
//     "tls"). The handshake is bounded by tls.handshake_timeout; a failed one (no or a bad client
//     certificate under verify_client, not TLS at all, timeout...) closes the connection and is
//     counted in mamori_tls_handshake_failures_total{listener,reason}.
//   - Messages longer than the listener's max_message_bytes are truncated, flagged
//     (kRawTruncated, original_size = full length) and counted.
//
// Metrics, registered in the constructor's Registry, per listener:
//   mamori_events_received_total{listener,transport}  messages framed off the wire, counted
//                                                      before queueing (so it includes messages
//                                                      later dropped)
//   mamori_bytes_received_total{listener,transport}   bytes read from the socket (TCP: including
//                                                      framing and skipped bytes)
//   mamori_events_truncated_total{listener}
//   mamori_events_dropped_total{listener,reason}       queue_full (UDP), queue_closed (the queue
//                                                      was closed before the batch got in),
//                                                      shutdown (a TCP frame cut by Stop())
//   mamori_collector_connections{listener}              open TCP connections (gauge)
//   mamori_collector_connections_rejected_total{listener}   over max_connections
//   mamori_collector_connections_closed_total{listener,reason}
//                                      eof, idle_timeout, error, shutdown, handshake_failed
//   mamori_tls_handshake_failures_total{listener,reason}   TLS listeners; reasons in core/tls.h
//   mamori_collector_framing_errors_total{listener}
//
// Threads: the io_context may be run by any number of threads. Each TCP connection, each
// acceptor and each UDP socket lives on its own strand, so the Processor is called concurrently
// from several threads (for different connections) and must be thread-safe. Start() must be
// called before io.run(); Stop() and BoundAddresses() may be called from any thread.
//
// Ownership: the Collector keeps references to `queue`, `registry` and `clock`, and the pending
// handlers it leaves on `io` use them too. They must outlive the Collector and every handler:
// destroy the Collector after io.run() has returned (or after the io_context is destroyed).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "mamori/core/bounded_queue.h"
#include "mamori/core/clock.h"
#include "mamori/core/config.h"
#include "mamori/core/record.h"
#include "mamori/core/status.h"

namespace boost::asio {
class io_context;
}
namespace prometheus {
class Registry;
}

namespace mamori::collector {

using RecordQueue = BoundedQueue<Record>;

// Called on the I/O thread that received the bytes, once per read (a TCP read, a UDP wakeup),
// with the records made from it, before they are queued (the app wires the parser here: it
// fills each record.event, which is still default-constructed). One call per read lets the
// processor touch shared metrics once per read instead of once per record. It may be called from
// several threads at once (one per connection being served) and must be thread-safe. An empty
// function is allowed. UDP datagrams dropped because the queue is full are dropped before the
// processor sees them.
using Processor = std::function<void(const ListenerConfig&, std::span<Record>)>;

class Collector {
 public:
  Collector(boost::asio::io_context& io, RecordQueue& queue, Processor processor,
            prometheus::Registry& registry, const Clock& clock);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Binds every listener (port 0 = a port chosen by the kernel) and starts receiving on them once
  // io runs. Returns the first error (bad address, address in use...) naming the listener; then
  // nothing stays bound. REQUIRES: called once, before io.run().
  Status Start(const std::vector<ListenerConfig>& listeners);

  // {listener name, bound address} in listener order; empty before a successful Start().
  std::vector<std::pair<std::string, HostPort>> BoundAddresses() const;

  // Stops accepting and receiving, then closes every connection after handing each complete
  // frame it has already read to the queue (waiting for room if the queue is full: the writer
  // must keep draining during shutdown, or Close() the queue, whose remaining batches are then
  // dropped and counted as queue_closed). A partial frame is dropped and counted (shutdown).
  // When all sessions are gone the collector holds no more work on io, so io.run() can return.
  // Thread-safe; idempotent; returns without waiting.
  void Stop();

  // Re-reads the certificate, key and CA files of every TLS listener (on SIGHUP): connections
  // accepted afterwards use the new files; a listener whose files fail to load keeps its previous
  // ones. One {listener name, status} per TLS listener. Thread-safe; after a successful Start().
  std::vector<std::pair<std::string, Status>> ReloadTls();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mamori::collector
