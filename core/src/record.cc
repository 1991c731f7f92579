#include "mamori/core/record.h"

#include <cstdio>
#include <ctime>

namespace mamori {

std::string_view TransportName(Transport t) {
  switch (t) {
    case Transport::kUdp:
      return "udp";
    case Transport::kTcp:
      return "tcp";
    case Transport::kTls:
      return "tls";
    case Transport::kHttp:
      return "http";
    case Transport::kFile:
      return "file";
  }
  return "unknown";
}

std::string_view InfoClassName(InfoClass c) {
  switch (c) {
    case InfoClass::kI:
      return "I";
    case InfoClass::kII:
      return "II";
    case InfoClass::kIII:
      return "III";
  }
  return "III";
}

const std::string* Event::Get(std::string_view key) const {
  for (const auto& f : fields) {
    if (f.key == key) return &f.value;
  }
  return nullptr;
}

void Event::Set(std::string_view key, std::string_view value) {
  for (auto& f : fields) {
    if (f.key == key) {
      f.value.assign(value);
      return;
    }
  }
  fields.push_back(Field{std::string(key), std::string(value)});
}

std::string FormatRfc3339(std::int64_t unix_ns) {
  std::int64_t secs = unix_ns / 1'000'000'000;
  std::int64_t nanos = unix_ns % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out(buf, static_cast<size_t>(n));
  if (nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos));
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

}  // namespace mamori
