// mamori: log collection and monitoring daemon. `mamori serve` runs the daemon; the other
// subcommands are tools for operators and the CSIRT.
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"

namespace {

constexpr const char* kUsage = R"(usage: mamori <command> [flags]

commands:
  serve     run the daemon (embedded default config when --config is not given)
  search    search stored events offline (read-only): mamori search --data-dir DIR [filters]
  verify    verify the evidence store (hash chain, signed checkpoints): mamori verify --data-dir DIR
  export    write an evidence bundle: mamori export --data-dir DIR --out BUNDLE [selection]
  verify-bundle  verify an evidence bundle without the database: mamori verify-bundle BUNDLE
  key       print the checkpoint signing public key: mamori key export --data-dir DIR
  rules     rule tools: mamori rules test RULES... [--log FILE]; mamori rules backtest ...
  incidents list, show and work incidents: mamori incidents list|show|ack|start|resolve|close|
            reopen|assign|note ... (changes go through the daemon's API: --server URL)
  token     API tokens: mamori token create --role ROLE --name NAME | list | revoke NAME | roles
  audit     the API audit trail: mamori audit list|verify --data-dir DIR
  notifications  the notification outbox: mamori notifications list --data-dir DIR
  version   print the version
  help      this text

`mamori <command> --help` describes a command's flags.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return mamori::app::kExitUsage;
  }
  std::string cmd = args.front();
  args.erase(args.begin());
  if (cmd == "serve") return mamori::app::ServeCommand(args);
  if (cmd == "search") return mamori::app::SearchCommand(args);
  if (cmd == "verify") return mamori::app::VerifyCommand(args);
  if (cmd == "verify-bundle") return mamori::app::VerifyBundleCommand(args);
  if (cmd == "export") return mamori::app::ExportCommand(args);
  if (cmd == "key") return mamori::app::KeyCommand(args);
  if (cmd == "rules") return mamori::app::RulesCommand(args);
  if (cmd == "incidents") return mamori::app::IncidentsCommand(args);
  if (cmd == "token") return mamori::app::TokenCommand(args);
  if (cmd == "audit") return mamori::app::AuditCommand(args);
  if (cmd == "notifications") return mamori::app::NotificationsCommand(args);
  if (cmd == "version" || cmd == "--version") {
    std::printf("mamori %s\n", MAMORI_VERSION);
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fprintf(stderr, "mamori: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return mamori::app::kExitUsage;
}
