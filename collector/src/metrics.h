// The collector's metric families (built once per Collector) and the per-listener children the
// hot path increments. Internal to the collector.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>
#include <string_view>
#include <unordered_map>

#include "mamori/core/record.h"

namespace mamori::collector {

struct CollectorFamilies {
  explicit CollectorFamilies(prometheus::Registry& registry);

  prometheus::Family<prometheus::Counter>& received;
  prometheus::Family<prometheus::Counter>& bytes;
  prometheus::Family<prometheus::Counter>& truncated;
  prometheus::Family<prometheus::Counter>& dropped;
  prometheus::Family<prometheus::Gauge>& connections;
  prometheus::Family<prometheus::Counter>& rejected;
  prometheus::Family<prometheus::Counter>& closed;
  prometheus::Family<prometheus::Counter>& framing_errors;
  prometheus::Family<prometheus::Counter>& tls_handshake_failures;
  prometheus::Family<prometheus::Gauge>& tls_certificate_expiry;
};

// Why a TCP connection ended (the `reason` label of connections_closed_total).
// kHandshakeFailed: a TLS connection whose handshake failed or timed out.
enum class CloseReason { kEof, kIdleTimeout, kError, kShutdown, kHandshakeFailed };

// Every listener's series.
struct ListenerMetrics {
  ListenerMetrics(CollectorFamilies& f, const std::string& listener, Transport transport);

  prometheus::Counter& received;
  prometheus::Counter& bytes;
  prometheus::Counter& truncated;
  prometheus::Counter& dropped_queue_full;
  prometheus::Counter& dropped_queue_closed;
  prometheus::Counter& dropped_shutdown;
};

// The series only a TCP listener has.
struct TcpMetrics {
  TcpMetrics(CollectorFamilies& f, const std::string& listener);

  prometheus::Counter& Closed(CloseReason reason);

  prometheus::Counter& framing_errors;
  prometheus::Gauge& connections;
  prometheus::Counter& rejected;
  prometheus::Counter& closed_eof;
  prometheus::Counter& closed_idle_timeout;
  prometheus::Counter& closed_error;
  prometheus::Counter& closed_shutdown;
  prometheus::Counter& closed_handshake_failed;
};

// The series only a TLS listener has: failed handshakes by reason
// (mamori::kTlsHandshakeFailureReasons, all exported from the start).
struct TlsMetrics {
  TlsMetrics(CollectorFamilies& f, const std::string& listener);

  prometheus::Counter& HandshakeFailure(std::string_view reason);

  std::unordered_map<std::string_view, prometheus::Counter*> failures;
  prometheus::Gauge& certificate_expiry;  // notAfter of the certificate in use
};

}  // namespace mamori::collector
