#include "cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

namespace mamori::rules::internal {

bool ParseIp(std::string_view text, std::array<std::uint8_t, 16>* out) {
  if (!text.empty() && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 64) return false;
  std::string s(text);
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out->fill(0);
    (*out)[10] = 0xff;
    (*out)[11] = 0xff;
    std::memcpy(out->data() + 12, &v4, 4);
    return true;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out->data(), &v6, 16);
    return true;
  }
  return false;
}

bool ParseCidr(std::string_view text, Cidr* out) {
  auto slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  if (!ParseIp(addr, &out->addr)) return false;
  bool v4 = addr.find(':') == std::string_view::npos;
  int max_bits = v4 ? 32 : 128;
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), bits);
    if (ec != std::errc() || ptr != p.data() + p.size() || bits < 0 || bits > max_bits) {
      return false;
    }
  }
  out->prefix = v4 ? bits + 96 : bits;
  return true;
}

bool CidrContains(const Cidr& net, const std::array<std::uint8_t, 16>& ip) {
  int full = net.prefix / 8;
  if (std::memcmp(net.addr.data(), ip.data(), full) != 0) return false;
  int rest = net.prefix % 8;
  if (rest == 0) return true;
  std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (net.addr[full] & mask) == (ip[full] & mask);
}

}  // namespace mamori::rules::internal
