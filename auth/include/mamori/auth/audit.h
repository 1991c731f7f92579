// The audit trail (docs/security.md, "Audit trail"): an append-only, hash-chained log of who
// did what through the API — every call that reads events, verifies or exports evidence, or
// changes an incident or the rules, and every refused (401/403) attempt at one of those.
//
// Storage: its own RocksDB at <data_dir>/audit (the evidence store's write path is untouched).
// Key "a" + seq (8 bytes big-endian) -> EncodeAuditEntry(entry) + the 32-byte entry hash.
// seq starts at 1 and has no gaps. The hash is SHA-256 over the canonical encoding, which
// includes the previous entry's hash (32 zero bytes for seq 1):
//
//   "mamori-audit-v1" u64(seq) i64(time_ns) str(actor) str(role) str(peer) str(method)
//   str(path) u32(n) n*(str(key) str(value)) i64(status) i64(returned) i64(withheld)
//   prev_hash[32]
//
// with integers big-endian and str(s) = u32(length) bytes. Changing any stored byte of an
// entry, removing an entry or reordering entries is found by VerifyAuditLog. Dropping the newest
// entries (truncating the tail) leaves a valid shorter chain; to detect that, the daemon signs
// the head (DurableHead) into every evidence checkpoint, and `mamori audit verify` compares the
// trail with the newest such checkpoint (docs/security.md, "Audit trail").
//
// Thread-safety: AuditLog::Append is thread-safe (one mutex: seq and prev hash are assigned in
// order); List, Verify and DurableHead may run concurrently with it (DurableHead runs on the
// evidence maintenance thread). A read-only AuditLog (a RocksDB secondary
// instance, like `mamori search`) is safe to open while the daemon writes; it sees the entries
// as of Open.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mamori/core/status.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace mamori::storage {
class SideDb;
}  // namespace mamori::storage

namespace mamori::auth {

using AuditHash = std::array<std::uint8_t, 32>;

struct AuditEntry {
  std::uint64_t seq = 0;     // assigned by Append
  std::int64_t time_ns = 0;  // wall clock, ns since the Unix epoch
  std::string actor;         // token name; "" when the request did not authenticate
  std::string role;          // the token's role; "" when none
  std::string peer;          // "ip:port"
  std::string method;        // "GET", "POST"
  std::string path;          // "/api/v1/events"
  std::vector<std::pair<std::string, std::string>> params;  // query parameters, as received
  int status = 0;                                           // HTTP status answered
  std::int64_t returned = 0;  // events/records returned (or changed: 1 for an incident change)
  std::int64_t withheld = 0;  // events matched but not returned (class I for a weak role)
  AuditHash prev_hash{};      // assigned by Append
  AuditHash hash{};           // assigned by Append
};

// The canonical encoding (above) without the trailing hash; and the entry's hash.
std::string EncodeAuditEntry(const AuditEntry& e);
AuditHash HashAuditEntry(const AuditEntry& e);
// Decodes a stored value (encoding + 32-byte hash). Corruption on anything malformed.
Result<AuditEntry> DecodeAuditValue(std::string_view value);
// One entry as a JSON object (one line of `mamori audit list`); hashes as hex, time RFC 3339
// plus time_ns; bytes that are not UTF-8 are shown as U+FFFD.
std::string AuditEntryToJson(const AuditEntry& e);

struct AuditOptions {
  std::string dir;  // Default: "" (must be set): <data_dir>/audit
  // Open a RocksDB secondary instance: reads only, safe while the daemon runs. Default: false.
  bool read_only = false;
  bool sync = false;  // fsync the WAL on every append. Default: false (as storage.sync)
};

struct AuditVerifyReport {
  bool ok = true;
  std::uint64_t entries = 0;    // entries checked
  std::uint64_t first_bad = 0;  // seq of the first bad entry (0 when ok)
  std::string what;             // why it is bad
  AuditHash head{};             // hash of the last good entry
};

class AuditLog {
 public:
  // Opens (or creates, unless read_only) the log. NotFound for read_only when there is none.
  // The registry (optional) gets mamori_audit_records_total and mamori_audit_append_errors_total.
  static Result<std::unique_ptr<AuditLog>> Open(const AuditOptions& options,
                                                prometheus::Registry* registry);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Assigns seq, prev_hash and hash, stores the entry and returns its seq. Thread-safe.
  // An error (disk full...) is returned and counted; the chain stays consistent (the next
  // append continues from the last stored entry).
  Result<std::uint64_t> Append(AuditEntry entry);

  // Entries with seq >= from_seq and time_ns >= since_ns, oldest first, at most `limit`.
  Result<std::vector<AuditEntry>> List(std::uint64_t from_seq, std::int64_t since_ns,
                                       std::size_t limit) const;

  // Walks the whole chain: seq 1, 2, ... without gaps, each value decodes, each hash matches its
  // encoding, each prev_hash is the previous entry's hash. Stops at the first bad entry.
  AuditVerifyReport Verify() const;

  std::uint64_t next_seq() const;

  // The last entry's seq and hash (0 and zeros when empty), after syncing the WAL so that the
  // entries up to it survive a crash: what a signed checkpoint may anchor. Thread-safe; takes
  // the append mutex only to read the head, not while syncing. InvalidArgument when read-only.
  Result<std::pair<std::uint64_t, AuditHash>> DurableHead() const;

 private:
  explicit AuditLog(const AuditOptions& options);
  Status OpenDb();
  Status LoadHead();

  AuditOptions options_;
  std::unique_ptr<storage::SideDb> side_;  // owns the database (and a secondary's dir)
  rocksdb::DB* db_ = nullptr;              // side_->db()
  prometheus::Counter* records_ = nullptr;
  prometheus::Counter* errors_ = nullptr;

  mutable std::mutex mu_;  // guards next_seq_ and head_
  std::uint64_t next_seq_ = 1;
  AuditHash head_{};
};

}  // namespace mamori::auth
