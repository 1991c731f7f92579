#include "metrics.h"

#include "mamori/core/tls.h"

namespace mamori::collector {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

}  // namespace

CollectorFamilies::CollectorFamilies(prometheus::Registry& r)
    : received(BuildCounter()
                   .Name("mamori_events_received_total")
                   .Help("Messages framed off the wire, including those later dropped")
                   .Register(r)),
      bytes(BuildCounter()
                .Name("mamori_bytes_received_total")
                .Help("Bytes read from listener sockets, framing included")
                .Register(r)),
      truncated(BuildCounter()
                    .Name("mamori_events_truncated_total")
                    .Help("Messages cut to the listener's max_message_bytes")
                    .Register(r)),
      dropped(BuildCounter()
                  .Name("mamori_events_dropped_total")
                  .Help("Messages received but not queued, by reason")
                  .Register(r)),
      connections(BuildGauge()
                      .Name("mamori_collector_connections")
                      .Help("Open TCP connections")
                      .Register(r)),
      rejected(BuildCounter()
                   .Name("mamori_collector_connections_rejected_total")
                   .Help("TCP connections closed at once because max_connections was reached")
                   .Register(r)),
      closed(BuildCounter()
                 .Name("mamori_collector_connections_closed_total")
                 .Help("TCP connections closed, by reason")
                 .Register(r)),
      framing_errors(BuildCounter()
                         .Name("mamori_collector_framing_errors_total")
                         .Help("TCP streams with a malformed octet count (connection closed)")
                         .Register(r)),
      tls_handshake_failures(BuildCounter()
                                 .Name("mamori_tls_handshake_failures_total")
                                 .Help(std::string(kTlsHandshakeFailuresHelp))
                                 .Register(r)),
      tls_certificate_expiry(BuildGauge()
                                 .Name("mamori_tls_certificate_expiry_timestamp_seconds")
                                 .Help(std::string(kTlsCertificateExpiryHelp))
                                 .Register(r)) {}

ListenerMetrics::ListenerMetrics(CollectorFamilies& f, const std::string& l, Transport t)
    : received(f.received.Add({{"listener", l}, {"transport", std::string(TransportName(t))}})),
      bytes(f.bytes.Add({{"listener", l}, {"transport", std::string(TransportName(t))}})),
      truncated(f.truncated.Add({{"listener", l}})),
      dropped_queue_full(f.dropped.Add({{"listener", l}, {"reason", "queue_full"}})),
      dropped_queue_closed(f.dropped.Add({{"listener", l}, {"reason", "queue_closed"}})),
      dropped_shutdown(f.dropped.Add({{"listener", l}, {"reason", "shutdown"}})) {}

TcpMetrics::TcpMetrics(CollectorFamilies& f, const std::string& l)
    : framing_errors(f.framing_errors.Add({{"listener", l}})),
      connections(f.connections.Add({{"listener", l}})),
      rejected(f.rejected.Add({{"listener", l}})),
      closed_eof(f.closed.Add({{"listener", l}, {"reason", "eof"}})),
      closed_idle_timeout(f.closed.Add({{"listener", l}, {"reason", "idle_timeout"}})),
      closed_error(f.closed.Add({{"listener", l}, {"reason", "error"}})),
      closed_shutdown(f.closed.Add({{"listener", l}, {"reason", "shutdown"}})),
      closed_handshake_failed(f.closed.Add({{"listener", l}, {"reason", "handshake_failed"}})) {}

prometheus::Counter& TcpMetrics::Closed(CloseReason reason) {
  switch (reason) {
    case CloseReason::kEof:
      return closed_eof;
    case CloseReason::kIdleTimeout:
      return closed_idle_timeout;
    case CloseReason::kError:
      return closed_error;
    case CloseReason::kShutdown:
      return closed_shutdown;
    case CloseReason::kHandshakeFailed:
      return closed_handshake_failed;
  }
  return closed_error;
}

TlsMetrics::TlsMetrics(CollectorFamilies& f, const std::string& l)
    : certificate_expiry(f.tls_certificate_expiry.Add({{"listener", l}})) {
  for (std::string_view reason : kTlsHandshakeFailureReasons) {
    failures[reason] =
        &f.tls_handshake_failures.Add({{"listener", l}, {"reason", std::string(reason)}});
  }
}

prometheus::Counter& TlsMetrics::HandshakeFailure(std::string_view reason) {
  auto it = failures.find(reason);
  if (it == failures.end()) it = failures.find("other");
  return *it->second;
}

}  // namespace mamori::collector
