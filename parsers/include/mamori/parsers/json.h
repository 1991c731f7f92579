// The JSON parser behind Parse(): one JSON object per message (a line or a datagram).
//
// Flattening: nested objects become dotted keys ("a.b.c"); array elements become "a.0", "a.1",
// ... (recursively); strings are stored decoded; numbers as their shortest text (integers exactly,
// floats as the shortest form that reads back the same: 1.50 -> "1.5"); booleans as "true" and
// "false"; null and empty objects/arrays are omitted. Nesting deeper than kMaxJsonDepth or more
// than kMaxJsonFields leaves fails the parse (the caller falls back to "unparsed").
//
// Thread-safety: any thread; each thread keeps its own simdjson parser and padded scratch buffer.
// REQUIRES: out != nullptr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mamori/core/record.h"
#include "mamori/parsers/parser.h"

namespace mamori::parsers {

inline constexpr std::size_t kMaxJsonDepth = 64;
inline constexpr std::size_t kMaxJsonFields = 4096;

// Parses a whole message as a JSON object and maps well-known keys to Event members:
//   host      <- host, hostname, host.name, host.hostname
//   app       <- app, program, process.name, ident, appname
//   procid    <- pid, process.pid
//   message   <- message, msg, log
//   severity  <- severity, level, log.level (0..7 or names: "error" -> 3, "warning" -> 4, ...)
//   time      <- @timestamp, timestamp, time (RFC 3339, or epoch s / ms / us / ns by magnitude)
// The first key present in each list wins. Every flattened key also stays in `fields`.
// Returns false (out undefined) when the text is not one valid JSON object.
bool ParseJson(std::string_view msg, std::int64_t received_ns, const ParseContext& ctx, Event* out);

// Flattens a JSON object into out->fields (appending) without touching other members. Used for
// JSON bodies after a syslog header. Returns false, leaving out->fields as it was, on invalid
// JSON, a non-object, too deep or too many fields.
bool AppendJsonFields(std::string_view json, Event* out);

// Syslog severity of a level name ("emerg", "alert", "crit"/"critical"/"fatal", "err"/"error",
// "warn"/"warning", "notice", "info"/"informational", "debug"/"trace"; any case) or of a number
// "0".."7". Returns -1 when unknown.
int SeverityFromName(std::string_view name);

}  // namespace mamori::parsers
