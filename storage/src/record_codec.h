// The value encoding of the "records" column family (storage/FORMAT.md, "Record value").
// Internal to storage/; tests include it directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/core/record.h"
#include "mamori/core/status.h"
#include "mamori/storage/chain.h"

namespace mamori::storage::internal {

inline constexpr std::uint8_t kRecordFormatV1 = 1;
// Version 2 (written since v1 was): host, app, procid, msgid and field keys/values that occur in
// the raw bytes are stored as (offset, length) into them, and known format names as a code.
inline constexpr std::uint8_t kRecordFormatV2 = 2;

// Appends the encoding of r.raw and r.event to *out (r.seq is the key, not part of the value),
// in the current version (2).
void EncodeRecord(const Record& r, std::string* out);
// The same in version 1, which stores every string in full (stores written before version 2;
// tests use it to check that such values still decode).
void EncodeRecordV1(const Record& r, std::string* out);

// Names of parser formats stored as a code in version 2: code k (1-based) is kFormatCodes[k-1].
// Append-only: a code, once written, must keep its meaning forever (storage/FORMAT.md).
inline constexpr std::string_view kFormatCodes[] = {
    "rfc3164", "rfc5424",     "unparsed",     "json",        "kv",         "cef",
    "leef",    "http_access", "apache_error", "nginx_error", "sshd",       "sudo",
    "su",      "pam",         "linux_user",   "auditd",      "iptables",   "windows",
    "snare",   "cisco_asa",   "fortigate",    "panos",       "checkpoint", "pfsense"};

// Extension tags (FORMAT.md, "Extensions").
inline constexpr std::uint64_t kExtChainSalt = 1;  // kSaltBytes random bytes
inline constexpr std::uint64_t kExtChainHash = 2;  // h_seq, 32 bytes

// The hash-chain extensions of a record value.
struct ChainExt {
  std::string salt;  // empty when the record is not chained
  bool has_hash = false;
  Hash hash{};
};

// Appends the chain extensions (tags 1 and 2) to a value produced by EncodeRecord.
void AppendChainExt(std::string_view salt, const Hash& hash, std::string* out);

// Decodes a value written by EncodeRecord into r->raw and r->event (r->seq is left alone),
// and, when `ext` is not null, the chain extensions into *ext.
// Corruption (never a crash) on a truncated, overlong or otherwise malformed value, or an
// unknown format version, or a chain extension of the wrong size. Unknown extension tags are
// skipped.
Status DecodeRecord(std::string_view value, Record* r, ChainExt* ext = nullptr);

// Record groups (FORMAT.md, "Record groups"): several records stored as one value under the key
// of the first. A value whose first byte is kRecordGroupV3 is a group; any other value is one
// record (version 1 or 2) whose seq is its key. Append stores the records of a write batch in
// groups of at most kGroupMaxRecords records, closed once their encoded records reach
// kGroupTargetBytes (about one 16 KiB SST block), so that a read of one record decodes little.
inline constexpr std::uint8_t kRecordGroupV3 = 3;
inline constexpr std::size_t kGroupMaxRecords = 64;
inline constexpr std::size_t kGroupTargetBytes = 16 * 1024;

// One record of a stored value: its seq and its own (version 1 or 2) value.
struct GroupItem {
  std::uint64_t seq = 0;
  std::string_view value;
};

// Builds the value of a group. Not thread-safe; reusable after Clear().
class GroupBuilder {
 public:
  // Starts a group stored under key `key_seq` (its first record's seq, or lower).
  void Clear(std::uint64_t key_seq);
  // Adds a record. REQUIRES: seqs strictly increasing and >= the key.
  void Add(std::uint64_t seq, std::string_view value);
  std::size_t count() const { return count_; }
  std::size_t item_bytes() const { return items_.size(); }
  std::uint64_t key_seq() const { return key_; }
  // The value to store: (header, items) to concatenate. A group of one record whose seq is the
  // key is stored as that record's own value (header empty): readers of every version read it.
  std::string_view header();
  std::string_view items() const { return items_; }
  std::string Value();

 private:
  std::uint64_t key_ = 0;
  std::uint64_t last_ = 0;
  std::size_t count_ = 0;
  std::size_t single_at_ = 0;  // where the only record's value starts in items_
  std::string header_;
  std::string items_;
};

// Splits a records-CF value stored under key `key_seq` into its records (in seq order): a plain
// value is one record with seq `key_seq`; a group its items. The views point into `value`.
// Corruption (never a crash, never a read past the value) when a group's framing is bad: no
// items, a seq not above the previous one, below the key or overflowing, an item running past
// the end, or bytes left over.
Status SplitRecords(std::uint64_t key_seq, std::string_view value, std::vector<GroupItem>* out);

// The value of the group `value` (stored under `key_seq`) without the records whose seqs are in
// `drop` (sorted ascending); "" when none is left. A plain value is dropped whole or kept as is.
Result<std::string> DropRecords(std::uint64_t key_seq, std::string_view value,
                                const std::vector<std::uint64_t>& drop);

}  // namespace mamori::storage::internal
