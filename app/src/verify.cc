// `mamori verify` and `mamori verify-bundle`: offline integrity checks of the evidence store
// and of exported evidence bundles (docs/evidence.md).
#include "mamori/storage/verify.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "flags.h"
#include "mamori/storage/bundle.h"
#include "mamori/storage/evidence_store.h"

namespace mamori::app {
namespace {

constexpr const char* kVerifyUsage = R"(usage: mamori verify --data-dir DIR [--from SEQ] [--to SEQ]
                     [--checkpoints FILE] [--public-key FILE] [--json]

Verifies the evidence store offline (read-only; safe while the daemon runs): every record
against the hash chain, every signed checkpoint and disposal record, the tombstones of disposed
records, and the checkpoints kept outside the store.

  --from SEQ, --to SEQ  verify only this range (the chain hash before --from is trusted)
  --checkpoints FILE    the external checkpoint file (default: DIR/checkpoints.log if present;
                        point it at the copy in your safe location)
  --public-key FILE     the key to trust (from `mamori key export`; default: the store's own)
  --json                print the report as JSON

exit codes: 0 verified, 3 chain broken (a record modified, missing, inserted or reordered),
4 checkpoint or signature mismatch, 1 could not verify (I/O error), 2 usage.
)";

constexpr const char* kVerifyBundleUsage =
    R"(usage: mamori verify-bundle BUNDLE [--public-key FILE] [--json]

Verifies an evidence bundle written by `mamori export`, without the database: the manifest,
the checkpoint signatures, and every record against its proof and checkpoint. Compare the key
id it prints with the one the operator published, or pass --public-key.

exit codes: 0 verified, 3 content does not match (manifest, record or proof), 4 signature or
checkpoint mismatch, 1 could not read the bundle, 2 usage.
)";

std::optional<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int ExitCode(storage::VerifyFailure f) {
  switch (f) {
    case storage::VerifyFailure::kNone:
      return kExitOk;
    case storage::VerifyFailure::kChain:
      return kExitChainBroken;
    case storage::VerifyFailure::kCheckpoint:
      return kExitCheckpointMismatch;
    case storage::VerifyFailure::kError:
      break;
  }
  return kExitFailure;
}

bool ParseSeq(const std::optional<std::string>& v, std::uint64_t* out) {
  if (!v) return true;
  try {
    std::size_t n = 0;
    *out = std::stoull(*v, &n);
    return n == v->size() && *out > 0;
  } catch (...) {
    return false;
  }
}

}  // namespace

int VerifyCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"data-dir", "from", "to", "checkpoints", "public-key"}, {"help", "json"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "mamori verify: %s\n\n%s", flags.status().message().c_str(), kVerifyUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fputs(kVerifyUsage, stdout);
    return kExitOk;
  }
  auto dir = flags->Get("data-dir");
  storage::VerifyOptions vo;
  if (!dir || !flags->positional().empty() || !ParseSeq(flags->Get("from"), &vo.from) ||
      !ParseSeq(flags->Get("to"), &vo.to) || (vo.to != 0 && vo.to < vo.from)) {
    std::fprintf(stderr, "mamori verify: --data-dir is required; --from/--to are seqs >= 1\n\n%s",
                 kVerifyUsage);
    return kExitUsage;
  }
  std::vector<std::string> notes;
  if (auto f = flags->Get("checkpoints")) {
    vo.checkpoint_file = *f;
  } else {
    const auto def = (std::filesystem::path(*dir) / "checkpoints.log").string();
    std::error_code ec;
    if (std::filesystem::exists(def, ec)) {
      vo.checkpoint_file = def;
    } else {
      notes.push_back(
          "no checkpoint file given and none in the data dir: the external "
          "anchor was not checked");
    }
  }
  if (auto k = flags->Get("public-key")) {
    auto pem = ReadAll(*k);
    if (!pem) {
      std::fprintf(stderr, "mamori verify: cannot read %s\n", k->c_str());
      return kExitFailure;
    }
    vo.public_key_pem = *pem;
  }
  storage::StoreOptions so;
  so.dir = *dir;
  so.read_only = true;
  auto store = storage::EvidenceStore::Open(so);
  if (!store.ok()) {
    std::fprintf(stderr, "mamori verify: %s\n", store.status().ToString().c_str());
    return kExitFailure;
  }
  storage::VerifyReport report = storage::VerifyStore(**store, vo);
  for (auto& n : notes) report.warnings.push_back(n);
  const std::string out = flags->Has("json") ? storage::VerifyReportToJson(report).dump() + "\n"
                                             : storage::VerifyReportToText(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return ExitCode(report.failure);
}

int VerifyBundleCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"public-key"}, {"help", "json"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "mamori verify-bundle: %s\n\n%s", flags.status().message().c_str(),
                 kVerifyBundleUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fputs(kVerifyBundleUsage, stdout);
    return kExitOk;
  }
  if (flags->positional().size() != 1) {
    std::fprintf(stderr, "mamori verify-bundle: expected one BUNDLE directory\n\n%s",
                 kVerifyBundleUsage);
    return kExitUsage;
  }
  std::string trusted;
  if (auto k = flags->Get("public-key")) {
    auto pem = ReadAll(*k);
    if (!pem) {
      std::fprintf(stderr, "mamori verify-bundle: cannot read %s\n", k->c_str());
      return kExitFailure;
    }
    trusted = *pem;
  }
  const std::string& dir = flags->positional().front();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::fprintf(stderr, "mamori verify-bundle: %s is not a directory\n", dir.c_str());
    return kExitFailure;
  }
  const storage::BundleReport r = storage::VerifyBundle(dir, trusted);
  if (flags->Has("json")) {
    nlohmann::json j;
    j["ok"] = r.ok();
    j["failed_seq"] = r.failed_seq == 0 ? nlohmann::json(nullptr) : nlohmann::json(r.failed_seq);
    j["what"] = r.what;
    j["records"] = r.records;
    j["checkpoints"] = r.checkpoints;
    j["key_id"] = r.key_id;
    std::printf("%s\n", j.dump().c_str());
  } else if (r.ok()) {
    std::printf("OK: %llu records verified against %llu signed checkpoints of key %s\n",
                static_cast<unsigned long long>(r.records),
                static_cast<unsigned long long>(r.checkpoints), r.key_id.c_str());
  } else {
    std::printf("FAILED%s: %s\n",
                r.failed_seq ? (" at seq " + std::to_string(r.failed_seq)).c_str() : "",
                r.what.c_str());
  }
  return ExitCode(r.failure);
}

}  // namespace mamori::app
