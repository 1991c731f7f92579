// `mamori key export`: prints the public key of the store's signing key (PEM), so that it can
// be published and pinned by verifiers (`mamori verify --public-key`, `verify-bundle`).
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "flags.h"
#include "mamori/storage/evidence_store.h"
#include "mamori/storage/signing.h"

namespace mamori::app {
namespace {

constexpr const char* kKeyUsage = R"(usage: mamori key export --data-dir DIR [--key-file FILE]

Prints the Ed25519 public key that signs this store's checkpoints (PEM on stdout, the key id
on stderr). It reads the private key file (default DIR/signing.key, evidence.key_file) or,
when that is not readable, the public key registered in the store.
)";

}  // namespace

int KeyCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"data-dir", "key-file"}, {"help"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "mamori key: %s\n\n%s", flags.status().message().c_str(), kKeyUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fputs(kKeyUsage, stdout);
    return kExitOk;
  }
  auto dir = flags->Get("data-dir");
  if (flags->positional().size() != 1 || flags->positional()[0] != "export" || !dir) {
    std::fprintf(stderr, "mamori key: expected `key export --data-dir DIR`\n\n%s", kKeyUsage);
    return kExitUsage;
  }
  const std::string key_file =
      flags->Get("key-file").value_or((std::filesystem::path(*dir) / "signing.key").string());
  std::string pem, id;
  if (auto key = storage::SigningKey::Load(key_file); key.ok()) {
    pem = (*key)->public_key().pem();
    id = (*key)->key_id();
  } else {
    storage::StoreOptions so;
    so.dir = *dir;
    so.read_only = true;
    auto store = storage::EvidenceStore::Open(so);
    if (!store.ok()) {
      std::fprintf(stderr, "mamori key: %s; %s\n", key.status().message().c_str(),
                   store.status().ToString().c_str());
      return kExitFailure;
    }
    storage::EvidenceView view;
    Status s = (*store)->ReadEvidence(UINT64_MAX, 0, &view,
                                      [](const storage::ChainItem&) { return false; });
    auto pub = storage::PublicKey::FromPem(view.public_key_pem);
    if (!s.ok() || !pub.ok()) {
      std::fprintf(stderr,
                   "mamori key: no signing key (it is created on the daemon's first "
                   "start): %s\n",
                   key.status().message().c_str());
      return kExitFailure;
    }
    pem = pub->pem();
    id = pub->key_id();
  }
  std::fputs(pem.c_str(), stdout);
  std::fprintf(stderr, "key id %s\n", id.c_str());
  return kExitOk;
}

}  // namespace mamori::app
