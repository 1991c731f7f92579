// RecordToJson: the JSON view of a stored record, shared by the HTTP API and `mamori search`.
//
// Thread-safety: pure function, any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "mamori/core/record.h"

namespace mamori::storage {

// One record as a JSON object:
//   seq, received_at and event_time (RFC 3339 UTC), time_inferred (bool), host, app, procid,
//   msgid, facility and severity (number, or null when the message carried none), format,
//   message, fields (object; the first value wins when a key repeats), info_class ("I", "II",
//   "III"), listener, transport ("udp", ...), peer, truncated (bool), original_size,
//   raw and raw_encoding: the raw bytes as a string with raw_encoding "utf-8" when they are
//   valid UTF-8 (NULs included, JSON escapes them), otherwise base64 with raw_encoding "base64".
// Every other string that is not valid UTF-8 has each bad byte replaced by U+FFFD, so the
// result is always valid UTF-8 and nlohmann's dump() never throws on it.
nlohmann::json RecordToJson(const Record& r);

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view s);
// `s` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view s);
// Standard base64 (RFC 4648, with padding).
std::string Base64Encode(std::string_view s);

}  // namespace mamori::storage
