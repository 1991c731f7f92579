// `mamori incidents`: lists incidents offline (read-only; safe while the daemon runs).
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "flags.h"
#include "mamori/incidents/incident_store.h"

namespace mamori::app {
namespace {

constexpr const char* kIncidentsUsage =
    R"(usage: mamori incidents --data-dir DIR [--status S] [--limit N] [--before ID]

Lists the incidents of the daemon whose data directory is DIR, newest first, one JSON object per
line (the fields are described in docs/incidents.md). Read-only; safe while the daemon runs.
When more incidents match than --limit, "next: ID" is printed on stderr: pass it as --before.

flags:
  --status S    new, acknowledged, in_progress, resolved, closed or reopened
  --limit N     at most N incidents (default 100, at most 1000)
  --before ID   only incidents with a smaller id (the next page)
)";

}  // namespace

int IncidentsCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"data-dir", "status", "limit", "before"}, {"help"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "mamori incidents: %s\n\n%s", flags.status().message().c_str(),
                 kIncidentsUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fputs(kIncidentsUsage, stdout);
    return kExitOk;
  }
  auto dir = flags->Get("data-dir");
  if (!dir || !flags->positional().empty()) {
    std::fprintf(stderr, "mamori incidents: --data-dir is required (and nothing else)\n\n%s",
                 kIncidentsUsage);
    return kExitUsage;
  }
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [name, value] : flags->ordered()) {
    if (name != "data-dir") params.emplace_back(name, value);
  }
  auto opts = incidents::ListOptionsFromParams(params);
  if (!opts.ok()) {
    std::fprintf(stderr, "mamori incidents: %s\n", opts.status().message().c_str());
    return kExitUsage;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(*dir, ec)) {
    std::fprintf(stderr, "mamori incidents: %s: no such directory\n", dir->c_str());
    return kExitFailure;
  }
  incidents::IncidentStoreOptions so;
  so.dir = *dir + "/incidents";
  so.read_only = true;
  auto store = incidents::IncidentStore::Open(so);
  if (!store.ok()) {
    if (store.status().code() == Status::Code::kNotFound) return kExitOk;  // none yet
    std::fprintf(stderr, "mamori incidents: %s\n", store.status().ToString().c_str());
    return kExitFailure;
  }
  auto list = (*store)->List(*opts);
  if (!list.ok()) {
    std::fprintf(stderr, "mamori incidents: %s\n", list.status().ToString().c_str());
    return kExitFailure;
  }
  for (const auto& inc : *list) {
    std::string line = incidents::IncidentToJson(inc).dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  if (list->size() == opts->limit && !list->empty()) {
    std::fprintf(stderr, "next: %llu\n", static_cast<unsigned long long>(list->back().id));
  }
  return kExitOk;
}

}  // namespace mamori::app
