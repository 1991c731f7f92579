#include "text_util.h"

#include <cstdint>
#include <cstdlib>

#include "mamori/core/time_util.h"

namespace mamori::parsers::internal {
namespace {

bool ReadN(std::string_view s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!IsDigit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// ".ddd..." at *pos: up to 9 significant digits, the rest ignored.
void ReadFraction(std::string_view s, std::size_t* pos, std::int64_t* nanos) {
  std::size_t i = *pos;
  if (i + 1 >= s.size() || (s[i] != '.' && s[i] != ',') || !IsDigit(s[i + 1])) return;
  ++i;
  int nd = 0;
  std::int64_t v = 0;
  while (i < s.size() && IsDigit(s[i])) {
    if (nd < 9) {
      v = v * 10 + (s[i] - '0');
      ++nd;
    }
    ++i;
  }
  for (int k = nd; k < 9; ++k) v *= 10;
  *nanos = v;
  *pos = i;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr std::uint32_t Pack3(char a, char b, char c) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(a)) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b)) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(c)) << 16;
}

int MonthFromName(std::string_view s) {
  if (s.size() < 3) return 0;
  switch (Pack3(Lower(s[0]), Lower(s[1]), Lower(s[2]))) {
    case Pack3('j', 'a', 'n'):
      return 1;
    case Pack3('f', 'e', 'b'):
      return 2;
    case Pack3('m', 'a', 'r'):
      return 3;
    case Pack3('a', 'p', 'r'):
      return 4;
    case Pack3('m', 'a', 'y'):
      return 5;
    case Pack3('j', 'u', 'n'):
      return 6;
    case Pack3('j', 'u', 'l'):
      return 7;
    case Pack3('a', 'u', 'g'):
      return 8;
    case Pack3('s', 'e', 'p'):
      return 9;
    case Pack3('o', 'c', 't'):
      return 10;
    case Pack3('n', 'o', 'v'):
      return 11;
    case Pack3('d', 'e', 'c'):
      return 12;
    default:
      return 0;
  }
}

// "hh:mm:ss" at *pos.
bool ReadClock(std::string_view s, std::size_t* pos, WallTime* t) {
  std::size_t i = *pos;
  if (!ReadN(s, i, 2, &t->hour) || i + 8 > s.size() || s[i + 2] != ':' ||
      !ReadN(s, i + 3, 2, &t->minute) || s[i + 5] != ':' || !ReadN(s, i + 6, 2, &t->second)) {
    return false;
  }
  if (t->hour > 23 || t->minute > 59 || t->second > 60) return false;
  *pos = i + 8;
  return true;
}

// " YYYY" followed by a space or the end, at *pos (which points at the space).
bool ReadTrailingYear(std::string_view s, std::size_t* pos, int* year) {
  std::size_t i = *pos;
  int y;
  if (i >= s.size() || s[i] != ' ' || !ReadN(s, i + 1, 4, &y)) return false;
  std::size_t end = i + 5;
  if (end < s.size() && s[end] != ' ') return false;
  if (y < 1970 || y > 2200) return false;
  *year = y;
  *pos = end;
  return true;
}

// UtcYear, remembered per thread for the day of the last call: receive times of one stream fall
// on the same day, and the year is a function of the day.
int CachedUtcYear(std::int64_t ns) {
  constexpr std::int64_t kDayNs = 86'400LL * 1'000'000'000;
  struct Day {
    std::int64_t from = 1, to = 0;  // [from, to): empty until the first call
    int year = 0;
  };
  thread_local Day day;
  if (ns >= day.from && ns < day.to) return day.year;
  if (ns < -(1LL << 62) || ns > (1LL << 62)) return UtcYear(ns);  // day bounds would overflow
  std::int64_t d = ns / kDayNs;
  if (ns % kDayNs < 0) --d;  // floor
  day.from = d * kDayNs;
  day.to = day.from + kDayNs;
  day.year = UtcYear(ns);
  return day.year;
}

}  // namespace

bool ReadPri(std::string_view s, std::size_t* pos, int* pri) {
  std::size_t i = *pos;
  if (i >= s.size() || s[i] != '<') return false;
  ++i;
  int v = 0, nd = 0;
  while (i < s.size() && IsDigit(s[i]) && nd < 3) {
    v = v * 10 + (s[i] - '0');
    ++nd;
    ++i;
  }
  if (nd == 0 || i >= s.size() || s[i] != '>' || v > 191) return false;
  *pri = v;
  *pos = i + 1;
  return true;
}

bool ReadIsoTime(std::string_view s, std::size_t* pos, bool strict, WallTime* t) {
  std::size_t i = *pos;
  if (!ReadN(s, i, 4, &t->year) || i + 19 > s.size() || s[i + 4] != '-' ||
      !ReadN(s, i + 5, 2, &t->month) || s[i + 7] != '-' || !ReadN(s, i + 8, 2, &t->day)) {
    return false;
  }
  char sep = s[i + 10];
  if (sep != 'T' && sep != 't' && (strict || sep != ' ')) return false;
  i += 11;
  if (!ReadClock(s, &i, t)) return false;
  t->nanos = 0;
  ReadFraction(s, &i, &t->nanos);
  t->has_offset = false;
  t->offset_minutes = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    t->has_offset = true;
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    std::size_t j = i + 1;
    if (!ReadN(s, j, 2, &oh)) return false;
    j += 2;
    if (j < s.size() && s[j] == ':') {
      ++j;
    } else if (strict) {
      return false;
    }
    if (!ReadN(s, j, 2, &om) || oh > 23 || om > 59) return false;
    t->has_offset = true;
    t->offset_minutes = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i = j + 2;
  } else if (strict) {
    return false;
  }
  if (strict && i < s.size() && s[i] != ' ') return false;
  if (!IsValidDate(t->year, t->month, t->day)) return false;
  *pos = i;
  return true;
}

bool ReadBsdTime(std::string_view s, std::size_t* pos, WallTime* t) {
  std::size_t i = *pos;
  if (i + 3 > s.size()) return false;
  t->month = MonthFromName(s.substr(i, 3));
  if (t->month == 0) return false;
  i += 3;
  if (i >= s.size() || s[i] != ' ') return false;
  while (i < s.size() && s[i] == ' ') ++i;
  // Day: 1 or 2 digits.
  if (i >= s.size() || !IsDigit(s[i])) return false;
  t->day = s[i++] - '0';
  if (i < s.size() && IsDigit(s[i])) t->day = t->day * 10 + (s[i++] - '0');
  if (t->day < 1 || t->day > 31 || i >= s.size() || s[i] != ' ') return false;
  ++i;
  while (i < s.size() && s[i] == ' ') ++i;
  t->year = 0;
  // Optional year before the clock: "Mar 7 2008 19:06:53".
  int y;
  if (ReadN(s, i, 4, &y) && i + 4 < s.size() && s[i + 4] == ' ') {
    if (y < 1970 || y > 2200) return false;
    t->year = y;
    i += 5;
  }
  if (!ReadClock(s, &i, t)) return false;
  t->nanos = 0;
  ReadFraction(s, &i, &t->nanos);
  if (t->year == 0) ReadTrailingYear(s, &i, &t->year);
  if (i < s.size() && s[i] == ':') ++i;  // "19:06:53: host" (non-standard, seen in practice)
  t->has_offset = false;
  t->offset_minutes = 0;
  *pos = i;
  return true;
}

bool ResolveTime(const WallTime& t, std::int64_t received_ns, const ParseContext& ctx,
                 std::int64_t* out_ns, std::uint8_t* flags) {
  int second = t.second == 60 ? 59 : t.second;  // leap second: clamp
  std::int64_t offset_ns = 0;
  if (t.has_offset) {
    offset_ns = static_cast<std::int64_t>(t.offset_minutes) * 60'000'000'000;
  } else {
    offset_ns = static_cast<std::int64_t>(ctx.utc_offset_minutes) * 60'000'000'000;
    *flags |= kTimeZoneInferred;
  }
  if (t.year != 0) {
    // ns since 1970 in an int64 span 1677..2262: other years are not usable times (found by
    // fuzz_auto: "<13>1 9999-12-31T..." overflowed).
    if (t.year < 1700 || t.year > 2200) return false;
    if (!IsValidDate(t.year, t.month, t.day)) return false;
    *out_ns = UnixNsFromUtc(t.year, t.month, t.day, t.hour, t.minute, second, t.nanos) - offset_ns;
    return true;
  }
  // No year: of the previous, current and next year (of the receive time in the message's zone),
  // take the one that puts the event closest to the receive time. Handles Dec/Jan.
  const int base = CachedUtcYear(received_ns + offset_ns);
  // The same date a year earlier or later is 365 or 366 days away: when the receive year puts the
  // event within 182 days of the receipt, the other two years are at least 183 days away and
  // cannot win (the loop below would pick the receive year too).
  if (IsValidDate(base, t.month, t.day)) {
    constexpr std::int64_t k182Days = 182LL * 86'400 * 1'000'000'000;
    const std::int64_t ns =
        UnixNsFromUtc(base, t.month, t.day, t.hour, t.minute, second, t.nanos) - offset_ns;
    if (std::llabs(ns - received_ns) <= k182Days) {
      *out_ns = ns;
      *flags |= kTimeYearInferred;
      return true;
    }
  }
  bool found = false;
  std::int64_t best = 0;
  for (int y = base - 1; y <= base + 1; ++y) {
    if (!IsValidDate(y, t.month, t.day)) continue;
    std::int64_t ns =
        UnixNsFromUtc(y, t.month, t.day, t.hour, t.minute, second, t.nanos) - offset_ns;
    if (!found || std::llabs(ns - received_ns) < std::llabs(best - received_ns)) {
      best = ns;
      found = true;
    }
  }
  if (!found) return false;
  *out_ns = best;
  *flags |= kTimeYearInferred;
  return true;
}

void SetPri(int pri, Event* out) {
  if (pri < 0) {
    out->facility = -1;
    out->severity = -1;
    return;
  }
  out->facility = pri / 8;
  out->severity = pri % 8;
}

bool JsonBody(std::string_view msg, std::string_view* json) {
  std::size_t i = 0;
  if (msg.substr(0, 5) == "@cee:") i = 5;
  while (i < msg.size() && msg[i] == ' ') ++i;
  if (i >= msg.size() || msg[i] != '{') return false;
  *json = msg.substr(i);
  return true;
}

}  // namespace mamori::parsers::internal
