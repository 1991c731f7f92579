#include "mamori/auth/token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace mamori::auth {
namespace {

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool IsB64Url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Unpadded base64url.
std::string Base64Url(const std::uint8_t* p, std::size_t n) {
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += kB64Url[(v >> s) & 63];
  }
  if (n - i == 1) {
    std::uint32_t v = p[i] << 16;
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
  } else if (n - i == 2) {
    std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
    out += kB64Url[(v >> 6) & 63];
  }
  return out;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = Lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kViewer:
      return "viewer";
    case Role::kAnalyst:
      return "analyst";
    case Role::kInvestigator:
      return "investigator";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

bool ParseRole(std::string_view name, Role* out) {
  for (Role r : {Role::kViewer, Role::kAnalyst, Role::kInvestigator, Role::kAdmin}) {
    if (name == RoleName(r)) {
      *out = r;
      return true;
    }
  }
  return false;
}

Result<std::string> GenerateToken() {
  std::uint8_t buf[kTokenRandomBytes];
  if (RAND_bytes(buf, sizeof(buf)) != 1) {
    return Status::Internal("RAND_bytes failed: no token made");
  }
  std::string t(kTokenPrefix);
  t += Base64Url(buf, sizeof(buf));
  OPENSSL_cleanse(buf, sizeof(buf));
  return t;
}

bool WellFormedToken(std::string_view token) {
  if (token.size() != kTokenLength || token.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return false;
  }
  for (char c : token.substr(kTokenPrefix.size())) {
    if (!IsB64Url(c)) return false;
  }
  return true;
}

TokenHash HashToken(std::string_view token) {
  TokenHash h;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), h.data());
  return h;
}

bool HashEqual(const TokenHash& a, const TokenHash& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HashToHex(const TokenHash& h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (std::uint8_t b : h) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

bool HashFromHex(std::string_view hex, TokenHash* out) {
  if (hex.size() != 64) return false;
  TokenHash h;
  for (std::size_t i = 0; i < 32; ++i) {
    int hi = HexVal(hex[2 * i]), lo = HexVal(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    h[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  *out = h;
  return true;
}

std::string_view AuthFailureName(AuthFailure f) {
  switch (f) {
    case AuthFailure::kNone:
      return "none";
    case AuthFailure::kMissing:
      return "missing";
    case AuthFailure::kMalformed:
      return "malformed";
    case AuthFailure::kUnknown:
      return "unknown";
    case AuthFailure::kRevoked:
      return "revoked";
    case AuthFailure::kForbidden:
      return "forbidden";
  }
  return "none";
}

AuthFailure ParseBearer(std::string_view v, std::string* token) {
  // Optional whitespace around the field value is not part of it (RFC 9110 5.5).
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return AuthFailure::kMissing;
  constexpr std::string_view kScheme = "bearer";
  if (v.size() <= kScheme.size()) return AuthFailure::kMalformed;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (Lower(v[i]) != kScheme[i]) return AuthFailure::kMalformed;
  }
  v.remove_prefix(kScheme.size());
  if (v.front() != ' ') return AuthFailure::kMalformed;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (!WellFormedToken(v)) return AuthFailure::kMalformed;
  token->assign(v);
  return AuthFailure::kNone;
}

bool ValidTokenName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace mamori::auth
