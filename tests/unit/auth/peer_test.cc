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

}  // namespace
}  // namespace mamori::auth
