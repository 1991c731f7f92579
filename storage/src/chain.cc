#include "mamori/storage/chain.h"

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, which is slower for
// short inputs (chain.h); they remain part of OpenSSL 3's API.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstdlib>
#include <cstring>

namespace mamori::storage {
namespace {

SHA256_CTX* Ctx(unsigned char* storage) { return reinterpret_cast<SHA256_CTX*>(storage); }
static_assert(sizeof(SHA256_CTX) <= 128 && alignof(SHA256_CTX) <= 8);

void PutBe(std::string* out, std::uint64_t v, int bytes) {
  char b[8];
  for (int i = bytes - 1; i >= 0; --i) {
    b[i] = static_cast<char>(v);
    v >>= 8;
  }
  out->append(b, bytes);
}

void PutLenPrefixed(std::string* out, std::string_view s, int len_bytes) {
  PutBe(out, s.size(), len_bytes);
  out->append(s);
}

}  // namespace

Sha256::Sha256() { Reset(); }
Sha256::~Sha256() = default;
void Sha256::Reset() { SHA256_Init(Ctx(ctx_)); }
void Sha256::Update(std::string_view data) { SHA256_Update(Ctx(ctx_), data.data(), data.size()); }
Hash Sha256::Final() {
  Hash h;
  SHA256_Final(h.data(), Ctx(ctx_));
  Reset();
  return h;
}
Hash Sha256::Of(std::string_view data) {
  Sha256 s;
  s.Update(data);
  return s.Final();
}

Hash ChainHasher::RecordDigest(const RawRecord& raw, InfoClass info_class, std::string_view salt) {
  buf_.clear();
  buf_.append("MRD1");
  PutBe(&buf_, static_cast<std::uint64_t>(raw.received_ns), 8);
  buf_.push_back(static_cast<char>(raw.transport));
  PutBe(&buf_, raw.flags, 4);
  PutBe(&buf_, raw.original_size, 8);
  buf_.push_back(static_cast<char>(info_class));
  PutLenPrefixed(&buf_, raw.listener, 4);
  PutLenPrefixed(&buf_, raw.peer, 4);
  PutLenPrefixed(&buf_, salt, 4);
  PutBe(&buf_, raw.bytes.size(), 8);
  sha_.Update(buf_);
  sha_.Update(raw.bytes);  // not copied: records may be large
  return sha_.Final();
}

Hash ChainHasher::Link(const Hash& prev, std::uint64_t seq, const Hash& digest) {
  char buf[4 + 32 + 8 + 32];
  std::memcpy(buf, "MCH1", 4);
  std::memcpy(buf + 4, prev.data(), 32);
  for (int i = 0; i < 8; ++i) buf[36 + i] = static_cast<char>(seq >> (8 * (7 - i)));
  std::memcpy(buf + 44, digest.data(), 32);
  sha_.Update(std::string_view(buf, sizeof(buf)));
  return sha_.Final();
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

std::optional<Hash> HashFromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto bytes = FromHex(hex);
  if (!bytes) return std::nullopt;
  Hash h;
  std::memcpy(h.data(), bytes->data(), 32);
  return h;
}

}  // namespace mamori::storage
