// HttpServer: mamori's HTTP/1.1 server (Boost.Beast), the front of /healthz, /metrics and the
// query API. It knows nothing of storage: app/ registers a Handler per (method, path), and the
// server does the protocol work around it — parsing with limits, routing, keep-alive and
// pipelining, timeouts, errors as JSON, and request metrics.
//
// Threads: the server runs on the io_context it is given; any number of threads may run that
// io_context. Each connection lives on its own strand, so one connection's requests are handled
// one at a time and in order (pipelined requests are answered in the order they arrived).
// Handlers are called on those I/O threads, concurrently for different connections: a Handler
// must be thread-safe. It may block briefly (a search); anything long is the handler's concern.
//
// Ownership: the caller owns the io_context and the prometheus::Registry. The server copies the
// handlers. Connections can outlive the HttpServer object (a response in flight at Stop() still
// completes, and may still be calling its handler; a connection still queued in the io_context
// is destroyed with it). So the Registry, and whatever a handler captures, must outlive both the
// threads running the io_context and the io_context itself: create them before the io_context,
// and destroy them after it.
//
// HTTPS: when HttpConfig::tls has a certificate, every connection is TLS 1.2+ (beast::ssl_stream)
// with the same limits, timeouts and pipelining; the handshake must finish within
// tls.handshake_timeout, and a failed one is counted in
// mamori_tls_handshake_failures_total{listener="api",reason}. With tls.verify_client a client
// certificate chaining to tls.ca_file is required. ReloadTls() re-reads the files (SIGHUP).
//
// Limits: a request header larger than kMaxHeaderBytes gets 431, a body larger than
// HttpConfig::max_body_bytes gets 413, an unparseable request (garbage bytes, bad
// percent-encoding, a target that is not "/path?query") gets 400; in each case the connection is
// closed after the response. Every read and write has a timeout of kIoTimeoutSeconds; a
// keep-alive connection idle that long is closed.
//
// Example:
//   boost::asio::io_context io;
//   auto registry = std::make_shared<prometheus::Registry>();
//   mamori::api::HttpServer server(io, config.http, *registry);
//   server.Route("GET", "/healthz", [](const Request&) { return Response{200, "text/plain",
//   "ok\n"}; }); server.Route("GET", "/metrics", mamori::api::MetricsHandler({registry})); if
//   (Status s = server.Start(); !s.ok()) ... io.run();
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mamori/core/config.h"
#include "mamori/core/status.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace prometheus {
class Collectable;
class Registry;
}  // namespace prometheus

namespace mamori::api {

// What a handler sees of a request.
struct Request {
  std::string method;  // as sent: "GET", "POST", ...
  std::string path;    // percent-decoded path without the query, e.g. "/api/v1/events"
  // Query parameters, percent-decoded ('+' = space), in the order they appear. A parameter
  // without '=' has an empty value; a repeated parameter appears once per occurrence.
  std::vector<std::pair<std::string, std::string>> params;
  // Header fields in the order received (names as sent).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string peer;  // "ip:port" ("[v6]:port" for IPv6)

  // Value of the first header with that name (case-insensitive); "" if absent.
  std::string header(std::string_view name) const;
  // Value of the first query parameter with that name (case-sensitive); "" if absent.
  std::string param(std::string_view name) const;
  // Whether a query parameter of that name is present (even with an empty value).
  bool has_param(std::string_view name) const;
};

// What a handler returns.
struct Response {
  int status = 200;  // 200..599; anything else is a handler bug and becomes 500
  std::string content_type = "application/json";  // empty: no Content-Type header
  std::string body;
  // Extra header fields. Content-Length, Connection, Server and Date are set by the server.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Called on an I/O thread; must be thread-safe. An exception escaping it is a bug: the client
// gets 500 with a JSON error and the exception is logged.
using Handler = std::function<Response(const Request&)>;

class HttpServer {
 public:
  static constexpr std::size_t kMaxHeaderBytes = 16 * 1024;  // request line + header fields
  static constexpr int kIoTimeoutSeconds = 30;               // each read and each write

  // Registers the metric families in `registry` (mamori_api_requests_total,
  // mamori_api_request_duration_seconds, mamori_api_connections). Does not bind yet.
  HttpServer(boost::asio::io_context& io, const HttpConfig& config, prometheus::Registry& registry);
  // Stops the server (see Stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes requests for exactly `path` (after percent-decoding; no prefix matching, no trailing
  // slash folding) with exactly `method` to `handler`. A GET route also answers HEAD (same
  // handler, body dropped) unless a HEAD route exists. A path that has routes, requested with
  // another method, gets 405 with an Allow header; an unknown path gets 404. Registering the
  // same (method, path) twice replaces the handler.
  // REQUIRES: Start() has not been called (later calls are ignored and logged).
  void Route(std::string method, std::string path, Handler handler);

  // Binds HttpConfig::address (port 0 = an ephemeral port; see BoundAddress()), listens and
  // starts accepting on the io_context. Returns IOError when the address cannot be bound
  // (e.g. in use) and InvalidArgument when the host does not resolve or the TLS files do not
  // load (naming the key: "http.tls.cert_file '...': cannot read: ..."). Call at most once.
  Status Start();

  // The address actually bound. REQUIRES: Start() returned OK.
  HostPort BoundAddress() const;

  // Thread-safe (but not concurrent with Start()), idempotent, does not block: safe on an I/O
  // thread, e.g. in a handler. Stops accepting; closes connections waiting for a request (idle
  // keep-alive, or a request only partly received); a request already received is still handled,
  // its response written, and then its connection closed. Once the last connection is gone the
  // server holds no work on the io_context.
  void Stop();

  // HTTPS: re-reads the certificate, key and CA files; connections accepted afterwards use them.
  // On failure the previous ones stay in use and the error is returned. OK without HTTPS.
  // Thread-safe. REQUIRES: Start() returned OK.
  Status ReloadTls();
  // Whether the server speaks HTTPS. REQUIRES: Start() returned OK.
  bool tls() const;

  // Connections currently open (for tests and shutdown logging).
  std::size_t ActiveConnections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A JSON error response: status `status` and body {"error":{"code":404,"message":"..."}}.
// The message is escaped; invalid UTF-8 in it is replaced with U+FFFD.
Response JsonError(int status, std::string_view message);

// A handler for GET /metrics: collects from each collectable still alive (expired ones are
// skipped) and serializes with prometheus::TextSerializer, content type
// "text/plain; version=0.0.4; charset=utf-8". The daemon owns its Registry through a shared_ptr
// and passes {registry}; the handler does not keep it alive.
Handler MetricsHandler(std::vector<std::weak_ptr<prometheus::Collectable>> collectables);

}  // namespace mamori::api
