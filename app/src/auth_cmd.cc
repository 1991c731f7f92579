// `mamori token` (API tokens) and `mamori audit` (the audit trail): docs/security.md.
#include <cstdio>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "access.h"
#include "commands.h"
#include "flags.h"
#include "mamori/auth/audit.h"
#include "mamori/auth/token_store.h"
#include "mamori/core/clock.h"
#include "mamori/core/config.h"
#include "mamori/core/time_util.h"

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
       mamori audit verify [--data-dir DIR]

The audit trail of the API (DIR/audit): who read events, verified or exported evidence, changed
an incident or reloaded the rules, and every refused attempt. Read-only; safe while the daemon
runs (it sees the entries as of the start of the command).

  list     JSON lines, oldest first: seq, time, actor, role, peer, method, path, params, status,
           returned, withheld, prev_hash, hash. --since TIME (RFC 3339, date or Unix seconds),
           --from-seq N, --limit N (default 1000)
  verify   checks the hash chain; exit 0 when intact (prints the entry count and head hash),
           3 with the first bad seq and why
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

int AuditVerify(const Flags& f) {
  auto log = OpenAudit(f);
  if (!log.ok()) return Fail("audit", log.status().ToString(), kExitFailure);
  const auth::AuditVerifyReport rep = (*log)->Verify();
  if (!rep.ok) {
    std::printf("audit trail BROKEN at seq %llu: %s (%llu entries before it are intact)\n",
                static_cast<unsigned long long>(rep.first_bad), rep.what.c_str(),
                static_cast<unsigned long long>(rep.entries));
    return kExitChainBroken;
  }
  auth::TokenHash head;
  std::copy(rep.head.begin(), rep.head.end(), head.begin());
  std::printf("audit trail intact: %llu entries, head %s\n",
              static_cast<unsigned long long>(rep.entries), auth::HashToHex(head).c_str());
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
  FlagSpec spec{{"data-dir", "since", "from-seq", "limit"}, {"help"}};
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
