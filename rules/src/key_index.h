// Internal: a small open-addressing hash index from strings to dense ids (0, 1, ...), for the
// per-event lookups of the engine (event field keys, log source values). The hash reads at most
// 24 bytes of the key (its length, head, middle and tail), so a lookup costs about the same for a
// 60-byte "Event.EventData.CommandLine" as for "sshd"; a miss usually ends at an empty bucket or
// a different 32-bit tag without comparing bytes, and a key whose length no key has (lengths up
// to 62 are told apart, longer ones share a bit) without hashing. With `Fold`, ASCII letters
// compare and hash case-insensitively.
//
// Thread-safety: immutable after the last Insert(); Find() is const.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace mamori::rules::internal {

template <bool Fold>
class KeyIndex {
 public:
  // The id of the key (a new one, size() - 1, when it was not there).
  int Insert(std::string_view key) {
    int found = Find(key);
    if (found >= 0) return found;
    int id = static_cast<int>(keys_.size());
    keys_.emplace_back(key);
    offsets_.push_back(static_cast<std::uint32_t>(arena_.size()));
    arena_.append(key);
    lengths_ |= LengthBit(key.size());
    if (keys_.size() * 2 > buckets_.size()) {
      Rehash(buckets_.empty() ? 16 : buckets_.size() * 2);
    } else {
      Place(id, Hash(key));
    }
    return id;
  }

  // The id of the key, or -1. A key of a length no key has is rejected before hashing.
  int Find(std::string_view key) const {
    if ((lengths_ & LengthBit(key.size())) == 0) return -1;
    const std::uint64_t h = Hash(key);
    const std::uint32_t tag = static_cast<std::uint32_t>(h >> 32);
    const std::size_t mask = buckets_.size() - 1;
    for (std::size_t b = h & mask;; b = (b + 1) & mask) {
      const Bucket& e = buckets_[b];
      if (e.id < 0) return -1;
      // The key's bytes are read from the bucket's own offset into one arena: no load of a
      // std::string first (a dependent load, often a cache miss with a thousand rules' keys).
      if (e.tag == tag && e.len == key.size() &&
          EqualBytes(arena_.data() + e.offset, key.data(), key.size())) {
        return e.id;
      }
    }
  }

  std::size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  const std::string& key(int id) const { return keys_[id]; }

  // The hash of a key (reads at most 24 of its bytes) and key equality (ASCII case-folded with
  // Fold), as the index uses them.
  [[gnu::always_inline]] static std::uint64_t Hash(std::string_view k) {
    const std::size_t n = k.size();
    std::uint64_t h = Mix(0x243f6a8885a308d3ull, n);
    if (n <= 8) return Mix(h, LoadShort(k.data(), n));
    h = Mix(h, Load8(k.data()));
    h = Mix(h, Load8(k.data() + n / 2 - 4));
    return Mix(h, Load8(k.data() + n - 8));
  }
  [[gnu::always_inline]] static bool Equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && EqualBytes(a.data(), b.data(), a.size());
  }

 private:
  // Equal() for n bytes at x and y. Keys are short (event field keys, log source values: a
  // Windows key like "Event.EventData.CommandLine" is 27 bytes): 8-byte words inline beat a call
  // to memcmp, which costs ~40 instructions whatever the length.
  [[gnu::always_inline]] static bool EqualBytes(const char* x, const char* y, std::size_t n) {
    if constexpr (!Fold) {
      if (n > 64) return std::memcmp(x, y, n) == 0;
    }
    if (n >= 8) {  // 8-byte windows, the last one overlapping the previous
      for (std::size_t i = 0; i + 8 < n; i += 8) {
        if (Load8(x + i) != Load8(y + i)) return false;
      }
      return Load8(x + n - 8) == Load8(y + n - 8);
    }
    if (n >= 4) return Load4(x) == Load4(y) && Load4(x + n - 4) == Load4(y + n - 4);
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t p = static_cast<unsigned char>(x[i]), q = static_cast<unsigned char>(y[i]);
      if constexpr (Fold) {
        p = FoldWord(p);
        q = FoldWord(q);
      }
      if (p != q) return false;
    }
    return true;
  }

  struct Bucket {
    std::int32_t id = -1;
    std::uint32_t tag = 0;
    std::uint32_t offset = 0;  // of the key's bytes in arena_
    std::uint32_t len = 0;
  };

  // Sets bit 5 of every byte of v that is an ASCII upper-case letter (8 bytes at once: each
  // byte's low 7 bits plus a constant sets its bit 7 when >= 'A', resp. > 'Z', without carries
  // between bytes).
  static std::uint64_t FoldWord(std::uint64_t v) {
    constexpr std::uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
    const std::uint64_t low7 = v & ~k80;
    const std::uint64_t ge_a = low7 + (0x80 - 'A') * k01;
    const std::uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * k01;
    return v | ((ge_a & ~gt_z & ~v & k80) >> 2);
  }

  static std::uint64_t Load8(const char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    if constexpr (Fold) v = FoldWord(v);
    return v;
  }
  static std::uint64_t Load4(const char* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    if constexpr (Fold) return FoldWord(v);
    return v;
  }
  // The bytes of a key of at most 8 bytes, for hashing (not injective for 5..7 bytes: the
  // two 4-byte windows overlap; the length is hashed separately).
  static std::uint64_t LoadShort(const char* p, std::size_t n) {
    if (n >= 4) return Load4(p) | Load4(p + n - 4) << 32;
    if (n == 0) return 0;
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    std::uint64_t v = u[0] | std::uint64_t{u[n / 2]} << 8 | std::uint64_t{u[n - 1]} << 16;
    if constexpr (Fold) v = FoldWord(v);
    return v;
  }

  static std::uint64_t Mix(std::uint64_t h, std::uint64_t v) {
    h ^= v;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
  }

  void Place(int id, std::uint64_t h) {
    const std::size_t mask = buckets_.size() - 1;
    std::size_t b = h & mask;
    while (buckets_[b].id >= 0) b = (b + 1) & mask;
    buckets_[b] = Bucket{id, static_cast<std::uint32_t>(h >> 32), offsets_[id],
                         static_cast<std::uint32_t>(keys_[id].size())};
  }

  void Rehash(std::size_t n) {
    buckets_.assign(n, Bucket{});
    for (std::size_t i = 0; i < keys_.size(); ++i) Place(static_cast<int>(i), Hash(keys_[i]));
  }

  // Bit min(length, 63) of every key's length (0 when empty).
  static std::uint64_t LengthBit(std::size_t n) { return std::uint64_t{1} << (n < 63 ? n : 63); }

  std::vector<std::string> keys_;
  std::string arena_;                   // every key's bytes, back to back
  std::vector<std::uint32_t> offsets_;  // id -> its bytes in arena_
  std::vector<Bucket> buckets_;
  std::uint64_t lengths_ = 0;
};

}  // namespace mamori::rules::internal
