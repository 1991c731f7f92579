// The hash chain that binds every stored record (storage/FORMAT.md, "Hash chain"): the record
// digest over the raw bytes and the receive metadata, and the chain step that links it to the
// previous record. Public so that verifiers (verify, verify-bundle, tests) recompute exactly
// what the writer computed.
//
//   digest_i = SHA-256("MRD1" || received_ns || transport || flags || original_size ||
//                      info_class || listener || peer || salt || raw bytes)
//   h_i      = SHA-256("MCH1" || h_{i-1} || seq_i || digest_i),  h_0 = 32 zero bytes
//
// Thread-safety: Sha256 and ChainHasher are single-thread objects (one per thread); the free
// functions are safe on any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mamori/core/record.h"

namespace mamori::storage {

using Hash = std::array<std::uint8_t, 32>;
inline constexpr Hash kZeroHash{};
// Bytes of random salt bound into each record digest (FORMAT.md explains why).
inline constexpr std::size_t kSaltBytes = 16;

// Incremental SHA-256 (OpenSSL's SHA-NI/AVX2 block functions), no allocation per hash. It uses
// OpenSSL's low-level SHA256_* calls, not EVP: EVP costs ~30 ns more per hash (provider
// dispatch, context cleanup), about 2 % of the writer thread at two hashes per record.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Reset();
  void Update(std::string_view data);
  Hash Final();  // also resets

  static Hash Of(std::string_view data);

 private:
  // An OpenSSL SHA256_CTX (112 bytes), kept opaque so that this header needs no OpenSSL.
  alignas(8) unsigned char ctx_[128];
};

// Computes record digests and chain steps, reusing its buffers. One per thread.
class ChainHasher {
 public:
  // The digest of a record's evidence: raw bytes, receive metadata, class and salt.
  Hash RecordDigest(const RawRecord& raw, InfoClass info_class, std::string_view salt);
  // h_i from h_{i-1}, the sequence number and digest_i.
  Hash Link(const Hash& prev, std::uint64_t seq, const Hash& digest);

 private:
  Sha256 sha_;
  std::string buf_;
};

// Lowercase hex of bytes.
std::string ToHex(std::string_view bytes);
inline std::string ToHex(const Hash& h) {
  return ToHex(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}
// Decodes lowercase hex (exactly 2 digits per byte); nullopt on anything else.
std::optional<std::string> FromHex(std::string_view hex);
// A 64-digit lowercase hex hash; nullopt otherwise.
std::optional<Hash> HashFromHex(std::string_view hex);
inline std::string_view AsBytes(const Hash& h) {
  return std::string_view(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace mamori::storage
