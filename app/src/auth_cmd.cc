// `mamori token` (API tokens) and `mamori audit` (the audit trail): docs/security.md.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "access.h"
#include "commands.h"
#include "flags.h"
#include "mamori/auth/audit.h"
#include "mamori/auth/token_store.h"
#include "mamori/core/clock.h"
#include "mamori/core/config.h"
#include "mamori/core/record.h"
#include "mamori/core/time_util.h"
#include "mamori/storage/evidence_log.h"
#include "mamori/storage/evidence_store.h"
#include "mamori/storage/verify.h"

namespace mamori::app {
namespace {

constexpr const char* kTokenUsage =
    R"(usage: mamori token create --role ROLE --name NAME [--data-dir DIR]
       mamori token list [--data-dir DIR]
       mamori token revoke NAME [--data-dir DIR]
       mamori token roles

API bearer tokens, in DIR/tokens (default data dir: mamori-data). `create` prints the new
token once on stdout: only its SHA-256 hash is stored, so keep it (a lost token is revoked and
made again). Changes take effect in a running daemon on its next request.

  create   --role viewer|analyst|investigator|admin, --name NAME (1-64 of A-Z a-z 0-9 . _ @ -)
  list     one JSON object per token: name, role, created, revoked (never the token)
  revoke   the token NAME no longer authenticates (it stays listed as revoked)
  roles    one JSON object per API route: method, path, role (the weakest allowed), audited
)";

constexpr const char* kAuditUsage =
    R"(usage: mamori audit list [--data-dir DIR] [--since TIME] [--from-seq N] [--limit N]
       mamori audit verify [--data-dir DIR] [--checkpoints FILE] [--public-key FILE]

The audit trail of the API (DIR/audit): who read events, verified or exported evidence, changed
an incident or reloaded the rules, and every refused attempt. Read-only; safe while the daemon
runs (it sees the entries as of the start of the command).

  list     JSON lines, oldest first: seq, time, actor, role, peer, method, path, params, status,
           returned, withheld, prev_hash, hash. --since TIME (RFC 3339, date or Unix seconds),
           --from-seq N, --limit N (default 1000)
  verify   checks the hash chain, then compares it with the audit head signed into the newest
           evidence checkpoint, in the store (DIR) and in the checkpoint file (--checkpoints,
           default DIR/checkpoints.log if present), checked against the store's key or
           --public-key FILE. Exit 0 when intact (prints the entry count, the head hash and how
           many entries a signed checkpoint covers), 3 when the chain is broken (the first bad
           seq and why), 4 when it does not match a signed checkpoint (entries removed from the
           end or rewritten) or a checkpoint's signature is bad, 1 when it cannot be read
)";

int Fail(const char* cmd, const std::string& msg, int code) {
  std::fprintf(stderr, "mamori %s: %s\n", cmd, msg.c_str());
  return code;
}

std::string TokenFile(const Flags& f) {
  return (std::filesystem::path(f.Get("data-dir").value_or(DefaultConfig().data_dir)) / "tokens")
      .string();
}

std::string AuditDir(const Flags& f) {
  return (std::filesystem::path(f.Get("data-dir").value_or(DefaultConfig().data_dir)) / "audit")
      .string();
}

int TokenCreate(const Flags& f) {
  auto role_name = f.Get("role");
  auto name = f.Get("name");
  if (!role_name || !name || f.positional().size() != 1) {
    return Fail("token", std::string("create needs --role and --name\n\n") + kTokenUsage,
                kExitUsage);
  }
  auth::Role role;
  if (!auth::ParseRole(*role_name, &role)) {
    return Fail("token",
                "--role: expected viewer, analyst, investigator or admin, got '" + *role_name + "'",
                kExitUsage);
  }
  auto token = auth::CreateToken(TokenFile(f), *name, role, SystemClock::Instance().NowNs());
  if (!token.ok()) {
    return Fail(
        "token", token.status().message(),
        token.status().code() == Status::Code::kInvalidArgument ? kExitUsage : kExitFailure);
  }
  std::printf("%s\n", token->c_str());
  std::fprintf(stderr, "created token '%s' (role %s) in %s; it is shown only this once\n",
               name->c_str(), std::string(auth::RoleName(role)).c_str(), TokenFile(f).c_str());
  return kExitOk;
}

int TokenList(const Flags& f) {
  auto entries = auth::ReadTokenFile(TokenFile(f));
  if (!entries.ok()) return Fail("token", entries.status().ToString(), kExitFailure);
  for (const auto& e : *entries) {
    nlohmann::json j;
    j["name"] = e.name;
    j["role"] = auth::RoleName(e.role);
    j["created"] = FormatRfc3339(e.created_ns);
    j["revoked"] =
        e.active() ? nlohmann::json(nullptr) : nlohmann::json(FormatRfc3339(e.revoked_ns));
    std::printf("%s\n", j.dump().c_str());
  }
  return kExitOk;
}

int TokenRevoke(const Flags& f) {
  if (f.positional().size() != 2) {
    return Fail("token", std::string("revoke takes one NAME\n\n") + kTokenUsage, kExitUsage);
  }
  const std::string& name = f.positional()[1];
  Status st = auth::RevokeToken(TokenFile(f), name, SystemClock::Instance().NowNs());
  if (!st.ok()) {
    return Fail("token", st.message(),
                st.code() == Status::Code::kNotFound ? kExitFailure : kExitFailure);
  }
  std::fprintf(stderr, "revoked token '%s'\n", name.c_str());
  return kExitOk;
}

int TokenRoles() {
  for (const auto& p : RouteTable()) {
    nlohmann::json j;
    j["method"] = p.method;
    j["path"] = p.path;
    j["role"] = auth::RoleName(p.role);
    j["audited"] = p.audited;
    std::printf("%s\n", j.dump().c_str());
  }
  return kExitOk;
}

Result<std::unique_ptr<auth::AuditLog>> OpenAudit(const Flags& f) {
  auth::AuditOptions o;
  o.dir = AuditDir(f);
  o.read_only = true;
  return auth::AuditLog::Open(o, nullptr);
}

bool ParseCount(const std::string& s, std::uint64_t* out) {
  if (s.empty()) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > (~std::uint64_t{0} - 9) / 10) return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

int AuditList(const Flags& f) {
  std::int64_t since = std::numeric_limits<std::int64_t>::min();
  if (auto s = f.Get("since")) {
    auto t = ParseTimeBound(*s);
    if (!t.ok()) return Fail("audit", "--since: " + t.status().message(), kExitUsage);
    since = *t;
  }
  std::uint64_t from = 1, limit = 1000;
  if (auto s = f.Get("from-seq"); s && !ParseCount(*s, &from)) {
    return Fail("audit", "--from-seq: expected a number", kExitUsage);
  }
  if (auto s = f.Get("limit"); s && (!ParseCount(*s, &limit) || limit == 0)) {
    return Fail("audit", "--limit: expected a number >= 1", kExitUsage);
  }
  auto log = OpenAudit(f);
  if (!log.ok()) return Fail("audit", log.status().ToString(), kExitFailure);
  auto entries = (*log)->List(from, since, limit);
  if (!entries.ok()) return Fail("audit", entries.status().ToString(), kExitFailure);
  for (const auto& e : *entries) std::printf("%s\n", auth::AuditEntryToJson(e).c_str());
  return kExitOk;
}

// The newest signed checkpoint that anchors the audit trail, from the store or the file.
struct AuditAnchor {
  storage::LogEntry entry;
  std::string where;  // "store" or "checkpoint file"
};

// Reads the signed checkpoints that carry an audit head (v2), newest of each source, checking
// every signature. Reads the checkpoint file first and then the store, like `mamori verify`:
// both before the audit trail is opened, so nothing they anchor is newer than what it sees.
// Sets *code (exit code) and returns an error message on failure.
std::string ReadAuditAnchors(const Flags& f, std::vector<AuditAnchor>* out,
                             std::vector<std::string>* notes, int* code) {
  namespace fs = std::filesystem;
  const std::string dir = f.Get("data-dir").value_or(DefaultConfig().data_dir);
  *code = kExitFailure;
  std::vector<storage::LogEntry> file_entries;
  std::string file = f.Get("checkpoints").value_or("");
  std::error_code ec;
  if (file.empty() && fs::exists(fs::path(dir) / "checkpoints.log", ec)) {
    file = (fs::path(dir) / "checkpoints.log").string();
  }
  if (!file.empty()) {
    auto r = storage::ReadCheckpointFile(file, notes);
    if (!r.ok()) {
      if (r.status().code() == Status::Code::kInvalidArgument) *code = kExitCheckpointMismatch;
      return r.status().message();
    }
    file_entries = std::move(r).value();
  } else {
    notes->push_back("no checkpoint file given and none in the data dir: not compared with it");
  }
  storage::StoreOptions so;
  so.dir = dir;
  so.read_only = true;
  auto store = storage::EvidenceStore::Open(so);
  if (!store.ok()) {
    if (store.status().code() != Status::Code::kNotFound) return store.status().ToString();
    notes->push_back("no evidence store in " + dir + ": the audit head is not anchored");
    return "";
  }
  storage::EvidenceView view;
  Status st = (*store)->ReadEvidence(1, 1, &view, [](const storage::ChainItem&) { return false; });
  if (!st.ok()) return st.ToString();
  std::string pem = view.public_key_pem;
  if (auto k = f.Get("public-key")) {
    std::ifstream in(*k, std::ios::binary);
    if (!in) return "cannot read " + *k;
    std::stringstream ss;
    ss << in.rdbuf();
    pem = ss.str();
  }
  std::optional<storage::PublicKey> key;
  if (!pem.empty()) {
    auto k = storage::PublicKey::FromPem(pem);
    if (!k.ok()) return "public key: " + k.status().message();
    key = std::move(k).value();
  }
  auto consider = [&](const storage::LogEntry& e, const char* where) -> std::string {
    if (e.kind != storage::LogEntry::Kind::kCheckpoint || !e.audit) return "";
    if (!key || !storage::VerifyEntry(e, *key)) {
      *code = kExitCheckpointMismatch;
      return std::string(where) + " entry id " + std::to_string(e.id) +
             ": bad signature or not signed by the store's key";
    }
    for (AuditAnchor& a : *out) {
      if (a.where == where) {
        if (e.id > a.entry.id) a.entry = e;
        return "";
      }
    }
    out->push_back({e, where});
    return "";
  };
  for (const std::string& line : view.entries) {
    auto e = storage::ParseLogLine(line);
    if (!e.ok()) {
      *code = kExitCheckpointMismatch;
      return "store evidence log: " + e.status().message();
    }
    if (std::string err = consider(*e, "store"); !err.empty()) return err;
  }
  for (const storage::LogEntry& e : file_entries) {
    if (std::string err = consider(e, "checkpoint file"); !err.empty()) return err;
  }
  return "";
}

std::string Hex(const auth::AuditHash& h) {
  auth::TokenHash t;
  std::copy(h.begin(), h.end(), t.begin());
  return auth::HashToHex(t);
}

int AuditVerify(const Flags& f) {
  std::vector<AuditAnchor> anchors;
  std::vector<std::string> notes;
  int code = kExitOk;
  if (std::string err = ReadAuditAnchors(f, &anchors, &notes, &code); !err.empty()) {
    if (code == kExitCheckpointMismatch) {
      std::printf("audit trail NOT VERIFIED: %s\n", err.c_str());
      return code;
    }
    return Fail("audit", err, code);
  }
  auto log = OpenAudit(f);
  if (!log.ok()) return Fail("audit", log.status().ToString(), kExitFailure);
  const auth::AuditVerifyReport rep = (*log)->Verify();
  if (!rep.ok) {
    std::printf("audit trail BROKEN at seq %llu: %s (%llu entries before it are intact)\n",
                static_cast<unsigned long long>(rep.first_bad), rep.what.c_str(),
                static_cast<unsigned long long>(rep.entries));
    return kExitChainBroken;
  }
  // seq counts from 1 without gaps, so the last entry's seq is the number of entries.
  const std::uint64_t end = rep.entries;
  const AuditAnchor* newest = nullptr;
  for (const AuditAnchor& a : anchors) {
    const storage::ExtraAnchor& x = *a.entry.audit;
    const std::string cp = "checkpoint id " + std::to_string(a.entry.id) + " (" + a.where +
                           ") at " + FormatRfc3339(a.entry.time_ns) + " anchored seq " +
                           std::to_string(x.seq) + " hash " + storage::ToHex(x.head);
    if (x.seq > end) {
      std::printf(
          "audit trail TRUNCATED: audit trail ends at seq %llu but %s: entries %llu..%llu "
          "were removed\n",
          static_cast<unsigned long long>(end), cp.c_str(),
          static_cast<unsigned long long>(end + 1), static_cast<unsigned long long>(x.seq));
      return kExitCheckpointMismatch;
    }
    auth::AuditHash have{};
    if (x.seq > 0) {
      auto e = (*log)->List(x.seq, std::numeric_limits<std::int64_t>::min(), 1);
      if (!e.ok()) return Fail("audit", e.status().ToString(), kExitFailure);
      if (e->empty() || e->front().seq != x.seq) {
        return Fail("audit", "entry " + std::to_string(x.seq) + " cannot be read", kExitFailure);
      }
      have = e->front().hash;
    }
    if (!std::equal(have.begin(), have.end(), x.head.begin())) {
      std::printf(
          "audit trail REWRITTEN: entry %llu has hash %s but %s (entries up to it were "
          "altered and the chain recomputed)\n",
          static_cast<unsigned long long>(x.seq), Hex(have).c_str(), cp.c_str());
      return kExitCheckpointMismatch;
    }
    if (newest == nullptr || x.seq > newest->entry.audit->seq) newest = &a;
  }
  std::printf("audit trail intact: %llu entries, head %s\n",
              static_cast<unsigned long long>(rep.entries), Hex(rep.head).c_str());
  if (newest == nullptr) {
    std::printf(
        "not anchored: no signed checkpoint carries the audit head (checkpoints made "
        "before mamori signed it, or none yet); %llu entries unanchored\n",
        static_cast<unsigned long long>(end));
  } else {
    const std::uint64_t m = newest->entry.audit->seq;
    std::string where;
    for (const AuditAnchor& a : anchors) {
      if (a.entry.audit->seq == m) where += (where.empty() ? "" : ", ") + a.where;
    }
    std::printf(
        "anchored: %llu entries covered by signed checkpoint id %llu at %s (%s); %llu "
        "newer entries unanchored\n",
        static_cast<unsigned long long>(m), static_cast<unsigned long long>(newest->entry.id),
        FormatRfc3339(newest->entry.time_ns).c_str(), where.c_str(),
        static_cast<unsigned long long>(end - m));
  }
  for (const std::string& n : notes) std::printf("note: %s\n", n.c_str());
  return kExitOk;
}

}  // namespace

int TokenCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"data-dir", "role", "name"}, {"help"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) {
    return Fail("token", flags.status().message() + "\n\n" + kTokenUsage, kExitUsage);
  }
  if (flags->Has("help")) {
    std::fputs(kTokenUsage, stdout);
    return kExitOk;
  }
  const auto& pos = flags->positional();
  const std::string sub = pos.empty() ? "" : pos.front();
  if (sub == "create") return TokenCreate(*flags);
  if (sub == "list" && pos.size() == 1) return TokenList(*flags);
  if (sub == "revoke") return TokenRevoke(*flags);
  if (sub == "roles" && pos.size() == 1) return TokenRoles();
  return Fail("token", std::string("expected create, list, revoke or roles\n\n") + kTokenUsage,
              kExitUsage);
}

int AuditCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"data-dir", "since", "from-seq", "limit", "checkpoints", "public-key"}, {"help"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) {
    return Fail("audit", flags.status().message() + "\n\n" + kAuditUsage, kExitUsage);
  }
  if (flags->Has("help")) {
    std::fputs(kAuditUsage, stdout);
    return kExitOk;
  }
  const auto& pos = flags->positional();
  if (pos.size() == 1 && pos[0] == "list") return AuditList(*flags);
  if (pos.size() == 1 && pos[0] == "verify") return AuditVerify(*flags);
  return Fail("audit", std::string("expected list or verify\n\n") + kAuditUsage, kExitUsage);
}

}  // namespace mamori::app
