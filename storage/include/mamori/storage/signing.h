// Ed25519 keys for signed checkpoints and disposal records (OpenSSL EVP_PKEY_ED25519).
//
// SigningKey holds the private key of a store; it is created on first start at
// evidence.key_file (PEM, PKCS#8, mode 0600). PublicKey is what verifiers use. A key id is
// the first 8 bytes, in hex, of SHA-256 over the 32-byte raw public key.
//
// Thread-safety: both are immutable after creation; Sign and Verify may be called from any
// thread concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mamori/core/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace mamori::storage {

class PublicKey {
 public:
  // Parses a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) that must hold an Ed25519 key.
  static Result<PublicKey> FromPem(std::string_view pem);

  // Whether `signature` (64 bytes) is a valid Ed25519 signature of `message`.
  bool Verify(std::string_view message, std::string_view signature) const;
  const std::string& pem() const { return pem_; }
  const std::string& key_id() const { return key_id_; }

 private:
  std::shared_ptr<EVP_PKEY> key_;
  std::string pem_;
  std::string key_id_;
  friend class SigningKey;
};

class SigningKey {
 public:
  // Loads the key at `path`, or creates one there (mode 0600, parent directories created)
  // when the file does not exist. An existing file that group or others can read is loaded
  // with a warning in *warning (non-null). Errors name the path.
  static Result<std::unique_ptr<SigningKey>> LoadOrCreate(const std::string& path,
                                                          std::string* warning);
  // Loads an existing key; NotFound when there is none.
  static Result<std::unique_ptr<SigningKey>> Load(const std::string& path);

  // The 64-byte Ed25519 signature of `message`.
  std::string Sign(std::string_view message) const;
  const PublicKey& public_key() const { return public_; }
  const std::string& key_id() const { return public_.key_id(); }

 private:
  SigningKey() = default;
  static Result<std::unique_ptr<SigningKey>> FromPrivate(EVP_PKEY* pkey);
  std::shared_ptr<EVP_PKEY> key_;
  PublicKey public_;
};

}  // namespace mamori::storage
