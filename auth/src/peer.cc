#include "mamori/auth/peer.h"

#include <arpa/inet.h>

#include <string>

namespace mamori::auth {

bool IsLoopbackPeer(std::string_view peer) {
  std::string_view host;
  if (!peer.empty() && peer.front() == '[') {
    auto end = peer.find(']');
    if (end == std::string_view::npos) return false;
    host = peer.substr(1, end - 1);
    in6_addr a6{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1) return false;
    if (IN6_IS_ADDR_LOOPBACK(&a6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
  }
  auto colon = peer.rfind(':');
  host = colon == std::string_view::npos ? peer : peer.substr(0, colon);
  in_addr a4{};
  if (inet_pton(AF_INET, std::string(host).c_str(), &a4) != 1) return false;
  return (ntohl(a4.s_addr) >> 24) == 127;
}

std::string_view PeerAddress(std::string_view peer) {
  if (!peer.empty() && peer.front() == '[') {
    auto end = peer.find(']');
    return end == std::string_view::npos ? peer : peer.substr(1, end - 1);
  }
  auto colon = peer.find(':');
  if (colon == std::string_view::npos || peer.find(':', colon + 1) != std::string_view::npos) {
    return peer;  // no port, or a bare IPv6 address
  }
  return peer.substr(0, colon);
}

}  // namespace mamori::auth
