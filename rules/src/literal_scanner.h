// Internal: a multi-literal scanner with ASCII case folding, the literal prefilter of a field
// matcher (see compiled.h): a SIMD (AVX2) prefilter with exact verification, or an Aho–Corasick
// automaton, chosen per scanner at Build().
//
// Keys are byte strings compared with ASCII letters folded (A-Z == a-z); every other byte is
// compared exactly. Scan() reports every occurrence of every key (overlapping ones included) with
// its end position, whatever the method. The caller verifies what it needs beyond the folded key
// (exact case, anchoring, the rest of a longer literal).
//
// The prefilter (FDR-like: hashed windows instead of an automaton; Method::kAuto picks it when
// the CPU has AVX2 and BMI2, at most kMaxTiny keys are 1-2 bytes long and its table would be at
// most 1/8 full):
// - flags_ maps a hash of a 4-byte window (bytes ORed with 0x20: a loose fold that is a superset
//   of the exact one) to 7 flags. Only windows at EVEN text positions e are looked up (a stride
//   of 2: half the lookups), so every key enters the table twice, for a start at e and at e - 1:
//   a key of 8+ bytes by its bytes 0-3 at e (head) and 4-7 at e + 4 (tail); one of 9+ bytes also
//   by 1-4 at e and 5-8 at e + 4; keys of 4-8 bytes by a single window (bytes 0-3, bytes 1-4);
//   3-4 byte keys by windows with an unknown byte (128 entries each: every loose byte value); a
//   3-byte key may also start at e + 1. A start is a candidate when a single-window flag is set,
//   or a head flag and the matching tail flag 4 bytes later (both windows of the same pair of
//   keys' positions: the pairs cut the candidates that 4-byte prefixes alone would give).
// - AVX2: 16 text bytes (8 windows) a step: two loads, a byte shuffle into 8 windows, OR, a
//   32-bit multiply and shift (the hash), one gather of the 8 flags bytes, and the head/tail
//   test against the next step's flags (lane shifts), one movemask: ~1.3 instructions a byte
//   on long texts, ~2 on a 72-byte syslog line (fixed costs). The steps near the text's end
//   read its last 16 bytes with shifted shuffle indexes (zeros past the end): no byte past the
//   text is read. The candidates (rare) are spread into start positions (pdep) and
//   verified exactly: hash maps from the folded first 8 bytes (keys of 8+ bytes), the first 4
//   (4-7), the 3 bytes (3-byte keys) to the keys, whose next 8 bytes are compared folded in one
//   64-bit operation. Keys of 1-2 bytes are found by byte compares (AVX2, 32 a step).
// - A scalar version of the same filter (Method::kPrefilterScalar) checks the SIMD one in tests;
//   without AVX2, kAuto uses the automaton (the scalar filter costs about what it does).
// Hits come by start position, not end (Engine::State::Scan does not depend on the order).
//
// Measured (rules_bench, Sigma rules from the corpus on its Windows events and loghub syslog
// lines; bench/PROFILE.md, issue #5): CPU time per pass -45 % at 100 rules, -35 % at 1,000; but
// at 1,000 rules valgrind counts more instructions (syslog line 1,084 -> 1,331; at 100 rules
// 959 -> 769): the ~540 `keywords` literals' prefixes really occur in auth/sshd lines
// ("authenti", "uid=0", "root"), ~1 start per 72-byte line passes the filter and costs ~170
// instructions to verify, where the automaton walks on at ~3.6 instructions a byte; a gather
// counts as one instruction but replaces a chain of dependent loads into a 1 MB+ table, which is
// what the CPU waited on.
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
#include <type_traits>
#include <vector>

namespace mamori::rules::internal {

class LiteralScanner {
 public:
  // Adds a key; returns its id (0, 1, ...). REQUIRES: !key.empty(), before Build().
  int Add(std::string_view key);
  static constexpr std::size_t kDenseMaxBytes = std::size_t{64} << 10;
  // How Scan() works (the same hits whatever the method):
  enum class Method {
    kAuto,             // the prefilter when the CPU has AVX2 and BMI2, at most kMaxTiny keys
                       // are 1-2 bytes long and its table stays sparse; else the automaton
    kAutomaton,        // always the automaton (the reference implementation)
    kPrefilter,        // the prefilter, AVX2 when the CPU has it, whatever the keys
    kPrefilterScalar,  // the prefilter without SIMD (tests)
  };
  static constexpr int kMaxTiny = 4;
  // Builds the prefilter or the automaton (see Method): a dense automaton when its table takes at
  // most dense_max_bytes, else over byte classes. Keys added afterwards are ignored.
  void Build(std::size_t dense_max_bytes = kDenseMaxBytes, Method method = Method::kAuto);
  bool empty() const { return n_keys_ == 0; }
  bool prefiltered() const { return prefilter_; }
  bool simd() const { return prefilter_ && avx2_; }
  bool dense() const { return !prefilter_ && stride_ == 256; }
  std::size_t memory_bytes() const;

  // Calls on_hit(key_id, end) for every occurrence, `end` being one past its last byte. Order:
  // the automaton reports by end position, the prefilter by start position; callers must not
  // depend on it (Engine::State::Scan does not: pattern hits are idempotent, atoms are sorted).
  template <typename F>
  void Scan(std::string_view text, F&& on_hit) const {
    if (n_keys_ == 0) return;
    if (prefilter_) {
      using Fn = std::remove_reference_t<F>;
      ScanPrefilter(text, &Trampoline<Fn>, const_cast<void*>(static_cast<const void*>(&on_hit)));
      return;
    }
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
  using Emit = void (*)(void* ctx, int key, std::size_t end);
  template <typename Fn>
  static void Trampoline(void* ctx, int key, std::size_t end) {
    (*static_cast<Fn*>(ctx))(key, end);
  }
  // Builds the prefilter unless when_selective and it would pass too many positions.
  bool BuildPrefilter(bool avx2, bool when_selective);
  std::uint32_t Hash(std::uint32_t window) const;
  void ScanPrefilter(std::string_view text, Emit emit, void* ctx) const;
  void ScanScalar(const unsigned char* p, std::size_t n, Emit emit, void* ctx) const;
  void ScanAvx2(const unsigned char* p, std::size_t n, Emit emit, void* ctx) const;
  // The keys of 3+ bytes starting at position pos of the text p[0, n); only those of 8+ bytes
  // unless any_length.
  void Verify(const unsigned char* p, std::size_t n, std::size_t pos, bool any_length, Emit emit,
              void* ctx) const;
  // Verifies the starts that the windows at even position e (and e + 4) point to, from
  // *next_start on (each start once), and moves *next_start past them.
  void VerifyAround(const unsigned char* p, std::size_t n, std::size_t e, std::size_t* next_start,
                    Emit emit, void* ctx) const;
  // The keys refs_[begin, end) whose first `from` bytes match at pos (s = p + pos).
  void VerifyGroup(const unsigned char* s, std::size_t avail, std::size_t pos, std::uint32_t begin,
                   std::uint32_t end, std::uint32_t from, Emit emit, void* ctx) const;
  // The keys of 1-2 bytes starting there.
  void VerifyTiny(const unsigned char* p, std::size_t n, std::size_t pos, Emit emit,
                  void* ctx) const;

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

  // The prefilter (see the top of the file).
  bool prefilter_ = false;
  bool avx2_ = false;
  // Hash(window) -> kShort | kHead | kTail (literal_scanner.cc), entry h at [3 + h].
  std::vector<std::uint8_t> flags_;
  std::uint32_t hash_shift_ = 31;  // 32 - log2(entries in flags_)
  // Open-addressing maps (linear probing, at most a quarter full) from a folded prefix to its
  // keys, refs_[begin, end) (end == 0: an empty slot): the first 8 bytes of the keys of 8+
  // bytes, the first 4 of those of 4-7 bytes, the 3-byte keys.
  struct Slot {
    std::uint32_t prefix = 0;
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
  };
  struct Slot8 {
    std::uint64_t prefix = 0;
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
  };
  std::vector<Slot8> map8_;
  std::vector<Slot> map4_, map3_;
  std::uint32_t map8_shift_ = 31, map4_shift_ = 31, map3_shift_ = 31;
  struct KeyRef {
    std::int32_t id;
    std::uint32_t len;
    std::uint32_t offset;  // of its folded bytes in key_bytes_
    std::uint64_t next8;   // its folded bytes after the map's prefix (8 at most), zero-padded
    std::uint64_t mask8;   // the bytes of next8 that are the key's
  };
  std::vector<KeyRef> refs_;  // per prefix, by length
  std::string key_bytes_;
  struct Tiny {  // a key of 1 or 2 bytes, folded
    std::int32_t id;
    std::uint8_t len, b0, b1;
  };
  std::vector<Tiny> tiny_;
};

}  // namespace mamori::rules::internal
