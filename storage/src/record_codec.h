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

// Appends the encoding of r.raw and r.event to *out (r.seq is the key, not part of the value).
void EncodeRecord(const Record& r, std::string* out);

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
