// Key encodings of the column families (storage/FORMAT.md). Internal to storage/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

// A position in index order: (event time, seq).
struct IndexPos {
  std::int64_t time_ns = 0;
  std::uint64_t seq = 0;
};

}  // namespace mamori::storage::internal
