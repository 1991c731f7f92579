#include "mamori/core/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "mamori/core/clock.h"
#include "mamori/core/record.h"

namespace mamori::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
const char* Name(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info ";
    case Level::kWarn:
      return "warn ";
    case Level::kError:
      return "error";
  }
  return "?";
}
}  // namespace

void SetLevel(Level level) { g_level.store(static_cast<int>(level)); }

bool SetLevel(std::string_view name) {
  if (name == "debug")
    SetLevel(Level::kDebug);
  else if (name == "info")
    SetLevel(Level::kInfo);
  else if (name == "warn")
    SetLevel(Level::kWarn);
  else if (name == "error")
    SetLevel(Level::kError);
  else
    return false;
  return true;
}

bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void Write(Level level, std::string_view component, std::string_view message) {
  if (!Enabled(level)) return;
  std::string line = FormatRfc3339(SystemClock::Instance().NowNs() / 1'000'000 * 1'000'000);
  line += ' ';
  line += Name(level);
  line += ' ';
  line += component;
  line += ": ";
  line += message;
  line += '\n';
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace mamori::log
