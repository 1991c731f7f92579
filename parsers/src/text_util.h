// Internal helpers shared by the parsers: PRI, timestamps, small scanners. Not part of the API.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mamori/parsers/parser.h"

namespace mamori::parsers::internal {

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads "<N>" with N in 0..191 (1 to 3 digits) at s[*pos]. Advances *pos past '>' on success.
bool ReadPri(std::string_view s, std::size_t* pos, int* pri);

// A wall-clock time as written in a message, before zone and year resolution.
struct WallTime {
  int year = 0;  // 0 when the message carried none
  int month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::int64_t nanos = 0;
  bool has_offset = false;
  int offset_minutes = 0;  // east of UTC, when has_offset
};

// RFC 3339-like: "YYYY-MM-DD(T| )hh:mm:ss[.frac][Z|z|+hh:mm|-hh:mm|+hhmm]". When `strict`
// (RFC 5424), the offset is required and must be "Z" or "+hh:mm", and the token must end at
// s.size() or a space. Advances *pos past the timestamp on success.
bool ReadIsoTime(std::string_view s, std::size_t* pos, bool strict, WallTime* t);

// BSD: "Mmm[ ]+d[d][ ]+[YYYY ]hh:mm:ss[.frac][ YYYY][:]". Month names in any case.
// Advances *pos past the timestamp (and the optional ':') on success.
bool ReadBsdTime(std::string_view s, std::size_t* pos, WallTime* t);

// Resolves a WallTime into ns since the epoch, applying year inference (closest to
// received_ns) and the context zone, and sets TimeFlags bits in *flags. Returns false when the
// date does not exist in any candidate year, or its year is outside 1700..2200.
bool ResolveTime(const WallTime& t, std::int64_t received_ns, const ParseContext& ctx,
                 std::int64_t* out_ns, std::uint8_t* flags);

// Sets facility/severity from a PRI value (or leaves -1 when pri < 0).
void SetPri(int pri, Event* out);

// Whether the string is a JSON body candidate: starts with '{' (after optional "@cee:" and
// spaces). Returns the JSON part in *json.
bool JsonBody(std::string_view msg, std::string_view* json);

// ParseRfc3164 that also reports where the TAG starts in `s` (*tag_pos; the message start when
// there is no TAG). tag_pos may be null.
bool ParseRfc3164At(std::string_view s, std::int64_t received_ns, const ParseContext& ctx,
                    Event* out, std::size_t* tag_pos);

}  // namespace mamori::parsers::internal
