// Calendar arithmetic without the C library's time zone state (no TZ, no locale): pure
// functions, safe on any thread, used by parsers and by query parsing.
#pragma once

#include <cstdint>
#include <string_view>

#include "mamori/core/status.h"

namespace mamori {

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31).
std::int64_t DaysFromCivil(int year, int month, int day);
// Whether year-month-day exists (leap years included).
bool IsValidDate(int year, int month, int day);
// ns since the epoch of a UTC wall-clock time.
std::int64_t UnixNsFromUtc(int year, int month, int day, int hour, int minute, int second,
                           std::int64_t nanos = 0);
// The UTC year of a time.
int UtcYear(std::int64_t unix_ns);

// Parses an RFC 3339 timestamp: "2026-11-26T23:16:29Z", "...29.123456+09:00", a space instead
// of 'T' is accepted; up to 9 fraction digits. Returns ns since the epoch.
Result<std::int64_t> ParseRfc3339(std::string_view s);
// What a user types for a time bound: RFC 3339, a date "2026-11-26" (UTC midnight), or Unix
// seconds "1764198989" (with optional fraction). Returns ns since the epoch.
Result<std::int64_t> ParseTimeBound(std::string_view s);

}  // namespace mamori
