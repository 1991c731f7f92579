#include "mamori/core/time_util.h"

#include <charconv>
#include <string>

namespace mamori {
namespace {

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::int64_t DaysFromCivil(int y, int m, int d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool IsValidDate(int y, int m, int d) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max = kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  return d <= max;
}

std::int64_t UnixNsFromUtc(int year, int month, int day, int hour, int minute, int second,
                           std::int64_t nanos) {
  std::int64_t secs = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return secs * 1'000'000'000 + nanos;
}

int UtcYear(std::int64_t unix_ns) {
  std::int64_t secs = unix_ns / 1'000'000'000;
  if (unix_ns % 1'000'000'000 < 0) --secs;
  std::int64_t z = (secs >= 0 ? secs : secs - 86399) / 86400 + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return static_cast<int>(y + (m <= 2));
}

Result<std::int64_t> ParseRfc3339(std::string_view s) {
  auto bad = [&] {
    return Status::InvalidArgument("expected an RFC 3339 time like 2026-11-26T23:16:29Z, got '" +
                                   std::string(s) + "'");
  };
  int Y, M, D, h, m, sec;
  if (!Digits(s, 0, 4, &Y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &M) || s[7] != '-' ||
      !Digits(s, 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &m) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec)) {
    return bad();
  }
  if (!IsValidDate(Y, M, D) || h > 23 || m > 59 || sec > 60) return bad();
  if (sec == 60) sec = 59;  // leap second: clamp
  std::size_t i = 19;
  std::int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int nd = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (nd < 9) {
        nanos = nanos * 10 + (s[i] - '0');
        ++nd;
      }
      ++i;
    }
    if (nd == 0) return bad();
    for (int k = nd; k < 9; ++k) nanos *= 10;
  }
  if (i >= s.size()) return bad();
  int offset_min = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int oh, om;
    if (!Digits(s, i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !Digits(s, i + 4, 2, &om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return bad();
  }
  if (i != s.size()) return bad();
  return UnixNsFromUtc(Y, M, D, h, m, sec, nanos) -
         static_cast<std::int64_t>(offset_min) * 60 * 1'000'000'000;
}

Result<std::int64_t> ParseTimeBound(std::string_view s) {
  if (s.size() == 10 && s[4] == '-' && s[7] == '-') {
    int Y, M, D;
    if (Digits(s, 0, 4, &Y) && Digits(s, 5, 2, &M) && Digits(s, 8, 2, &D) && IsValidDate(Y, M, D)) {
      return UnixNsFromUtc(Y, M, D, 0, 0, 0);
    }
  }
  if (!s.empty() && s.find_first_not_of("0123456789.") == std::string_view::npos) {
    auto dot = s.find('.');
    std::int64_t secs = 0;
    auto whole = s.substr(0, dot);
    auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
    if (ec == std::errc() && p == whole.data() + whole.size() && secs < (1ll << 33)) {
      std::int64_t nanos = 0;
      if (dot != std::string_view::npos) {
        auto frac = s.substr(dot + 1);
        if (frac.empty() || frac.size() > 9 || frac.find('.') != std::string_view::npos) {
          return Status::InvalidArgument("bad Unix time '" + std::string(s) + "'");
        }
        for (char c : frac) nanos = nanos * 10 + (c - '0');
        for (std::size_t k = frac.size(); k < 9; ++k) nanos *= 10;
      }
      return secs * 1'000'000'000 + nanos;
    }
  }
  auto r = ParseRfc3339(s);
  if (!r.ok()) {
    return Status::InvalidArgument("expected RFC 3339 time, YYYY-MM-DD or Unix seconds, got '" +
                                   std::string(s) + "'");
  }
  return r;
}

}  // namespace mamori
