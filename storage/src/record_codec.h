// The value encoding of the "records" column family (storage/FORMAT.md, "Record value").
// Internal to storage/; tests include it directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace mamori::storage::internal
