// The subcommands of the `mamori` binary. Each takes the arguments after its name and returns
// the process exit code. Exit codes: 0 success, 1 runtime failure, 2 usage or config error;
// verify and verify-bundle also 3 (chain broken) and 4 (checkpoint or signature mismatch).
#pragma once

#include <string>
#include <vector>

namespace mamori::app {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitChainBroken = 3;
constexpr int kExitCheckpointMismatch = 4;

int ServeCommand(const std::vector<std::string>& args);
int SearchCommand(const std::vector<std::string>& args);
int VerifyCommand(const std::vector<std::string>& args);
int VerifyBundleCommand(const std::vector<std::string>& args);
int ExportCommand(const std::vector<std::string>& args);
int KeyCommand(const std::vector<std::string>& args);
int RulesCommand(const std::vector<std::string>& args);
int IncidentsCommand(const std::vector<std::string>& args);
int TokenCommand(const std::vector<std::string>& args);
int AuditCommand(const std::vector<std::string>& args);
int NotificationsCommand(const std::vector<std::string>& args);

}  // namespace mamori::app
