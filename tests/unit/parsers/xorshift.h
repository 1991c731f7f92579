// A small deterministic random generator (xorshift64) for the parsers' property tests: the same
// seed gives the same inputs on every run, so a failure can be reproduced.
#pragma once

#include <cstdint>

namespace mamori::parsers::testing {

class XorShift64 {
 public:
  explicit XorShift64(std::uint64_t seed) : state_(seed) {}  // seed must not be 0
  std::uint64_t operator()() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }

 private:
  std::uint64_t state_;
};

}  // namespace mamori::parsers::testing
