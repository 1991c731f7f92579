// Internal: a multi-literal scanner (Aho–Corasick automaton) with ASCII case folding, the literal
// prefilter of a field matcher (see compiled.h).
//
// Keys are byte strings compared with ASCII letters folded (A-Z == a-z); every other byte is
// compared exactly. Scan() walks the text once whatever the number of keys and reports every
// occurrence of every key (overlapping ones included) by its end position. The caller verifies
// what it needs beyond the folded key (exact case, anchoring, the rest of a longer literal).
//
// Two forms of the same automaton (failure links resolved at build time in both):
// - dense (the usual one): a full table of 256 byte columns per state holding the next state's
//   row offset, with "has outputs" in bit 0 (rows of states with outputs start at odd offsets),
//   so that a byte costs a load, an add and a table load, and four bytes share one output test
//   (about 4-5 instructions per byte). Memory: 1 KiB per state (a state per distinct folded key
//   prefix), at most `dense_max_bytes` (kDenseMaxBytes = 8 MiB, ~8,000 states, by default);
// - classes (the fallback when the dense table would exceed that): a table over byte classes
//   (the distinct folded key bytes), about 4 bytes x (key bytes + 1) x (distinct key bytes + 1),
//   one more lookup per byte, and a skip of the bytes that start no key at the root.
// Keep keys short (the caller truncates long literals).
//
// Thread-safety: immutable after Build(); Scan() is const and may run on any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mamori::rules::internal {

class LiteralScanner {
 public:
  // Adds a key; returns its id (0, 1, ...). REQUIRES: !key.empty(), before Build().
  int Add(std::string_view key);
  static constexpr std::size_t kDenseMaxBytes = std::size_t{8} << 20;
  // Builds the automaton: dense when its table takes at most dense_max_bytes, else over byte
  // classes. Keys added afterwards are ignored.
  void Build(std::size_t dense_max_bytes = kDenseMaxBytes);
  bool empty() const { return n_keys_ == 0; }
  bool dense() const { return !dense_.empty(); }
  std::size_t memory_bytes() const;

  // Calls on_hit(key_id, end) for every occurrence, `end` being one past its last byte.
  template <typename F>
  void Scan(std::string_view text, F&& on_hit) const {
    if (n_keys_ == 0) return;
    if (!dense_.empty()) {
      ScanDense(text, on_hit);
    } else {
      ScanClasses(text, on_hit);
    }
  }

 private:
  static constexpr std::uint32_t kOutput = 0x80000000u;  // the state has outputs (own or suffix)

  // Reports the outputs of state `state` (an automaton state number) ending at `end`.
  template <typename F>
  void Outputs(std::uint32_t state, std::size_t end, F& on_hit) const {
    for (std::int32_t o = static_cast<std::int32_t>(state); o >= 0; o = dict_[o]) {
      for (std::uint32_t k = out_begin_[o]; k < out_begin_[o + 1]; ++k) on_hit(outs_[k], end);
    }
  }

  template <typename F>
  void ScanDense(std::string_view text, F& on_hit) const {
    const std::uint32_t* next = dense_.data();
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::uint32_t s = 0;  // the current state's row offset; bit 0: it has outputs
    auto step = [&](std::size_t i) {
      s = next[s + p[i]];
      if (s & 1u) Outputs(dense_out_state_[(s - dense_out_base_) >> 8], i + 1, on_hit);
    };
    std::size_t i = 0;
    // Eight bytes at a time, testing for outputs once (they are rare); a block with an output is
    // walked again byte by byte from its first state.
    for (; i + 8 <= n; i += 8) {
      const std::uint32_t t1 = next[s + p[i]];
      const std::uint32_t t2 = next[t1 + p[i + 1]];
      const std::uint32_t t3 = next[t2 + p[i + 2]];
      const std::uint32_t t4 = next[t3 + p[i + 3]];
      const std::uint32_t t5 = next[t4 + p[i + 4]];
      const std::uint32_t t6 = next[t5 + p[i + 5]];
      const std::uint32_t t7 = next[t6 + p[i + 6]];
      const std::uint32_t t8 = next[t7 + p[i + 7]];
      if (((t1 | t2 | t3 | t4 | t5 | t6 | t7 | t8) & 1u) == 0) {
        s = t8;
      } else {
        for (std::size_t j = i; j < i + 8; ++j) step(j);
      }
    }
    for (; i < n; ++i) step(i);
  }

  template <typename F>
  void ScanClasses(std::string_view text, F& on_hit) const {
    const std::uint32_t* next = next_.data();
    const std::uint8_t* cls = classes_.data();
    std::uint32_t s = 0;  // the current state's row in next_ (state * n_classes_), no kOutput
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    // One byte with its outputs.
    auto step = [&](std::size_t i) {
      s = next[s + cls[p[i]]];
      if (s & kOutput) {
        s &= ~kOutput;
        Outputs(s / n_classes_, i + 1, on_hit);
      }
    };
    std::size_t i = 0;
    // Four bytes at a time, testing for outputs once (they are rare); a block with an output is
    // walked again byte by byte from its first state.
    const std::uint8_t* stay = root_stay_.data();
    while (true) {
      if (s == 0) {  // at the root: skip the bytes that start no key
        while (i < n && stay[p[i]]) ++i;
      }
      if (i + 4 > n) break;
      std::uint32_t t = next[s + cls[p[i]]];
      std::uint32_t seen = t;
      t = next[(t & ~kOutput) + cls[p[i + 1]]];
      seen |= t;
      t = next[(t & ~kOutput) + cls[p[i + 2]]];
      seen |= t;
      t = next[(t & ~kOutput) + cls[p[i + 3]]];
      seen |= t;
      if ((seen & kOutput) == 0) {
        s = t;
      } else {
        for (std::size_t j = i; j < i + 4; ++j) step(j);
      }
      i += 4;
    }
    for (; i < n; ++i) step(i);
  }

  // Builds dense_ from next_ (state numbers, before they become row offsets) when it fits.
  void BuildDense(const std::vector<char>& has_out, std::size_t max_bytes);

  std::vector<std::string> keys_;  // folded, until Build()
  int n_keys_ = 0;
  std::array<std::uint8_t, 256> classes_{};
  std::array<std::uint8_t, 256> root_stay_{};  // 1: the byte leads from the root to the root
  std::uint32_t n_classes_ = 1;
  // [state * n_classes_ + class] -> next state * n_classes_, | kOutput when it has outputs.
  std::vector<std::uint32_t> next_;
  std::vector<std::int32_t> dict_;        // state -> the nearest proper suffix state with own
                                          // outputs, or -1; state 0's entry is -1
  std::vector<std::uint32_t> out_begin_;  // state -> its own outputs in outs_ (n_states + 1)
  std::vector<int> outs_;
  // The dense form (empty when over the bound): [row offset + byte] -> next row offset, the rows
  // of states without outputs first (even offsets, the root at 0), then those with outputs from
  // dense_out_base_ (odd), whose automaton state numbers are dense_out_state_[(offset - base) /
  // 256].
  std::vector<std::uint32_t> dense_;
  std::uint32_t dense_out_base_ = 0;
  std::vector<std::uint32_t> dense_out_state_;
};

}  // namespace mamori::rules::internal
