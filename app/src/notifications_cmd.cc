// `mamori notifications list --data-dir DIR`: the notifications waiting in the outbox (pending)
// and those given up (failed), read offline from <data_dir>/notify (a read-only secondary
// instance: safe while the daemon runs).
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "flags.h"
#include "mamori/core/record.h"
#include "mamori/notify/outbox.h"

namespace mamori::app {
namespace {

constexpr const char* kNotificationsUsage =
    R"(usage: mamori notifications list --data-dir DIR [--state pending|failed|all]

Prints one JSON object per line for each notification entry (one per notification and
channel) in the daemon's outbox, oldest first: id, channel, state (pending or failed),
incident_id, kind, created, attempts, next_attempt (pending), failed (failed), last_error.
Reads <DIR>/notify offline (read-only; safe while the daemon runs). docs/notifications.md.

exit status: 0 done, 1 failed (e.g. no outbox in DIR), 2 usage.
)";

nlohmann::json EntryJson(const notify::Entry& e, bool failed) {
  nlohmann::json j;
  auto payload = nlohmann::json::parse(e.payload, nullptr, false);
  j["id"] = payload.is_object() && payload.contains("id") ? payload["id"]
                                                          : nlohmann::json(std::to_string(e.id));
  j["channel"] = e.channel;
  j["state"] = failed ? "failed" : "pending";
  j["incident_id"] = e.incident_id;
  j["kind"] = payload.is_object() && payload.contains("kind") ? payload["kind"] : nullptr;
  j["created"] = FormatRfc3339(e.created_ns);
  j["attempts"] = e.attempts;
  if (failed) {
    j["failed"] = FormatRfc3339(e.failed_ns);
  } else {
    j["next_attempt"] = FormatRfc3339(e.next_attempt_ns);
  }
  j["last_error"] = e.last_error;
  return j;
}

}  // namespace

int NotificationsCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"data-dir", "state"}, {"help"}};
  auto flags = Flags::Parse(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "mamori notifications: %s\n\n%s", flags.status().message().c_str(),
                 kNotificationsUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fputs(kNotificationsUsage, stdout);
    return kExitOk;
  }
  const auto& pos = flags->positional();
  if (pos.size() != 1 || pos[0] != "list" || !flags->Get("data-dir")) {
    std::fputs(kNotificationsUsage, stderr);
    return kExitUsage;
  }
  const std::string state = flags->Get("state").value_or("all");
  if (state != "pending" && state != "failed" && state != "all") {
    std::fprintf(stderr,
                 "mamori notifications: --state: expected pending, failed or all, got '%s'\n",
                 state.c_str());
    return kExitUsage;
  }
  notify::OutboxOptions oo;
  oo.dir = (std::filesystem::path(*flags->Get("data-dir")) / "notify").string();
  oo.read_only = true;
  auto box = notify::Outbox::Open(oo);
  if (!box.ok()) {
    std::fprintf(stderr, "mamori notifications: %s\n", box.status().ToString().c_str());
    return kExitFailure;
  }
  for (bool failed : {false, true}) {
    if ((failed && state == "pending") || (!failed && state == "failed")) continue;
    Status st = (*box)->ForEach(failed, [&](const notify::Entry& e) {
      std::printf("%s\n", EntryJson(e, failed)
                              .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                              .c_str());
    });
    if (!st.ok()) {
      std::fprintf(stderr, "mamori notifications: %s\n", st.ToString().c_str());
      return kExitFailure;
    }
  }
  return kExitOk;
}

}  // namespace mamori::app
