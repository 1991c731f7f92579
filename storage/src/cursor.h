// Search cursors: "c1" followed by 32 lowercase hex digits, the biased event time and the seq
// of the last index position a page examined (16 digits each). Internal to storage/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "keys.h"

namespace mamori::storage::internal {

inline std::string EncodeCursor(const IndexPos& pos) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "c1";
  const std::uint64_t parts[2] = {BiasTime(pos.time_ns), pos.seq};
  for (std::uint64_t v : parts) {
    for (int shift = 60; shift >= 0; shift -= 4) s.push_back(kHex[(v >> shift) & 0xf]);
  }
  return s;
}

inline std::optional<IndexPos> DecodeCursor(std::string_view s) {
  if (s.size() != 34 || s.substr(0, 2) != "c1") return std::nullopt;
  std::uint64_t parts[2] = {0, 0};
  for (int i = 0; i < 32; ++i) {
    const char c = s[2 + i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    parts[i / 16] = (parts[i / 16] << 4) | static_cast<std::uint64_t>(d);
  }
  if (parts[1] == 0) return std::nullopt;  // seq starts at 1
  return IndexPos{UnbiasTime(parts[0]), parts[1]};
}

}  // namespace mamori::storage::internal
