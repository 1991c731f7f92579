// Clock: where every module gets the time, so that tests can inject a fake one.
// Thread-safety: implementations are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace mamori {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, ns since the Unix epoch (UTC).
  virtual std::int64_t NowNs() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowNs() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // The process-wide instance. Never destroyed.
  static const SystemClock& Instance() {
    static const SystemClock* c = new SystemClock();
    return *c;
  }
};

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t start_ns = 0) : now_(start_ns) {}
  std::int64_t NowNs() const override { return now_.load(); }
  void Set(std::int64_t ns) { now_.store(ns); }
  void Advance(std::int64_t ns) { now_.fetch_add(ns); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace mamori
