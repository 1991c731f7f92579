// Key encodings of the column families (storage/FORMAT.md). Internal to storage/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mamori::storage::internal {

inline constexpr char kRecordsCf[] = "records";
inline constexpr char kTimeIdxCf[] = "time_idx";
inline constexpr char kHostIdxCf[] = "host_idx";
inline constexpr char kMetaCf[] = "meta";
inline constexpr char kMetaNextSeq[] = "next_seq";
inline constexpr char kMetaFormat[] = "format";
inline constexpr char kDisposedCf[] = "disposed";
inline constexpr char kEvidenceCf[] = "evidence";
inline constexpr char kMetaChainHead[] = "chain_head";
inline constexpr char kMetaPublicKey[] = "public_key";

inline void PutBigEndian64(std::string* out, std::uint64_t v) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(b, 8);
}

inline std::uint64_t GetBigEndian64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Signed time -> unsigned with the same order (flip the sign bit).
inline std::uint64_t BiasTime(std::int64_t t) {
  return static_cast<std::uint64_t>(t) ^ (std::uint64_t{1} << 63);
}
inline std::int64_t UnbiasTime(std::uint64_t u) {
  return static_cast<std::int64_t>(u ^ (std::uint64_t{1} << 63));
}

// records: seq as 8-byte big-endian.
inline std::string RecordKey(std::uint64_t seq) {
  std::string k;
  PutBigEndian64(&k, seq);
  return k;
}

// host_idx prefix: 4-byte big-endian length of the host, then the host bytes.
inline void PutHostPrefix(std::string* out, std::string_view host) {
  const auto n = static_cast<std::uint32_t>(host.size());
  const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  out->append(len, 4);
  out->append(host);
}

// The 16-byte suffix shared by both indexes: biased event time, then seq, big-endian.
inline void PutTimeSeq(std::string* out, std::int64_t time_ns, std::uint64_t seq) {
  PutBigEndian64(out, BiasTime(time_ns));
  PutBigEndian64(out, seq);
}

// Index entry values (FORMAT.md, "Index entries"): an entry stands for the position in its key
// and, when its value is not empty, for more positions with the same event time (and host):
// their seqs, each as a varint delta (>= 1) to the previous one. Appends `seqs[1..n)` to *out.
inline void PutSeqDeltas(std::string* out, const std::uint64_t* seqs, std::size_t n) {
  for (std::size_t i = 1; i < n; ++i) {
    std::uint64_t v = seqs[i] - seqs[i - 1];
    while (v >= 0x80) {
      out->push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out->push_back(static_cast<char>(v));
  }
}

// The seqs of an index entry, ascending: `first` (from its key), then those of `value`.
// False if the value is malformed (a truncated varint, a delta of 0, an overflow).
inline bool DecodeSeqs(std::uint64_t first, std::string_view value,
                       std::vector<std::uint64_t>* seqs) {
  seqs->clear();
  seqs->push_back(first);
  std::size_t i = 0;
  while (i < value.size()) {
    std::uint64_t d = 0;
    bool done = false;
    for (int shift = 0; shift <= 63 && i < value.size(); shift += 7) {
      const auto b = static_cast<unsigned char>(value[i++]);
      if (shift == 63 && b > 1) return false;
      d |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        done = true;
        break;
      }
    }
    if (!done || d == 0 || seqs->back() > UINT64_MAX - d) return false;
    seqs->push_back(seqs->back() + d);
  }
  return true;
}

// A position in index order: (event time, seq).
struct IndexPos {
  std::int64_t time_ns = 0;
  std::uint64_t seq = 0;
};

}  // namespace mamori::storage::internal
