#include "literal_scanner.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <deque>

namespace mamori::rules::internal {

namespace {

unsigned char Fold(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

constexpr std::uint32_t kNone = 0xffffffffu;

// The prefilter's hashes (Fibonacci hashing: the top bits of the product).
constexpr std::uint32_t kBitmapMul = 0x9e3779b1u;
std::size_t MapHash(std::uint32_t prefix, std::uint32_t shift) {
  return (prefix * 0x85ebca6bu) >> shift;
}
std::size_t MapHash(std::uint64_t prefix, std::uint32_t shift) {
  return static_cast<std::size_t>((prefix * 0x9e3779b97f4a7c15ull) >> (shift + 32));
}
// The cheap fold of the bitmap's windows: OR 0x20 maps A-Z to a-z, and a few other bytes onto
// each other ('@' and '`', 0x09 and ')', ...): a superset of the exact fold, for a filter only.
constexpr std::uint32_t kLoose = 0x20202020u;

std::uint32_t Load32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// The exact ASCII fold of four bytes at once: +0x20 on the bytes 0x41..0x5a.
std::uint32_t FoldWord(std::uint32_t x) {
  const std::uint32_t low7 = x & 0x7f7f7f7fu;
  const std::uint32_t ge_a = low7 + 0x3f3f3f3fu;  // bit 7 set: low 7 bits >= 0x41
  const std::uint32_t gt_z = low7 + 0x25252525u;  // bit 7 set: low 7 bits >= 0x5b
  return x + (((ge_a & ~gt_z & ~x) & 0x80808080u) >> 2);
}

std::uint64_t FoldWord64(std::uint64_t x) {
  const std::uint64_t low7 = x & 0x7f7f7f7f7f7f7f7full;
  const std::uint64_t ge_a = low7 + 0x3f3f3f3f3f3f3f3full;
  const std::uint64_t gt_z = low7 + 0x2525252525252525ull;
  return x + (((ge_a & ~gt_z & ~x) & 0x8080808080808080ull) >> 2);
}

const std::array<unsigned char, 256> kFold = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = Fold(static_cast<unsigned char>(c));
  return t;
}();

bool HaveAvx2() {
  static const bool have = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
  return have;
}

int Log2Ceil(std::size_t v) {
  int b = 0;
  while ((std::size_t{1} << b) < v) ++b;
  return b;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The prefilter.

namespace {

// Flags of a window's hash in flags_ (see the header).
// A window at an even position e of the text may be (see the header):
constexpr std::uint8_t kHeadHere = 0x40;   // bytes 0-3 of a key of 8+ bytes (start e)
constexpr std::uint8_t kHeadPrev = 0x20;   // bytes 1-4 of a key of 9+ bytes (start e - 1)
constexpr std::uint8_t kTailHere = 0x10;   // bytes 4-7 of a key of 8+ bytes (start e - 4)
constexpr std::uint8_t kTailPrev = 0x08;   // bytes 5-8 of a key of 9+ bytes (start e - 5)
constexpr std::uint8_t kShortHere = 0x04;  // bytes 0-3 of a 4-7 byte key, or a 3-byte key
constexpr std::uint8_t kShortPrev = 0x02;  // bytes 1-4 of a 5-8 byte key, 1-3 of a 4-byte key
constexpr std::uint8_t kShortNext = 0x01;  // bytes 0-2 of a 3-byte key (start e + 1)
constexpr std::uint8_t kAnyShort = 0x80;   // any of the three above

// Finds `prefix` in an open-addressing map; nullptr if absent.
template <typename SlotT, typename PrefixT>
const SlotT* FindSlot(const std::vector<SlotT>& map, std::uint32_t shift, PrefixT prefix) {
  const std::size_t mask = map.size() - 1;
  std::size_t h = MapHash(prefix, shift);
  while (true) {
    const SlotT& slot = map[h];
    if (slot.end == 0) return nullptr;
    if (slot.prefix == prefix) return &slot;
    h = (h + 1) & mask;
  }
}

std::uint64_t Load64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// The 4 bytes from position i (zeros past the end).
std::uint32_t Window(const unsigned char* p, std::size_t n, std::size_t i) {
  if (i + 4 <= n) return Load32(p + i);
  std::uint32_t w = 0;
  for (std::size_t j = 0; i + j < n; ++j) w |= std::uint32_t{p[i + j]} << (8 * j);
  return w;
}

}  // namespace

std::uint32_t LiteralScanner::Hash(std::uint32_t window) const {
  return ((window | kLoose) * kBitmapMul) >> hash_shift_;
}

bool LiteralScanner::BuildPrefilter(bool avx2, bool when_selective) {
  std::vector<int> ids4, ids3;
  std::vector<Tiny> tiny;
  for (int id = 0; id < n_keys_; ++id) {
    const std::string& k = keys_[id];
    if (k.size() >= 4) {
      ids4.push_back(id);
    } else if (k.size() == 3) {
      ids3.push_back(id);
    } else {
      const auto b = [&](std::size_t i) {
        return i < k.size() ? static_cast<std::uint8_t>(k[i]) : std::uint8_t{0};
      };
      tiny.push_back(Tiny{id, static_cast<std::uint8_t>(k.size()), b(0), b(1)});
    }
  }
  // The flags table: 64-128 entries per window set (a window with an unknown byte sets 128:
  // one per loose byte), 1 KiB to 256 KiB. Measured on the syslog keywords (~4,700 windows):
  // 64 KiB passed 1.3 starts per line to verification, 256 KiB 1.0 (-8% instructions, and
  // faster in wall time despite L2 gathers).
  std::size_t entries = ids3.size() * 256;
  for (int id : ids4) {
    const std::size_t len = keys_[id].size();
    entries += len == 4 ? 129 : len < 8 ? 2 : len == 8 ? 3 : 4;
  }
  const int bits = std::clamp(Log2Ceil(entries * 64), 10, 18);
  if (when_selective && (tiny.size() > kMaxTiny || entries * 8 > (std::size_t{1} << bits))) {
    return false;  // too many short keys: too many candidates
  }
  prefilter_ = true;
  avx2_ = avx2;
  tiny_ = std::move(tiny);
  hash_shift_ = static_cast<std::uint32_t>(32 - bits);
  flags_.assign((std::size_t{1} << bits) + 3, 0);  // entry h at [3 + h]: a gathered dword's top
  auto set = [&](std::uint32_t window, std::uint8_t flag) {
    if ((flag & (kShortHere | kShortPrev | kShortNext)) != 0) flag |= kAnyShort;
    flags_[3 + Hash(window)] |= flag;
  };
  // The 4 bytes of key id from `from`; bytes before or past the key are `any`.
  auto bytes = [&](int id, int from, std::uint32_t any) {
    std::uint32_t v = 0;
    for (int j = 0; j < 4; ++j) {
      const int at = from + j;
      const std::uint32_t b = at >= 0 && at < static_cast<int>(keys_[id].size())
                                  ? static_cast<unsigned char>(keys_[id][at])
                                  : any;
      v |= b << (8 * j);
    }
    return v;
  };
  auto set_any = [&](int id, int from, std::uint8_t flag) {  // every byte where the key has none
    for (std::uint32_t b = 0; b < 256; ++b) set(bytes(id, from, b), flag);
  };
  for (int id : ids3) {
    set_any(id, 0, kShortHere);
    set_any(id, -1, kShortNext);
  }
  for (int id : ids4) {
    const std::size_t len = keys_[id].size();
    if (len >= 8) {
      set(bytes(id, 0, 0), kHeadHere);
      set(bytes(id, 4, 0), kTailHere);
    } else {
      set(bytes(id, 0, 0), kShortHere);
    }
    if (len >= 9) {
      set(bytes(id, 1, 0), kHeadPrev);
      set(bytes(id, 5, 0), kTailPrev);
    } else if (len >= 5) {
      set(bytes(id, 1, 0), kShortPrev);
    } else {
      set_any(id, 1, kShortPrev);
    }
  }
  // The exact maps, by key length: 8+ bytes by their first 8, 4-7 by their first 4, 3 bytes.
  // Keys grouped by prefix, each group by length.
  std::vector<int> ids8;
  std::vector<int> ids4_7;
  for (int id : ids4) (keys_[id].size() >= 8 ? ids8 : ids4_7).push_back(id);
  refs_.clear();
  key_bytes_.clear();
  auto build_map = [&](std::vector<int>& ids, std::size_t len, auto* map, std::uint32_t* shift) {
    using SlotT = typename std::remove_reference_t<decltype(*map)>::value_type;
    using PrefixT = decltype(SlotT::prefix);
    auto key_prefix = [&](int id) {
      PrefixT v = 0;
      std::memcpy(&v, keys_[id].data(), len);
      return v;
    };
    std::sort(ids.begin(), ids.end(), [&](int a, int b) {
      const PrefixT pa = key_prefix(a), pb = key_prefix(b);
      if (pa != pb) return pa < pb;
      if (keys_[a].size() != keys_[b].size()) return keys_[a].size() < keys_[b].size();
      return a < b;
    });
    std::vector<SlotT> groups;
    for (int id : ids) {
      const PrefixT p = key_prefix(id);
      if (groups.empty() || groups.back().prefix != p) {
        groups.push_back(SlotT{p, static_cast<std::uint32_t>(refs_.size()), 0});
      }
      std::uint64_t next8 = 0;  // the key's bytes [len, len + 8), zero-padded
      const std::size_t more = std::min<std::size_t>(8, keys_[id].size() - len);
      std::memcpy(&next8, keys_[id].data() + len, more);
      const std::uint64_t mask8 =
          more == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * more)) - 1;
      refs_.push_back(KeyRef{id, static_cast<std::uint32_t>(keys_[id].size()),
                             static_cast<std::uint32_t>(key_bytes_.size()), next8, mask8});
      key_bytes_ += keys_[id];
      groups.back().end = static_cast<std::uint32_t>(refs_.size());
    }
    map->clear();
    if (groups.empty()) return;
    const int map_bits = std::max(1, Log2Ceil(groups.size() * 4));  // at most a quarter full
    *shift = static_cast<std::uint32_t>(32 - map_bits);
    map->assign(std::size_t{1} << map_bits, SlotT{});
    for (const SlotT& g : groups) {
      std::size_t h = MapHash(g.prefix, *shift);
      while ((*map)[h].end != 0) h = (h + 1) & (map->size() - 1);
      (*map)[h] = g;
    }
  };
  build_map(ids8, 8, &map8_, &map8_shift_);
  build_map(ids4_7, 4, &map4_, &map4_shift_);
  build_map(ids3, 3, &map3_, &map3_shift_);
  return true;
}

void LiteralScanner::ScanPrefilter(std::string_view text, Emit emit, void* ctx) const {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  if (avx2_) {
    ScanAvx2(p, text.size(), emit, ctx);
  } else {
    ScanScalar(p, text.size(), emit, ctx);
  }
}

// Whether s[from, k.len) equals the key's bytes there, folded.
template <typename KeyRefT>
inline bool RestEqual(const unsigned char* s, const KeyRefT& k, const char* key_bytes,
                      std::uint32_t from) {
  const char* kb = key_bytes + k.offset;
  std::uint32_t i = from;
  while (i < k.len && kFold[s[i]] == static_cast<unsigned char>(kb[i])) ++i;
  return i == k.len;
}

void LiteralScanner::VerifyGroup(const unsigned char* s, std::size_t avail, std::size_t pos,
                                 std::uint32_t begin, std::uint32_t end, std::uint32_t from,
                                 Emit emit, void* ctx) const {
  if (avail >= from + 8) {  // the next 8 bytes compared at once
    const std::uint64_t next8 = FoldWord64(Load64(s + from));
    for (std::uint32_t r = begin; r < end; ++r) {
      const KeyRef& k = refs_[r];
      if (k.len > avail) break;  // by length
      if (((next8 ^ k.next8) & k.mask8) != 0) continue;
      if (k.len > from + 8 && !RestEqual(s, k, key_bytes_.data(), from + 8)) continue;
      emit(ctx, k.id, pos + k.len);
    }
    return;
  }
  for (std::uint32_t r = begin; r < end; ++r) {
    const KeyRef& k = refs_[r];
    if (k.len > avail) break;
    if (RestEqual(s, k, key_bytes_.data(), from)) emit(ctx, k.id, pos + k.len);
  }
}

inline void LiteralScanner::Verify(const unsigned char* p, std::size_t n, std::size_t pos,
                                   bool any_length, Emit emit, void* ctx) const {
  const std::size_t avail = n - pos;
  const unsigned char* s = p + pos;
  if (avail >= 8 && !map8_.empty()) {
    if (const Slot8* slot = FindSlot(map8_, map8_shift_, FoldWord64(Load64(s)))) {
      VerifyGroup(s, avail, pos, slot->begin, slot->end, 8, emit, ctx);
    }
  }
  if (!any_length) return;
  const std::uint32_t w = FoldWord(Window(p, n, pos));
  if (avail >= 4 && !map4_.empty()) {
    if (const Slot* slot = FindSlot(map4_, map4_shift_, w)) {
      VerifyGroup(s, avail, pos, slot->begin, slot->end, 4, emit, ctx);
    }
  }
  if (avail >= 3 && !map3_.empty()) {
    if (const Slot* slot = FindSlot(map3_, map3_shift_, w & 0xffffffu)) {
      for (std::uint32_t r = slot->begin; r < slot->end; ++r) emit(ctx, refs_[r].id, pos + 3);
    }
  }
}

void LiteralScanner::VerifyTiny(const unsigned char* p, std::size_t n, std::size_t pos, Emit emit,
                                void* ctx) const {
  const std::size_t avail = n - pos;
  for (const Tiny& t : tiny_) {
    if (t.len > avail || kFold[p[pos]] != t.b0) continue;
    if (t.len == 2 && kFold[p[pos + 1]] != t.b1) continue;
    emit(ctx, t.id, pos + t.len);
  }
}

// The starts that the flags of the windows at even position e and e + 4 point to: bit 0: e - 1,
// bit 1: e, bit 2: e + 1; bits 4-6: the same, found by a short flag (keys of 3-8 bytes).
inline unsigned Starts(std::uint8_t f, std::uint8_t f4) {
  const unsigned prev_short = (f & kShortPrev) != 0 ? 0x11u : 0u;
  const unsigned here_short = (f & kShortHere) != 0 ? 0x22u : 0u;
  const unsigned next_short = (f & kShortNext) != 0 ? 0x44u : 0u;
  const unsigned prev_long = (f & kHeadPrev) != 0 && (f4 & kTailPrev) != 0 ? 1u : 0u;
  const unsigned here_long = (f & kHeadHere) != 0 && (f4 & kTailHere) != 0 ? 2u : 0u;
  return prev_short | here_short | next_short | prev_long | here_long;
}

void LiteralScanner::VerifyAround(const unsigned char* p, std::size_t n, std::size_t e,
                                  std::size_t* next_start, Emit emit, void* ctx) const {
  const std::uint8_t f = flags_[3 + Hash(Window(p, n, e))];
  const std::uint8_t f4 =
      (f & (kHeadHere | kHeadPrev)) != 0 ? flags_[3 + Hash(Window(p, n, e + 4))] : 0;
  const unsigned starts = Starts(f, f4);
  auto at = [&](std::size_t start, bool any_length) {
    if (start < *next_start || start >= n) return;
    *next_start = start + 1;
    Verify(p, n, start, any_length, emit, ctx);
  };
  if ((starts & 1u) != 0 && e > 0) at(e - 1, (starts & 0x10u) != 0);
  if ((starts & 2u) != 0) at(e, (starts & 0x20u) != 0);
  if ((starts & 4u) != 0) at(e + 1, true);
}

void LiteralScanner::ScanScalar(const unsigned char* p, std::size_t n, Emit emit, void* ctx) const {
  std::size_t next_start = 0;
  for (std::size_t e = 0; e < n; e += 2) VerifyAround(p, n, e, &next_start, emit, ctx);
  if (tiny_.empty()) return;
  for (std::size_t i = 0; i < n; ++i) VerifyTiny(p, n, i, emit, ctx);
}

namespace {

// The 4-byte windows picked by `windows` (per 128-bit half, byte indexes into that half of
// `bytes`), case-loosened, hashed and looked up in the flags table.
__attribute__((target("avx2"))) inline __m256i GatherFlags(__m256i bytes, __m256i windows,
                                                           const int* flags, __m128i shift) {
  const __m256i v = _mm256_or_si256(_mm256_shuffle_epi8(bytes, windows), _mm256_set1_epi32(kLoose));
  const __m256i h = _mm256_srl_epi32(
      _mm256_mullo_epi32(v, _mm256_set1_epi32(static_cast<int>(kBitmapMul))), shift);
  return _mm256_i32gather_epi32(flags, h, 1);
}

// Two 16-byte loads, at p + a (low half) and p + b (high half).
__attribute__((target("avx2"))) inline __m256i Load2x16(const unsigned char* p, std::size_t a,
                                                        std::size_t b) {
  return _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + a))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + b)), 1);
}

// Lane j's window in each half: bytes 2j .. 2j + 3 (j = 0..3).
__attribute__((target("avx2"))) inline __m256i EvenWindows() {
  return _mm256_setr_epi8(0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9,  //
                          0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9);
}

// The flags of the windows at even positions s, s + 2, ..., s + 14 (lane j: window at s + 2j, the
// flags in bits 24-31). Reads s[0, 24).
__attribute__((target("avx2"))) inline __m256i Flags8(const unsigned char* s, const int* flags,
                                                      __m128i shift) {
  return GatherFlags(Load2x16(s, 0, 8), EvenWindows(), flags, shift);
}

// Flags8 for the windows at o, o + 2, ..., o + 14 of p[0, n) near its end (REQUIRES: n >= 16):
// each half loaded from at most n - 16, the bytes past n read as zeros.
__attribute__((target("avx2"))) inline __m256i Flags8Tail(const unsigned char* p, std::size_t n,
                                                          std::size_t o, const int* flags,
                                                          __m128i shift) {
  const std::size_t base0 = std::min(o, n - 16), base1 = std::min(o + 8, n - 16);
  __m256i windows = _mm256_add_epi8(
      EvenWindows(), _mm256_setr_m128i(_mm_set1_epi8(static_cast<char>(o - base0)),
                                       _mm_set1_epi8(static_cast<char>(o + 8 - base1))));
  // Indexes past the half's 16 bytes get the high bit: pshufb makes those bytes zero.
  windows = _mm256_or_si256(windows, _mm256_cmpgt_epi8(windows, _mm256_set1_epi8(15)));
  return GatherFlags(Load2x16(p, base0, base1), windows, flags, shift);
}

// Flags8 or Flags8Tail, for the group at o of t[0, n) (REQUIRES: n >= 16).
__attribute__((target("avx2"))) inline __m256i GroupFlags(const unsigned char* t, std::size_t n,
                                                          std::size_t o, const int* flags,
                                                          __m128i shift) {
  return o + 24 <= n ? Flags8(t + o, flags, shift) : Flags8Tail(t, n, o, flags, shift);
}

// Lane j: the flags of the window 4 bytes after cur's lane j (next: the following 8 windows),
// shifted so that kTailHere and kTailPrev line up with kHeadHere and kHeadPrev.
__attribute__((target("avx2"))) inline __m256i Pairs(__m256i cur, __m256i next) {
  const __m256i later = _mm256_alignr_epi8(_mm256_permute2x128_si256(cur, next, 0x21), cur, 8);
  return _mm256_and_si256(cur, _mm256_slli_epi32(later, 2));  // bits 30, 29: head and tail
}

// Bit j: keys may start around s + 2j (Starts() non-zero).
__attribute__((target("avx2"))) inline std::uint32_t Candidates8(__m256i cur, __m256i pairs) {
  const __m256i any = _mm256_or_si256(
      cur, _mm256_or_si256(_mm256_slli_epi32(pairs, 1), _mm256_slli_epi32(pairs, 2)));
  return static_cast<std::uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(any)));  // bit 31
}

__attribute__((target("avx2"))) inline std::uint32_t Bit31(__m256i v, int left) {
  return static_cast<std::uint32_t>(
      _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_sll_epi32(v, _mm_cvtsi32_si128(left)))));
}

// The starts that lanes `valid` of a group at o point to, as bits b <-> position o - 1 + b
// (Starts() spread over positions): *all, and *shorts (found by a short flag).
__attribute__((target("avx2,bmi2"))) inline void StartMasks(__m256i cur, __m256i pairs,
                                                            std::uint32_t valid, std::uint32_t* all,
                                                            std::uint32_t* shorts) {
  constexpr std::uint32_t kPrev = 0x5555, kHere = 0xaaaa, kNext = 0x15554;
  const std::uint32_t s = _pdep_u32(Bit31(cur, 6) & valid, kPrev) |  // kShortPrev
                          _pdep_u32(Bit31(cur, 5) & valid, kHere) |  // kShortHere
                          _pdep_u32(Bit31(cur, 7) & valid, kNext);   // kShortNext
  *shorts = s;
  *all = s | _pdep_u32(Bit31(pairs, 2) & valid, kPrev) | _pdep_u32(Bit31(pairs, 1) & valid, kHere);
}

// Bit j: s + j may start a tiny key (loose compare). Reads s[0, 33).
template <typename TinyT>
__attribute__((target("avx2"))) inline std::uint32_t Tiny32(const unsigned char* s,
                                                            const std::vector<TinyT>& tiny) {
  const __m256i loose = _mm256_set1_epi8(0x20);
  const __m256i v0 =
      _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s)), loose);
  const __m256i v1 =
      _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + 1)), loose);
  __m256i any = _mm256_setzero_si256();
  for (const TinyT& t : tiny) {
    __m256i e = _mm256_cmpeq_epi8(v0, _mm256_set1_epi8(static_cast<char>(t.b0 | 0x20)));
    if (t.len == 2) {
      e = _mm256_and_si256(e,
                           _mm256_cmpeq_epi8(v1, _mm256_set1_epi8(static_cast<char>(t.b1 | 0x20))));
    }
    any = _mm256_or_si256(any, e);
  }
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(any));
}

}  // namespace

__attribute__((target("avx2,bmi2"))) void LiteralScanner::ScanAvx2(const unsigned char* p,
                                                                   std::size_t n, Emit emit,
                                                                   void* ctx) const {
  if (n == 0) return;
  const int* flags = reinterpret_cast<const int*>(flags_.data());
  const __m128i shift = _mm_cvtsi32_si128(static_cast<int>(hash_shift_));
  // Windows are loaded from t: the text, or a zero-padded copy of a text under 16 bytes.
  alignas(16) unsigned char small[16];
  const unsigned char* t = p;
  std::size_t tn = n;
  if (n < 16) {
    std::memset(small, 0, sizeof(small));
    std::memcpy(small, p, n);
    t = small;
    tn = 16;
  }
  std::size_t next_start = 0;  // starts below it were verified
  // The starts of a group at o (StartMasks).
  auto verify = [&](std::uint32_t all, std::uint32_t shorts, std::size_t o) {
    while (all != 0) {
      const unsigned b = static_cast<unsigned>(__builtin_ctz(all));
      all &= all - 1;
      const std::size_t start = o + b - 1;  // b == 0 && o == 0: SIZE_MAX, skipped
      if (start >= n || start < next_start) continue;
      next_start = start + 1;
      Verify(p, n, start, ((shorts >> b) & 1u) != 0, emit, ctx);
    }
  };
  std::uint32_t all, shorts;
  // 16 bytes (8 windows) a group; a group's candidates need the next group's flags.
  std::size_t o = 0;
  __m256i cur = GroupFlags(t, tn, 0, flags, shift);
  for (; o + 88 <= n; o += 64) {
    const __m256i f1 = Flags8(p + o + 16, flags, shift);
    const __m256i f2 = Flags8(p + o + 32, flags, shift);
    const __m256i f3 = Flags8(p + o + 48, flags, shift);
    const __m256i f4 = Flags8(p + o + 64, flags, shift);
    const __m256i p0 = Pairs(cur, f1), p1 = Pairs(f1, f2), p2 = Pairs(f2, f3), p3 = Pairs(f3, f4);
    const std::uint32_t m = Candidates8(cur, p0) | Candidates8(f1, p1) << 8 |
                            Candidates8(f2, p2) << 16 | Candidates8(f3, p3) << 24;
    if (m != 0) {
      if ((m & 0xffu) != 0) {
        StartMasks(cur, p0, 0xff, &all, &shorts);
        verify(all, shorts, o);
      }
      if ((m & 0xff00u) != 0) {
        StartMasks(f1, p1, 0xff, &all, &shorts);
        verify(all, shorts, o + 16);
      }
      if ((m & 0xff0000u) != 0) {
        StartMasks(f2, p2, 0xff, &all, &shorts);
        verify(all, shorts, o + 32);
      }
      if ((m & 0xff000000u) != 0) {
        StartMasks(f3, p3, 0xff, &all, &shorts);
        verify(all, shorts, o + 48);
      }
    }
    cur = f4;
  }
  for (; o < n; o += 16) {
    // The next group (the tails of this one's keys of 8+ bytes, none of which fits when this is
    // the last group).
    const __m256i next =
        o + 16 < n ? GroupFlags(t, tn, o + 16, flags, shift) : _mm256_setzero_si256();
    const __m256i pairs = Pairs(cur, next);
    std::uint32_t m = Candidates8(cur, pairs);
    const std::uint32_t valid = n - o >= 16 ? 0xffu : (std::uint32_t{1} << ((n - o + 1) / 2)) - 1;
    if ((m & valid) != 0) {
      StartMasks(cur, pairs, valid, &all, &shorts);
      verify(all, shorts, o);
    }
    cur = next;
  }
  if (tiny_.empty()) return;
  alignas(32) unsigned char pad[64];
  for (o = 0; o < n; o += 32) {  // keys of 1-2 bytes
    const unsigned char* s = p + o;
    std::uint32_t valid = ~std::uint32_t{0};
    if (o + 33 > n) {
      std::memset(pad, 0, sizeof(pad));
      std::memcpy(pad, p + o, n - o);
      s = pad;
      if (n - o < 32) valid = (std::uint32_t{1} << (n - o)) - 1;
    }
    std::uint32_t m = Tiny32(s, tiny_) & valid;
    while (m != 0) {
      const std::size_t i = o + static_cast<std::size_t>(__builtin_ctz(m));
      m &= m - 1;
      VerifyTiny(p, n, i, emit, ctx);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The automaton.

int LiteralScanner::Add(std::string_view key) {
  std::string folded(key);
  for (auto& c : folded) c = static_cast<char>(Fold(static_cast<unsigned char>(c)));
  keys_.push_back(std::move(folded));
  return n_keys_++;
}

std::size_t LiteralScanner::memory_bytes() const {
  return (table_.size() + out_state_.size() + out_begin_.size()) * sizeof(std::uint32_t) +
         dict_.size() * sizeof(std::int32_t) + outs_.size() * sizeof(int) + flags_.size() +
         (map4_.size() + map3_.size()) * sizeof(Slot) + refs_.size() * sizeof(KeyRef) +
         key_bytes_.size() + tiny_.size() * sizeof(Tiny);
}

void LiteralScanner::Build(std::size_t dense_max_bytes, Method method) {
  prefilter_ = false;
  avx2_ = false;
  if (n_keys_ > 0 && method != Method::kAutomaton && (method != Method::kAuto || HaveAvx2()) &&
      BuildPrefilter(method != Method::kPrefilterScalar && HaveAvx2(), method == Method::kAuto)) {
    keys_.clear();
    keys_.shrink_to_fit();
    return;
  }
  // Byte classes: every distinct folded byte of the keys gets one; the rest share class 0.
  classes_.fill(0);
  n_classes_ = 1;
  for (const auto& k : keys_) {
    for (unsigned char c : k) {
      if (classes_[c] == 0) classes_[c] = static_cast<std::uint8_t>(n_classes_++);
    }
  }
  for (int c = 'A'; c <= 'Z'; ++c) classes_[c] = classes_[c + 32];
  const std::uint32_t nc = n_classes_;

  // The trie (kNone = no edge yet) and each state's own outputs.
  std::vector<std::uint32_t> next(nc, kNone);
  std::vector<std::vector<int>> own(1);
  for (int id = 0; id < n_keys_; ++id) {
    std::uint32_t s = 0;
    for (unsigned char c : keys_[id]) {
      std::uint32_t& t = next[s * nc + classes_[c]];
      if (t == kNone) {
        t = static_cast<std::uint32_t>(own.size());
        own.emplace_back();
        next.resize(next.size() + nc, kNone);
      }
      s = next[s * nc + classes_[c]];
    }
    own[s].push_back(id);
  }
  const std::size_t n_states = own.size();

  // Breadth first: failure links, then the missing edges from the failure state's.
  std::vector<std::uint32_t> fail(n_states, 0);
  dict_.assign(n_states, -1);
  std::deque<std::uint32_t> queue;
  for (std::uint32_t c = 0; c < nc; ++c) {
    std::uint32_t& t = next[c];
    if (t == kNone) {
      t = 0;
    } else {
      queue.push_back(t);
    }
  }
  while (!queue.empty()) {
    std::uint32_t s = queue.front();
    queue.pop_front();
    std::uint32_t f = fail[s];
    dict_[s] = !own[f].empty() ? static_cast<std::int32_t>(f) : dict_[f];
    if (s == 0) dict_[s] = -1;
    for (std::uint32_t c = 0; c < nc; ++c) {
      std::uint32_t& t = next[s * nc + c];
      if (t == kNone) {
        t = next[f * nc + c];
      } else {
        fail[t] = next[f * nc + c];
        queue.push_back(t);
      }
    }
  }
  out_begin_.assign(n_states + 1, 0);
  outs_.clear();
  for (std::size_t s = 0; s < n_states; ++s) {
    out_begin_[s] = static_cast<std::uint32_t>(outs_.size());
    outs_.insert(outs_.end(), own[s].begin(), own[s].end());
  }
  out_begin_[n_states] = static_cast<std::uint32_t>(outs_.size());
  std::vector<char> has_out(n_states);
  for (std::size_t s = 0; s < n_states; ++s) has_out[s] = !own[s].empty() || dict_[s] >= 0;
  has_out[0] = 0;  // the root: no key is empty (Add's contract; an empty key never reports)
  BuildTable(next, has_out, dense_max_bytes);
  keys_.clear();
  keys_.shrink_to_fit();
}

void LiteralScanner::BuildTable(const std::vector<std::uint32_t>& next,
                                const std::vector<char>& has_out, std::size_t dense_max_bytes) {
  const std::size_t n_states = has_out.size();
  const std::uint32_t nc = n_classes_;
  const bool dense = (n_states * 256 + 1) * sizeof(std::uint32_t) <= dense_max_bytes;
  stride_ = dense ? 256 : nc + (nc & 1);  // even: rows keep the parity of their offsets
  // Rows without outputs at even offsets from 0, one entry of padding, rows with outputs at odd
  // offsets.
  std::vector<std::uint32_t> offset(n_states);
  std::uint32_t plain = 0;
  for (std::size_t st = 0; st < n_states; ++st) {
    if (!has_out[st]) {
      offset[st] = plain;
      plain += stride_;
    }
  }
  out_base_ = plain + 1;
  std::uint32_t out = out_base_;
  out_state_.clear();
  for (std::size_t st = 0; st < n_states; ++st) {
    if (has_out[st]) {
      offset[st] = out;
      out += stride_;
      out_state_.push_back(static_cast<std::uint32_t>(st));
    }
  }
  table_.assign(static_cast<std::size_t>(out), 0);
  for (std::size_t st = 0; st < n_states; ++st) {
    std::uint32_t* row = table_.data() + offset[st];
    if (dense) {
      for (int b = 0; b < 256; ++b) row[b] = offset[next[st * nc + classes_[b]]];
    } else {
      for (std::uint32_t c = 0; c < nc; ++c) row[c] = offset[next[st * nc + c]];
    }
  }
  int starts = 0;
  for (int b = 0; b < 256; ++b) {
    root_stay_[b] = table_[dense ? static_cast<std::uint32_t>(b) : classes_[b]] == 0 ? 1 : 0;
    starts += 1 - root_stay_[b];
  }
  root_skip_ = starts <= kMaxSkipStarts;
}

}  // namespace mamori::rules::internal
