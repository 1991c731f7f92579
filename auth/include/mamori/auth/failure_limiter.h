// AuthFailureLimiter: counts failed API authentications (401) per client address and locks an
// address out once it failed `limit` times within `window` (docs/security.md, "Lockout after
// failed authentications"). While an address is locked out the API answers 429 without looking
// at the token, so a correct guess during the lockout gains nothing.
//
// Counting: a fixed window per address, opened by its first failure; the `limit`-th failure
// inside it starts a lockout of `lockout` and clears the count. A success clears the count of an
// address that is not locked out; it never ends a lockout. The lockout ends on its own.
//
// Memory: at most `max_addresses` addresses are tracked; a new one beyond that evicts the least
// recently seen address that is not locked out, or, when every tracked address is locked out,
// the least recently seen locked-out one, which is then free again (counted by Evictions()). So
// a flood of sources cannot push a locked-out address out of the table unless it gets
// `max_addresses` addresses locked out itself.
//
// Addresses are opaque strings (the caller passes the peer's IP without its port, see
// PeerAddress in peer.h). Time comes from the injected Clock (wall clock; a clock stepped back
// lengthens a lockout by the step at most, RetryAfterMs never reports more than `lockout`).
//
// Threads: every method may be called from any thread (the API's I/O threads) concurrently; one
// mutex guards the table. Between Check and RecordFailure of one request, concurrent requests
// of the same address may still be authenticated: at most one per I/O thread beyond `limit`.
// Owner: the daemon's ApiGuard (app/src/access.h); the Clock must outlive the limiter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "mamori/core/clock.h"

namespace mamori::auth {

struct FailureLimit {
  std::uint32_t limit = 10;            // failures that start a lockout; 0 disables the limiter
  std::int64_t window_ms = 60'000;     // within this long
  std::int64_t lockout_ms = 300'000;   // the lockout lasts this long
  std::size_t max_addresses = 10'000;  // addresses tracked at most (least recent evicted)
};

class AuthFailureLimiter {
 public:
  AuthFailureLimiter(const FailureLimit& limit, const Clock& clock);

  // Milliseconds until `address`'s lockout ends (> 0, at most lockout_ms), or 0 when it is not
  // locked out. Always 0 when the limiter is disabled.
  std::int64_t RetryAfterMs(std::string_view address);
  // Counts one failed authentication of `address`. True when this failure started a lockout.
  // Adds to *evicted (when given) the addresses this call evicted to make room.
  bool RecordFailure(std::string_view address, std::uint64_t* evicted = nullptr);
  // A successful authentication: clears the failure count unless `address` is locked out.
  void RecordSuccess(std::string_view address);

  // Addresses locked out now.
  std::size_t LockedOut();
  // Addresses tracked now (failures counted or locked out).
  std::size_t Tracked();
  // Addresses evicted because max_addresses were tracked, since construction.
  std::uint64_t Evictions();

 private:
  struct Entry {
    std::int64_t window_start_ns = 0;
    std::uint32_t failures = 0;
    std::int64_t locked_until_ns = 0;      // 0: not locked out
    std::list<std::string>::iterator lru;  // in lru_, or in locked_lru_ when locked out
  };
  using Map = std::unordered_map<std::string, Entry>;

  // Ends the lockouts that expired by `now` (keeps locked_lru_ exact), and compacts lockouts_ when
  // stale items pile up. Caller holds mu_.
  void ExpireLockouts(std::int64_t now);
  // The entry of `address`, made (evicting the least recent if full) when `create`; moved to
  // the most recent end. nullptr when absent and !create. Caller holds mu_.
  Entry* Find(std::string_view address, bool create);
  void Erase(Map::iterator it);

  const FailureLimit limit_;
  const Clock& clock_;
  std::mutex mu_;
  Map entries_;
  std::list<std::string> lru_;         // addresses not locked out, most recent first
  std::list<std::string> locked_lru_;  // addresses locked out, most recent first
  // Lockouts in the order they started (so, of a constant lockout, in the order they end):
  // (locked_until_ns, address). Stale items (address evicted or cleared) are skipped, and
  // dropped by a rebuild when there are more than 2 * max_addresses + 16 items.
  std::deque<std::pair<std::int64_t, std::string>> lockouts_;
  std::uint64_t evictions_ = 0;
};

}  // namespace mamori::auth
