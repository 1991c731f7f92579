// Internal: a small open-addressing hash index from strings to dense ids (0, 1, ...), for the
// per-event lookups of the engine (event field keys, log source values). The hash reads at most
// 24 bytes of the key (its length, head, middle and tail), so a lookup costs about the same for a
// 60-byte "Event.EventData.CommandLine" as for "sshd"; a miss usually ends at an empty bucket or
// a different 32-bit tag without comparing bytes. With `Fold`, ASCII letters compare and hash
// case-insensitively.
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
    if (keys_.size() * 2 > buckets_.size()) {
      Rehash(buckets_.empty() ? 16 : buckets_.size() * 2);
    } else {
      Place(id, Hash(key));
    }
    return id;
  }

  // The id of the key, or -1.
  int Find(std::string_view key) const {
    if (keys_.empty()) return -1;
    const std::uint64_t h = Hash(key);
    const std::uint32_t tag = static_cast<std::uint32_t>(h >> 32);
    const std::size_t mask = buckets_.size() - 1;
    for (std::size_t b = h & mask;; b = (b + 1) & mask) {
      const Bucket& e = buckets_[b];
      if (e.id < 0) return -1;
      if (e.tag == tag && Equal(keys_[e.id], key)) return e.id;
    }
  }

  std::size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  const std::string& key(int id) const { return keys_[id]; }

 private:
  struct Bucket {
    std::int32_t id = -1;
    std::uint32_t tag = 0;
  };

  static std::uint64_t Load(const char* p, std::size_t n) {  // n <= 8
    std::uint64_t v = 0;
    std::memcpy(&v, p, n);
    if constexpr (Fold) {
      // Sets bit 5 of every byte that is an ASCII upper-case letter.
      for (std::size_t i = 0; i < n; ++i) {
        unsigned char c = p[i];
        if (c >= 'A' && c <= 'Z') v |= std::uint64_t{0x20} << (8 * i);
      }
    }
    return v;
  }

  static std::uint64_t Mix(std::uint64_t h, std::uint64_t v) {
    h ^= v;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
  }

  static std::uint64_t Hash(std::string_view k) {
    const std::size_t n = k.size();
    std::uint64_t h = Mix(0x243f6a8885a308d3ull, n);
    if (n <= 8) return Mix(h, Load(k.data(), n));
    h = Mix(h, Load(k.data(), 8));
    h = Mix(h, Load(k.data() + n / 2 - 4, 8));
    return Mix(h, Load(k.data() + n - 8, 8));
  }

  static bool Equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if constexpr (!Fold) {
      return std::memcmp(a.data(), b.data(), a.size()) == 0;
    } else {
      for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
      }
      return true;
    }
  }

  void Place(int id, std::uint64_t h) {
    const std::size_t mask = buckets_.size() - 1;
    std::size_t b = h & mask;
    while (buckets_[b].id >= 0) b = (b + 1) & mask;
    buckets_[b] = Bucket{id, static_cast<std::uint32_t>(h >> 32)};
  }

  void Rehash(std::size_t n) {
    buckets_.assign(n, Bucket{});
    for (std::size_t i = 0; i < keys_.size(); ++i) Place(static_cast<int>(i), Hash(keys_[i]));
  }

  std::vector<std::string> keys_;
  std::vector<Bucket> buckets_;
};

}  // namespace mamori::rules::internal
