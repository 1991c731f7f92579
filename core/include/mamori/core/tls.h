// TLS server contexts for syslog over TLS (RFC 5425, collector/) and HTTPS (api/).
//
// A TlsServerContext reads a TlsConfig's PEM files into an OpenSSL server context: TLS 1.2 or
// newer, the certificate chain and its private key (they must match), and, with a CA file, client
// certificate verification (verify_client: a client without a certificate that chains to the CA
// fails the handshake). Errors name the configuration key and the file:
//   "listeners[2].tls.cert_file '/etc/mamori/tls/server.pem': cannot read: No such file or
//   directory" "http.tls.key_file '/etc/mamori/tls/server.key': not a PEM private key (...)"
//
// Reload() reads the files again and, when they load, swaps the new context in: connections
// accepted afterwards use it, connections already open keep theirs. When they do not load, the
// previous context stays in use and the error is returned (the app logs and counts it).
//
// Thread-safety: Get(), Reload() and Describe() may be called from any thread at once.
// Ownership: Get() hands out shared ownership; a connection keeps its context alive.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "mamori/core/config.h"
#include "mamori/core/status.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl
namespace boost::system {
class error_code;
}  // namespace boost::system

namespace mamori {

class TlsServerContext {
 public:
  // `where` is the configuration path of the TlsConfig ("listeners[2].tls", "http.tls"); it
  // prefixes every error.
  static Result<std::shared_ptr<TlsServerContext>> Create(const TlsConfig& config,
                                                          std::string where);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  // The context new connections must use.
  std::shared_ptr<boost::asio::ssl::context> Get() const;
  // Re-reads the files; see the top of this file.
  Status Reload();
  // "CN=mamori.example, serial 1F3A..., expires 2027-11-27T02:00:00Z" of the current certificate.
  std::string Describe() const;
  // notAfter of the current certificate, seconds since the Unix epoch (0 if unreadable).
  std::int64_t NotAfterSeconds() const;

  const TlsConfig& config() const { return config_; }
  const std::string& where() const { return where_; }

 private:
  TlsServerContext(const TlsConfig& config, std::string where);
  Result<std::shared_ptr<boost::asio::ssl::context>> Build() const;

  const TlsConfig config_;
  const std::string where_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_;  // GUARDED_BY(mu_)
};

// The reason label of a failed handshake, from a bounded set:
//   "no_client_cert"   mutual TLS and the client sent no certificate
//   "bad_client_cert"  the client's certificate does not verify (other CA, expired...)
//   "protocol"         not TLS, or no common protocol version or cipher (garbage, plain HTTP)
//   "eof"              the client closed or reset the connection during the handshake
//   "other"            anything else
// ("timeout" is decided by the caller, which owns the timer.)
std::string_view TlsHandshakeFailureReason(const boost::system::error_code& ec);
inline constexpr std::string_view kTlsHandshakeFailureReasons[] = {
    "timeout", "no_client_cert", "bad_client_cert", "protocol", "eof", "other"};
// mamori_tls_handshake_failures_total{listener,reason}: the collector's TLS listeners and the
// HTTPS API (listener="api") register the same family, so they share this help text.
inline constexpr std::string_view kTlsHandshakeFailuresHelp =
    "TLS handshakes that failed, by listener and reason";
// mamori_tls_certificate_expiry_timestamp_seconds{listener}: notAfter of the certificate in use
// (set at startup and after every successful reload); shared the same way.
inline constexpr std::string_view kTlsCertificateExpiryHelp =
    "Expiry (notAfter) of the TLS certificate in use, seconds since the Unix epoch";

}  // namespace mamori
