#include "mamori/auth/failure_limiter.h"

#include <algorithm>

namespace mamori::auth {

namespace {
constexpr std::int64_t kNsPerMs = 1'000'000;
}  // namespace

AuthFailureLimiter::AuthFailureLimiter(const FailureLimit& limit, const Clock& clock)
    : limit_(limit), clock_(clock) {}

void AuthFailureLimiter::ExpireLockouts(std::int64_t now) {
  while (!lockouts_.empty() && lockouts_.front().first <= now) {
    auto it = entries_.find(lockouts_.front().second);
    if (it != entries_.end() && it->second.locked_until_ns == lockouts_.front().first) {
      Erase(it);  // a lockout that ended starts the count afresh
    }
    lockouts_.pop_front();
  }
  if (lockouts_.size() > 2 * limit_.max_addresses + 16) {
    // Evicted locked-out addresses left stale items behind: rebuild from the table.
    lockouts_.clear();
    for (const auto& [address, e] : entries_) {
      if (e.locked_until_ns != 0) lockouts_.emplace_back(e.locked_until_ns, address);
    }
    std::sort(lockouts_.begin(), lockouts_.end());
  }
}

AuthFailureLimiter::Entry* AuthFailureLimiter::Find(std::string_view address, bool create) {
  auto it = entries_.find(std::string(address));
  if (it != entries_.end()) {
    auto& list = it->second.locked_until_ns != 0 ? locked_lru_ : lru_;
    list.splice(list.begin(), list, it->second.lru);
    return &it->second;
  }
  if (!create) return nullptr;
  while (!entries_.empty() && entries_.size() >= std::max<std::size_t>(limit_.max_addresses, 1)) {
    auto victim = entries_.find(lru_.empty() ? locked_lru_.back() : lru_.back());
    Erase(victim);
    ++evictions_;
  }
  lru_.emplace_front(address);
  Entry& e = entries_[lru_.front()];
  e.lru = lru_.begin();
  return &e;
}

void AuthFailureLimiter::Erase(Map::iterator it) {
  (it->second.locked_until_ns != 0 ? locked_lru_ : lru_).erase(it->second.lru);
  entries_.erase(it);
}

std::int64_t AuthFailureLimiter::RetryAfterMs(std::string_view address) {
  if (limit_.limit == 0) return 0;
  const std::int64_t now = clock_.NowNs();
  std::lock_guard lock(mu_);
  ExpireLockouts(now);
  auto it = entries_.find(std::string(address));
  if (it == entries_.end() || it->second.locked_until_ns == 0) return 0;
  if (it->second.locked_until_ns <= now) {  // expired out of order (the clock was stepped back)
    Erase(it);
    return 0;
  }
  locked_lru_.splice(locked_lru_.begin(), locked_lru_, it->second.lru);
  const std::int64_t left_ms = (it->second.locked_until_ns - now + kNsPerMs - 1) / kNsPerMs;
  return std::clamp<std::int64_t>(left_ms, 1, std::max<std::int64_t>(limit_.lockout_ms, 1));
}

bool AuthFailureLimiter::RecordFailure(std::string_view address, std::uint64_t* evicted) {
  if (limit_.limit == 0) return false;
  const std::int64_t now = clock_.NowNs();
  std::lock_guard lock(mu_);
  ExpireLockouts(now);
  const std::uint64_t evictions_before = evictions_;
  Entry* e = Find(address, true);
  if (evicted) *evicted += evictions_ - evictions_before;
  if (e->locked_until_ns != 0) return false;  // raced with the lockout: already counted
  if (e->failures == 0 || now - e->window_start_ns >= limit_.window_ms * kNsPerMs ||
      now < e->window_start_ns) {
    e->window_start_ns = now;
    e->failures = 0;
  }
  if (++e->failures < limit_.limit) return false;
  e->failures = 0;
  e->locked_until_ns = now + limit_.lockout_ms * kNsPerMs;
  if (e->locked_until_ns == 0) e->locked_until_ns = 1;
  locked_lru_.splice(locked_lru_.begin(), lru_, e->lru);
  lockouts_.emplace_back(e->locked_until_ns, std::string(address));
  return true;
}

void AuthFailureLimiter::RecordSuccess(std::string_view address) {
  if (limit_.limit == 0) return;
  const std::int64_t now = clock_.NowNs();
  std::lock_guard lock(mu_);
  ExpireLockouts(now);
  auto it = entries_.find(std::string(address));
  if (it != entries_.end() && it->second.locked_until_ns == 0) Erase(it);
}

std::size_t AuthFailureLimiter::LockedOut() {
  const std::int64_t now = clock_.NowNs();
  std::lock_guard lock(mu_);
  ExpireLockouts(now);
  return locked_lru_.size();
}

std::size_t AuthFailureLimiter::Tracked() {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::uint64_t AuthFailureLimiter::Evictions() {
  std::lock_guard lock(mu_);
  return evictions_;
}

}  // namespace mamori::auth
