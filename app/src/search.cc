#include <cstdio>

#include "commands.h"
#include "flags.h"
#include "mamori/storage/evidence_store.h"
#include "mamori/storage/query.h"
#include "mamori/storage/record_json.h"

namespace mamori::app {
namespace {

constexpr const char* kSearchUsage = R"(usage: mamori search --data-dir DIR [filters]

Searches the evidence store offline (read-only; safe while the daemon runs) and prints one JSON
event per line, newest first. When more events match than --limit, the cursor for the next
page is printed on stderr as "next: CURSOR".

filters:
  --from TIME       events at or after TIME (RFC 3339, YYYY-MM-DD, or Unix seconds)
  --to TIME         events before TIME
  --host HOST       exact host name
  --app APP         exact application name
  --severity SEV    at least this severe: emerg alert crit err warning notice info debug, or 0-7
  --pattern RE      RE2 regular expression over the message (unanchored)
  --limit N         at most N events (default 100, at most 10000)
  --cursor C        continue after a previous page
)";

}  // namespace

int SearchCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"data-dir", "from", "to", "host", "app", "severity", "pattern", "limit", "cursor"},
                {"help"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "mamori search: %s\n\n%s", flags.status().message().c_str(), kSearchUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fputs(kSearchUsage, stdout);
    return kExitOk;
  }
  auto dir = flags->Get("data-dir");
  if (!dir) {
    std::fprintf(stderr, "mamori search: --data-dir is required\n\n%s", kSearchUsage);
    return kExitUsage;
  }
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [name, value] : flags->ordered()) {
    if (name == "data-dir") continue;
    params.emplace_back(name == "pattern" ? "q" : name, value);
  }
  auto query = storage::QueryFromParams(params);
  if (!query.ok()) {
    std::fprintf(stderr, "mamori search: %s\n", query.status().message().c_str());
    return kExitUsage;
  }
  storage::StoreOptions opts;
  opts.dir = *dir;
  opts.read_only = true;
  auto store = storage::EvidenceStore::Open(opts);
  if (!store.ok()) {
    std::fprintf(stderr, "mamori search: %s\n", store.status().ToString().c_str());
    return kExitFailure;
  }
  auto page = (*store)->Search(*query);
  if (!page.ok()) {
    std::fprintf(stderr, "mamori search: %s\n", page.status().ToString().c_str());
    return page.status().code() == Status::Code::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  for (const auto& r : page->records) {
    std::string line =
        storage::RecordToJson(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  if (!page->next_cursor.empty()) {
    std::fprintf(stderr, "next: %s\n", page->next_cursor.c_str());
  }
  return kExitOk;
}

}  // namespace mamori::app
