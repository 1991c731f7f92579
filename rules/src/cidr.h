// Internal: IPv4/IPv6 networks.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace mamori::rules::internal {

struct Cidr {
  std::array<std::uint8_t, 16> addr{};  // IPv4 as IPv4-mapped IPv6
  int prefix = 128;                     // in IPv6 bits
};

// "10.0.0.0/8", "2001:db8::/32", "192.0.2.1" (a host). False when malformed.
bool ParseCidr(std::string_view text, Cidr* out);
// Parses an address (IPv4 or IPv6, optional [brackets]) into IPv6 form.
bool ParseIp(std::string_view text, std::array<std::uint8_t, 16>* out);
bool CidrContains(const Cidr& net, const std::array<std::uint8_t, 16>& ip);

}  // namespace mamori::rules::internal
