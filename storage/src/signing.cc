#include "mamori/storage/signing.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mamori/storage/chain.h"

namespace mamori::storage {
namespace {

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* k) { return {k, EVP_PKEY_free}; }

std::string KeyId(EVP_PKEY* pkey) {
  unsigned char raw[32];
  std::size_t len = sizeof(raw);
  if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1) return "";
  const Hash h = Sha256::Of(std::string_view(reinterpret_cast<const char*>(raw), len));
  return ToHex(std::string_view(reinterpret_cast<const char*>(h.data()), 8));
}

std::string PublicPem(EVP_PKEY* pkey) {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string out;
  if (bio != nullptr && PEM_write_bio_PUBKEY(bio, pkey) == 1) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<std::size_t>(n));
  }
  BIO_free(bio);
  return out;
}

}  // namespace

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return Status::Internal("BIO_new_mem_buf failed");
  EVP_PKEY* k = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (k == nullptr) return Status::InvalidArgument("public key: not a PEM public key");
  if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(k);
    return Status::InvalidArgument("public key: not an Ed25519 key");
  }
  PublicKey p;
  p.key_ = Own(k);
  p.pem_ = PublicPem(k);
  p.key_id_ = KeyId(k);
  return p;
}

bool PublicKey::Verify(std::string_view message, std::string_view signature) const {
  if (!key_ || signature.size() != 64) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key_.get()) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

Result<std::unique_ptr<SigningKey>> SigningKey::FromPrivate(EVP_PKEY* pkey) {
  if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(pkey);
    return Status::InvalidArgument("not an Ed25519 private key");
  }
  std::unique_ptr<SigningKey> k(new SigningKey());
  k->key_ = Own(pkey);
  auto pub = PublicKey::FromPem(PublicPem(pkey));
  if (!pub.ok()) return pub.status();
  k->public_ = std::move(pub).value();
  return k;
}

Result<std::unique_ptr<SigningKey>> SigningKey::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("signing key " + path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string pem = ss.str();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (k == nullptr)
    return Status::InvalidArgument("signing key " + path + ": not a PEM private key");
  auto r = FromPrivate(k);
  if (!r.ok()) return Status::InvalidArgument("signing key " + path + ": " + r.status().message());
  return r;
}

Result<std::unique_ptr<SigningKey>> SigningKey::LoadOrCreate(const std::string& path,
                                                             std::string* warning) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0 && warning != nullptr) {
      *warning = "signing key " + path + " is readable by group or others (chmod 600 it)";
    }
    return Load(path);
  }
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);

  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  const bool gen = pctx && EVP_PKEY_keygen_init(pctx) == 1 && EVP_PKEY_keygen(pctx, &pkey) == 1;
  EVP_PKEY_CTX_free(pctx);
  if (!gen) return Status::Internal("Ed25519 key generation failed");

  BIO* bio = BIO_new(BIO_s_mem());
  std::string pem;
  if (bio && PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    pem.assign(data, static_cast<std::size_t>(n));
  }
  BIO_free(bio);
  if (pem.empty()) {
    EVP_PKEY_free(pkey);
    return Status::Internal("cannot serialize the signing key");
  }
  // O_EXCL: never overwrite a key another process created meanwhile.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    EVP_PKEY_free(pkey);
    return Status::IOError("signing key " + path + ": cannot create: " + std::strerror(errno));
  }
  const bool written =
      ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    EVP_PKEY_free(pkey);
    return Status::IOError("signing key " + path + ": cannot write");
  }
  return FromPrivate(pkey);
}

std::string SigningKey::Sign(std::string_view message) const {
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_.get()) == 1 &&
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) std::abort();  // signing with a loaded Ed25519 key cannot fail
  sig.resize(len);
  return sig;
}

}  // namespace mamori::storage
