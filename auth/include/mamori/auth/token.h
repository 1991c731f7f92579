// API tokens and roles (docs/security.md): what a bearer token is, how it is made and hashed,
// how an Authorization header is read, and the roles a token can carry.
//
// A token is "mmr_" followed by 43 base64url characters (32 random bytes from OpenSSL's
// RAND_bytes: 256 bits). mamori stores only its SHA-256 hash; the token itself is printed once
// by `mamori token create` and never again. Hashes are compared in constant time.
//
// Thread-safety: every function here is pure (GenerateToken uses OpenSSL's thread-safe RNG),
// safe on any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "mamori/core/status.h"

namespace mamori::auth {

// Hierarchical: each role may do everything the roles below it may do.
//   viewer        GET /metrics, /healthz, incidents (read)
//   analyst       + events of class II and III, incident changes (state, assign, note)
//   investigator  + class I events, evidence verify and export
//   admin         + rules reload, configuration, tokens
enum class Role : std::uint8_t { kViewer = 1, kAnalyst = 2, kInvestigator = 3, kAdmin = 4 };

std::string_view RoleName(Role r);  // "viewer", "analyst", "investigator", "admin"
// Exact lower-case names only; false (and *out untouched) otherwise.
bool ParseRole(std::string_view name, Role* out);
// Whether a token with role `have` may do what needs `need`.
inline bool RoleAllows(Role have, Role need) {
  return static_cast<int>(have) >= static_cast<int>(need);
}

using TokenHash = std::array<std::uint8_t, 32>;  // SHA-256 of the whole token string

constexpr std::string_view kTokenPrefix = "mmr_";
constexpr std::size_t kTokenRandomBytes = 32;
constexpr std::size_t kTokenLength = 4 + 43;  // prefix + unpadded base64url of 32 bytes

// A new random token. Internal on an RNG failure (never returns a weak token).
Result<std::string> GenerateToken();
// Whether `token` has the shape of a mamori token (prefix, length, base64url alphabet).
bool WellFormedToken(std::string_view token);
TokenHash HashToken(std::string_view token);
// Constant-time equality (CRYPTO_memcmp).
bool HashEqual(const TokenHash& a, const TokenHash& b);
std::string HashToHex(const TokenHash& h);
// 64 lower- or upper-case hex digits; false otherwise.
bool HashFromHex(std::string_view hex, TokenHash* out);

// Why a request did not authenticate; the label of mamori_api_auth_failures_total{reason}.
enum class AuthFailure : std::uint8_t {
  kNone = 0,
  kMissing,    // no Authorization header
  kMalformed,  // not "Bearer <token>", or the token is not well formed
  kUnknown,    // well formed, but no token with that hash
  kRevoked,    // the token was revoked
  kForbidden,  // authenticated, but the role is too weak (403, not 401)
};
std::string_view AuthFailureName(AuthFailure f);  // "missing", "malformed", ...

// Reads the token out of an Authorization header value: "Bearer <token>" (scheme
// case-insensitive, one or more spaces, no trailing garbage). Returns kMissing for an empty
// value, kMalformed for anything else that is not a well-formed token; kNone and *token set
// otherwise.
AuthFailure ParseBearer(std::string_view header_value, std::string* token);

// Token names: 1..64 characters of [A-Za-z0-9._@-] (they appear in audit records and
// incident timelines, and in the tab-separated token file).
bool ValidTokenName(std::string_view name);

}  // namespace mamori::auth
