// The subcommands of the `mamori` binary. Each takes the arguments after its name and returns
// the process exit code. Exit codes: 0 success, 1 runtime failure, 2 usage or config error.
#pragma once

#include <string>
#include <vector>

namespace mamori::app {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int ServeCommand(const std::vector<std::string>& args);
int SearchCommand(const std::vector<std::string>& args);
int RulesCommand(const std::vector<std::string>& args);
int IncidentsCommand(const std::vector<std::string>& args);

}  // namespace mamori::app
