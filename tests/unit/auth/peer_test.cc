#include "mamori/auth/peer.h"

#include <gtest/gtest.h>

namespace mamori::auth {
namespace {

TEST(Peer, Loopback) {
  for (const char* p :
       {"127.0.0.1:5000", "127.1.2.3:1", "[::1]:8514", "[::ffff:127.0.0.1]:9", "127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackPeer(p)) << p;
  }
}

TEST(Peer, NotLoopback) {
  for (const char* p : {"10.0.0.1:5000", "128.0.0.1:1", "[::2]:8514", "[::ffff:10.0.0.1]:9",
                        "[fe80::1]:1", "", ":", "[", "[::1", "127.0.0.1.evil:1", "1127.0.0.1:1",
                        "localhost:80", "[127.0.0.1]:1", "127.0.0.256:1", "::1:80"}) {
    EXPECT_FALSE(IsLoopbackPeer(p)) << p;
  }
}

TEST(Peer, AddressWithoutPort) {
  EXPECT_EQ(PeerAddress("192.0.2.7:5123"), "192.0.2.7");
  EXPECT_EQ(PeerAddress("192.0.2.7:1"), PeerAddress("192.0.2.7:2"));
  EXPECT_EQ(PeerAddress("[2001:db8::1]:443"), "2001:db8::1");
  EXPECT_EQ(PeerAddress("[::ffff:10.0.0.1]:9"), "::ffff:10.0.0.1");
  EXPECT_EQ(PeerAddress("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(PeerAddress("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(PeerAddress(""), "");
  EXPECT_EQ(PeerAddress("[::1"), "[::1");
}

}  // namespace
}  // namespace mamori::auth
