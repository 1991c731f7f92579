// The token file and the daemon's view of it (docs/security.md, "Tokens").
//
// File format (<data_dir>/tokens, mode 0600, rewritten atomically: a temporary file in the same
// directory, fsync, rename). First line "# mamori tokens v1", then one line per token, fields
// separated by one TAB:
//   NAME  ROLE  sha256:HEX64  CREATED_NS  REVOKED_NS
// REVOKED_NS is 0 for an active token. Nothing else is stored: never the token itself. Blank
// lines and lines starting with '#' are skipped; any other bad line makes the whole file
// invalid (Corruption naming the line).
//
// Changes (`mamori token create|revoke`) take an exclusive flock(2) on "<file>.lock" so that two
// tools never lose each other's change; the daemon never writes the file.
//
// TokenSet is what the daemon authenticates with: Authenticate() stat(2)s the file on every
// call (a few microseconds) and reloads it when its inode, size or mtime changed, so a token
// created or revoked while the daemon runs takes effect on the next request. A file that
// became invalid keeps the previous set in force (logged once per change, counted in
// mamori_auth_token_file_errors_total).
//
// Thread-safety: TokenSet is thread-safe (any number of I/O threads). The free functions are
// for single-threaded tools; they serialize with each other through the lock file.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mamori/auth/token.h"
#include "mamori/core/status.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace mamori::auth {

struct TokenEntry {
  std::string name;
  Role role = Role::kViewer;
  TokenHash hash{};
  std::int64_t created_ns = 0;
  std::int64_t revoked_ns = 0;  // 0: active
  bool active() const { return revoked_ns == 0; }
};

// Parses the file text (format above).
Result<std::vector<TokenEntry>> ParseTokenFile(std::string_view text);
std::string FormatTokenFile(const std::vector<TokenEntry>& entries);
// Reads a token file; a missing file is an empty list.
Result<std::vector<TokenEntry>> ReadTokenFile(const std::string& path);

// Creates a token named `name` with `role`, appends it to the file (created with mode 0600 when
// missing) and returns the token, the only time it exists outside the caller's hands.
// InvalidArgument for a bad name or when an active token has that name (a revoked one of the
// same name is replaced).
Result<std::string> CreateToken(const std::string& path, const std::string& name, Role role,
                                std::int64_t now_ns);
// Marks the active token `name` revoked at now_ns. NotFound when there is none.
Status RevokeToken(const std::string& path, const std::string& name, std::int64_t now_ns);

// Who a request authenticated as.
struct Identity {
  std::string name;
  Role role = Role::kViewer;
};

class TokenSet {
 public:
  // Loads `path` (a missing file is an empty set: every request gets 401). Corruption or
  // IOError when the file exists but cannot be used. The registry (optional) gets
  // mamori_auth_tokens{state="active|revoked"} and mamori_auth_token_file_errors_total.
  static Result<std::unique_ptr<TokenSet>> Open(const std::string& path,
                                                prometheus::Registry* registry);
  ~TokenSet();

  // The identity of an Authorization header value, or the failure (kMissing, kMalformed,
  // kUnknown, kRevoked). Reloads the file first when it changed. Every stored hash is compared
  // (constant time each, no early exit).
  AuthFailure Authenticate(std::string_view authorization, Identity* who);

  // Active tokens in the set now (for the startup warning when there is none).
  std::size_t active_count();

 private:
  struct Impl;
  explicit TokenSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mamori::auth
