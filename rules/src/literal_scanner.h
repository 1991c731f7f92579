// Internal: a multi-literal scanner (Aho–Corasick automaton) with ASCII case folding, the literal
// prefilter of a field matcher (see compiled.h).
//
// Keys are byte strings compared with ASCII letters folded (A-Z == a-z); every other byte is
// compared exactly. Scan() walks the text once whatever the number of keys: one table lookup per
// byte (a dense transition table over byte classes, built ahead of time), and reports every
// occurrence of every key (overlapping ones included) by its end position. The caller verifies
// what it needs beyond the folded key (exact case, anchoring, the rest of a longer literal).
//
// Cost model: memory is about 4 bytes x (key bytes + 1) x (distinct folded key bytes + 1): 16k key
// bytes over 60 distinct bytes take ~4 MB. Keep keys short (the caller truncates long literals).
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
  // Builds the automaton. Keys added afterwards are ignored.
  void Build();
  bool empty() const { return n_keys_ == 0; }
  std::size_t memory_bytes() const;

  // Calls on_hit(key_id, end) for every occurrence, `end` being one past its last byte.
  template <typename F>
  void Scan(std::string_view text, F&& on_hit) const {
    if (n_keys_ == 0) return;
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
        for (std::int32_t o = static_cast<std::int32_t>(s / n_classes_); o >= 0; o = dict_[o]) {
          for (std::uint32_t k = out_begin_[o]; k < out_begin_[o + 1]; ++k) on_hit(outs_[k], i + 1);
        }
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

 private:
  static constexpr std::uint32_t kOutput = 0x80000000u;  // the state has outputs (own or suffix)

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
};

}  // namespace mamori::rules::internal
