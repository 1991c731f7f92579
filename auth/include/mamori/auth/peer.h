// Peer addresses as the HTTP server reports them ("ip:port", "[v6]:port"). Pure functions,
// any thread.
#pragma once

#include <string_view>

namespace mamori::auth {

// Whether the peer is a loopback address: 127.0.0.0/8, ::1, or IPv4-mapped ::ffff:127.x.y.z.
// Anything unparseable is not loopback.
bool IsLoopbackPeer(std::string_view peer);

// The peer's address without its port: "192.0.2.7:5123" -> "192.0.2.7", "[2001:db8::1]:443" ->
// "2001:db8::1". Anything without a port is returned as it is.
std::string_view PeerAddress(std::string_view peer);

}  // namespace mamori::auth
