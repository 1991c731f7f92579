// The value encoding of the "records" column family (storage/FORMAT.md, "Record value").
// Internal to storage/; tests include it directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mamori/core/record.h"
#include "mamori/core/status.h"

namespace mamori::storage::internal {

inline constexpr std::uint8_t kRecordFormatV1 = 1;

// Appends the encoding of r.raw and r.event to *out (r.seq is the key, not part of the value).
void EncodeRecord(const Record& r, std::string* out);

// Decodes a value written by EncodeRecord into r->raw and r->event (r->seq is left alone).
// Corruption (never a crash) on a truncated, overlong or otherwise malformed value, or an
// unknown format version. Unknown extension tags are skipped.
Status DecodeRecord(std::string_view value, Record* r);

}  // namespace mamori::storage::internal
