#include "mamori/core/tls.h"

// clang-format off
#include <utility>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
// clang-format on
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

#include "mamori/core/log.h"

namespace mamori {
namespace {

namespace ssl = boost::asio::ssl;

// The newest OpenSSL error queue entry as text, and clears the queue.
std::string OpenSslError() {
  unsigned long e = ERR_peek_last_error();
  std::string s;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    s = buf;
  }
  ERR_clear_error();
  return s.empty() ? "unknown OpenSSL error" : s;
}

// The file must be readable and contain a PEM block of one of the `labels`.
Status CheckPemFile(const std::string& key, const std::string& path,
                    std::initializer_list<std::string_view> labels, std::string_view what) {
  const std::string where = key + " '" + path + "'";
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(where + ": cannot read: " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::string_view label : labels) {
    if (text.find("-----BEGIN " + std::string(label) + "-----") != std::string::npos) {
      return Status::Ok();
    }
  }
  return Status::InvalidArgument(where + ": not a PEM " + std::string(what) + " (no '-----BEGIN " +
                                 std::string(*labels.begin()) + "-----' block)");
}

std::string ModeString(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string Asn1TimeString(const ASN1_TIME* t) {
  if (t == nullptr) return "?";
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "?";
  std::string s = "?";
  if (ASN1_TIME_print(bio, t) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0) s.assign(data, static_cast<std::size_t>(n));
  }
  BIO_free(bio);
  return s;
}

}  // namespace

TlsServerContext::TlsServerContext(const TlsConfig& config, std::string where)
    : config_(config), where_(std::move(where)) {}

TlsServerContext::~TlsServerContext() = default;

Result<std::shared_ptr<TlsServerContext>> TlsServerContext::Create(const TlsConfig& config,
                                                                   std::string where) {
  std::shared_ptr<TlsServerContext> t(new TlsServerContext(config, std::move(where)));
  auto ctx = t->Build();
  if (!ctx.ok()) return ctx.status();
  t->context_ = std::move(ctx).value();
  return t;
}

Result<std::shared_ptr<ssl::context>> TlsServerContext::Build() const {
  const std::string cert_key = where_ + ".cert_file";
  const std::string key_key = where_ + ".key_file";
  const std::string ca_key = where_ + ".ca_file";
  if (config_.cert_file.empty()) return Status::InvalidArgument(cert_key + ": required");
  if (config_.key_file.empty()) return Status::InvalidArgument(key_key + ": required");
  if (config_.verify_client && config_.ca_file.empty()) {
    return Status::InvalidArgument(ca_key + ": required when verify_client is true");
  }
  if (Status s = CheckPemFile(cert_key, config_.cert_file, {"CERTIFICATE"}, "certificate");
      !s.ok()) {
    return s;
  }
  if (Status s = CheckPemFile(key_key, config_.key_file,
                              {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}, "private key");
      !s.ok()) {
    return s;
  }
  // A private key others can read is a leak waiting to happen; say so (but run: the operator
  // may have reasons, e.g. a group-readable key shared with a reverse proxy).
  if (struct stat st{}; ::stat(config_.key_file.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
    log::Warn("tls", key_key + " '" + config_.key_file + "' is readable by group or others (mode " +
                         ModeString(st.st_mode) + "); make it 0600");
  }
  if (!config_.ca_file.empty()) {
    if (Status s = CheckPemFile(ca_key, config_.ca_file, {"CERTIFICATE"}, "CA certificate");
        !s.ok()) {
      return s;
    }
  }
  ERR_clear_error();
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  if (ec || SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return Status::Internal(where_ + ": cannot require TLS 1.2: " + OpenSslError());
  }
  // No TLS 1.3 session tickets. The server sends them after the handshake, and a syslog sender
  // never reads from its connection: when it closes with the tickets still unread, its kernel
  // sends a RST instead of a FIN, and the RST discards whatever of its last messages still sits
  // unread in mamori's receive buffer (under back-pressure: megabytes). Resumption would save
  // little for long-lived syslog connections anyway. (TLS 1.2 tickets travel inside the
  // handshake, which the client does read.)
  SSL_CTX_set_num_tickets(native, 0);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  if (SSL_CTX_use_certificate_chain_file(native, config_.cert_file.c_str()) != 1) {
    return Status::InvalidArgument(cert_key + " '" + config_.cert_file +
                                   "': not a usable PEM certificate (" + OpenSslError() + ")");
  }
  if (SSL_CTX_use_PrivateKey_file(native, config_.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return Status::InvalidArgument(key_key + " '" + config_.key_file +
                                     "': does not match the certificate of " + cert_key);
    }
    return Status::InvalidArgument(key_key + " '" + config_.key_file +
                                   "': not a usable PEM private key (" + OpenSslError() + ")");
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Status::InvalidArgument(key_key + " '" + config_.key_file +
                                   "': does not match the certificate of " + cert_key + " (" +
                                   OpenSslError() + ")");
  }
  if (!config_.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, config_.ca_file.c_str(), nullptr) != 1) {
      return Status::InvalidArgument(ca_key + " '" + config_.ca_file +
                                     "': not usable CA certificates (" + OpenSslError() + ")");
    }
    // Tell clients which CAs we accept (some clients pick their certificate by it).
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config_.ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(native, names);
    }
    int mode = SSL_VERIFY_PEER;
    if (config_.verify_client) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(native, mode, nullptr);
  }
  ERR_clear_error();
  return ctx;
}

std::shared_ptr<ssl::context> TlsServerContext::Get() const {
  std::lock_guard lock(mu_);
  return context_;
}

Status TlsServerContext::Reload() {
  auto ctx = Build();
  if (!ctx.ok()) return ctx.status();
  std::lock_guard lock(mu_);
  context_ = std::move(ctx).value();
  return Status::Ok();
}

std::string TlsServerContext::Describe() const {
  auto ctx = Get();
  X509* cert = SSL_CTX_get0_certificate(ctx->native_handle());
  if (cert == nullptr) return "no certificate";
  std::string out;
  char name[256] = {0};
  X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof(name));
  out = std::string("subject ") + name;
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      out += ", serial ";
      out += hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  out += ", expires " + Asn1TimeString(X509_get0_notAfter(cert));
  return out;
}

std::int64_t TlsServerContext::NotAfterSeconds() const {
  auto ctx = Get();
  X509* cert = SSL_CTX_get0_certificate(ctx->native_handle());
  if (cert == nullptr) return 0;
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string_view TlsHandshakeFailureReason(const boost::system::error_code& ec) {
  if (ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated ||
      ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe) {
    return "eof";
  }
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    switch (reason) {
      case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        return "no_client_cert";
      case SSL_R_CERTIFICATE_VERIFY_FAILED:
        return "bad_client_cert";
      default:
        return "protocol";
    }
  }
  return "other";
}

}  // namespace mamori
