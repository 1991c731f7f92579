// `mamori export`: writes an evidence bundle (docs/evidence.md) from the store, offline.
#include <cstdio>

#include "commands.h"
#include "flags.h"
#include "mamori/storage/bundle.h"
#include "mamori/storage/evidence_store.h"
#include "mamori/storage/query.h"

namespace mamori::app {
namespace {

constexpr const char* kExportUsage = R"(usage: mamori export --data-dir DIR --out BUNDLE
                     [--from TIME] [--to TIME] [--host HOST] [--app APP] [--severity SEV]
                     [--pattern RE] | [--seq LIST]

Writes an evidence bundle (a new directory BUNDLE) with the selected records, their chain
proofs, the covering signed checkpoints, the public key and a manifest of SHA-256 hashes.
Check it anywhere with `mamori verify-bundle BUNDLE` (format: docs/evidence.md). Read-only;
safe while the daemon runs. Records newer than the last checkpoint cannot be exported yet.

selection (like `mamori search`; at most 100000 records):
  --from TIME, --to TIME, --host HOST, --app APP, --severity SEV, --pattern RE
  --seq LIST        sequence numbers instead, e.g. 1,5,9-12
)";

}  // namespace

int ExportCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"data-dir", "out", "from", "to", "host", "app", "severity", "pattern", "seq"},
                {"help"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "mamori export: %s\n\n%s", flags.status().message().c_str(), kExportUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fputs(kExportUsage, stdout);
    return kExitOk;
  }
  auto dir = flags->Get("data-dir");
  auto out = flags->Get("out");
  if (!dir || !out || !flags->positional().empty()) {
    std::fprintf(stderr, "mamori export: --data-dir and --out are required\n\n%s", kExportUsage);
    return kExitUsage;
  }
  storage::ExportSelection sel;
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [name, value] : flags->ordered()) {
    if (name == "data-dir" || name == "out" || name == "seq") continue;
    params.emplace_back(name == "pattern" ? "q" : name, value);
  }
  if (auto seq = flags->Get("seq")) {
    if (!params.empty()) {
      std::fprintf(stderr, "mamori export: --seq cannot be combined with filters\n");
      return kExitUsage;
    }
    auto seqs = storage::ParseSeqList(*seq, sel.max_records);
    if (!seqs.ok()) {
      std::fprintf(stderr, "mamori export: %s\n", seqs.status().message().c_str());
      return kExitUsage;
    }
    sel.seqs = std::move(seqs).value();
  } else {
    auto q = storage::QueryFromParams(params);
    if (!q.ok()) {
      std::fprintf(stderr, "mamori export: %s\n", q.status().message().c_str());
      return kExitUsage;
    }
    sel.query = std::move(q).value();
  }
  storage::StoreOptions so;
  so.dir = *dir;
  so.read_only = true;
  auto store = storage::EvidenceStore::Open(so);
  if (!store.ok()) {
    std::fprintf(stderr, "mamori export: %s\n", store.status().ToString().c_str());
    return kExitFailure;
  }
  auto summary = storage::ExportBundle(**store, sel, *out);
  if (!summary.ok()) {
    std::fprintf(stderr, "mamori export: %s\n", summary.status().ToString().c_str());
    return kExitFailure;
  }
  std::printf("exported %llu records, %llu checkpoints, %llu proof hashes to %s\n",
              static_cast<unsigned long long>(summary->records),
              static_cast<unsigned long long>(summary->checkpoints),
              static_cast<unsigned long long>(summary->proof_hashes), out->c_str());
  return kExitOk;
}

}  // namespace mamori::app
