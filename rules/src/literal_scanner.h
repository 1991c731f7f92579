// Internal: a multi-literal scanner (Aho–Corasick automaton) with ASCII case folding, the literal
// prefilter of a field matcher (see compiled.h).
//
// Keys are byte strings compared with ASCII letters folded (A-Z == a-z); every other byte is
// compared exactly. Scan() walks the text once whatever the number of keys and reports every
// occurrence of every key (overlapping ones included) by its end position. The caller verifies
// what it needs beyond the folded key (exact case, anchoring, the rest of a longer literal).
//
// The automaton is one table (failure links resolved at build time): each state's row holds,
// per column, the next state's row offset, with "has outputs" in bit 0 (rows of states with
// outputs start at odd offsets, the others at even ones), so a byte costs a table load and an
// add, and eight bytes share one output test. Two column layouts:
// - byte classes (the usual one): a column per distinct folded key byte plus one for all other
//   bytes, through a 256-byte class map (one more load per byte, always in L1): ~4 bytes x
//   (distinct key bytes + 1) per state, e.g. 5,000 states over 60 classes take 1.2 MB;
// - dense: 256 columns, no class map, 1 KiB per state, used only while that takes at most
//   `dense_max_bytes` (kDenseMaxBytes = 64 KiB, i.e. up to 63 states). Measured: a dense table
//   for every automaton saved ~1 instruction per byte but made the 1,000-rule bench 40-60%
//   slower in wall time (27 MB of tables instead of ~6 MB: cache and TLB misses).
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
  static constexpr std::size_t kDenseMaxBytes = std::size_t{64} << 10;
  // Builds the automaton: dense when its table takes at most dense_max_bytes, else over byte
  // classes. Keys added afterwards are ignored.
  void Build(std::size_t dense_max_bytes = kDenseMaxBytes);
  bool empty() const { return n_keys_ == 0; }
  bool dense() const { return stride_ == 256; }
  std::size_t memory_bytes() const;

  // Calls on_hit(key_id, end) for every occurrence, `end` being one past its last byte.
  template <typename F>
  void Scan(std::string_view text, F&& on_hit) const {
    if (n_keys_ == 0) return;
    if (dense()) {
      if (root_skip_) {
        ScanTable<false, true>(text, on_hit);
      } else {
        ScanTable<false, false>(text, on_hit);
      }
    } else if (root_skip_) {
      ScanTable<true, true>(text, on_hit);
    } else {
      ScanTable<true, false>(text, on_hit);
    }
  }

 private:
  // Reports the outputs of state `state` (an automaton state number) ending at `end`.
  template <typename F>
  void Outputs(std::uint32_t state, std::size_t end, F& on_hit) const {
    for (std::int32_t o = static_cast<std::int32_t>(state); o >= 0; o = dict_[o]) {
      for (std::uint32_t k = out_begin_[o]; k < out_begin_[o + 1]; ++k) on_hit(outs_[k], end);
    }
  }

  template <bool kClasses, bool kRootSkip, typename F>
  void ScanTable(std::string_view text, F& on_hit) const {
    const std::uint32_t* next = table_.data();
    const std::uint8_t* cls = classes_.data();
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    // Row offsets and columns are added as 64-bit values: with 32-bit ones, the sum needs a zero
    // extension (one more instruction per byte) before it can index the table.
    auto col = [&](std::size_t i) -> std::size_t {
      if constexpr (kClasses) {
        return cls[p[i]];
      } else {
        return p[i];
      }
    };
    std::size_t s = 0;  // the current state's row offset; bit 0: it has outputs
    auto step = [&](std::size_t i) {
      s = next[s + col(i)];
      if (s & 1u) Outputs(out_state_[(s - out_base_) / stride_], i + 1, on_hit);
    };
    std::size_t i = 0;
    // Eight bytes at a time, testing for outputs once (they are rare); a block with an output is
    // walked again byte by byte from its first state. Walking the table is a chain of dependent
    // loads; when few bytes start a key (kMaxSkipStarts), the bytes at the root that start none
    // are skipped without one (with many, the skip loop would exit on nearly every byte).
    const std::uint8_t* stay = root_stay_.data();
    while (true) {
      if (kRootSkip && s == 0) {  // at the root: skip the bytes that start no key
        while (i < n && stay[p[i]]) ++i;
      }
      if (i + 8 > n) break;
      const std::size_t t1 = next[s + col(i)];
      const std::size_t t2 = next[t1 + col(i + 1)];
      const std::size_t t3 = next[t2 + col(i + 2)];
      const std::size_t t4 = next[t3 + col(i + 3)];
      const std::size_t t5 = next[t4 + col(i + 4)];
      const std::size_t t6 = next[t5 + col(i + 5)];
      const std::size_t t7 = next[t6 + col(i + 6)];
      const std::size_t t8 = next[t7 + col(i + 7)];
      if (((t1 | t2 | t3 | t4 | t5 | t6 | t7 | t8) & 1u) == 0) {
        s = t8;
      } else {
        for (std::size_t j = i; j < i + 8; ++j) step(j);
      }
      i += 8;
    }
    for (; i < n; ++i) step(i);
  }

  // Lays out table_ from the automaton (next state numbers over byte classes).
  void BuildTable(const std::vector<std::uint32_t>& next, const std::vector<char>& has_out,
                  std::size_t dense_max_bytes);

  std::vector<std::string> keys_;  // folded, until Build()
  int n_keys_ = 0;
  std::array<std::uint8_t, 256> classes_{};
  static constexpr int kMaxSkipStarts = 16;    // byte values (both letter cases count)
  std::array<std::uint8_t, 256> root_stay_{};  // 1: the byte leads from the root to the root
  bool root_skip_ = false;                     // at most kMaxSkipStarts bytes leave the root
  std::uint32_t n_classes_ = 1;
  // [row offset + column] -> the next state's row offset (see the top of the file). Rows are
  // stride_ entries (256 when dense, else the classes rounded up to even): the states without
  // outputs from 0 (the root first), one entry of padding, those with outputs from out_base_.
  std::vector<std::uint32_t> table_;
  std::uint32_t stride_ = 2;
  std::uint32_t out_base_ = 0;
  std::vector<std::uint32_t> out_state_;  // (row offset - out_base_) / stride_ -> state number
  std::vector<std::int32_t> dict_;        // state -> the nearest proper suffix state with own
                                          // outputs, or -1; state 0's entry is -1
  std::vector<std::uint32_t> out_begin_;  // state -> its own outputs in outs_ (n_states + 1)
  std::vector<int> outs_;
};

}  // namespace mamori::rules::internal
