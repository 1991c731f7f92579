// Process log: one line per message on stderr, "2026-11-26T23:16:29.123Z info  collector: ...".
// Thread-safety: any thread; each line is written with one write(2).
#pragma once

#include <string_view>

namespace mamori::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Messages below the level are discarded. Default: kInfo.
void SetLevel(Level level);
bool SetLevel(std::string_view name);  // "debug", "info", "warn", "error"; false if unknown
bool Enabled(Level level);
void Write(Level level, std::string_view component, std::string_view message);

inline void Debug(std::string_view c, std::string_view m) { Write(Level::kDebug, c, m); }
inline void Info(std::string_view c, std::string_view m) { Write(Level::kInfo, c, m); }
inline void Warn(std::string_view c, std::string_view m) { Write(Level::kWarn, c, m); }
inline void Error(std::string_view c, std::string_view m) { Write(Level::kError, c, m); }

}  // namespace mamori::log
