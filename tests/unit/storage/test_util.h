// Helpers shared by the storage tests: a fresh temporary directory and record builders.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "mamori/core/record.h"

namespace mamori::storage::testing {

// A new empty directory, removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mamori-storage-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline constexpr std::int64_t kSecond = 1'000'000'000;
inline constexpr std::int64_t kT0 = 1'764'198'989 * kSecond;  // 2025-11-26T23:16:29Z

inline Record MakeRecord(std::int64_t event_time_ns, std::string host, std::string message,
                         int severity = 6, std::string app = "sshd") {
  Record r;
  r.raw.bytes = "<38>" + host + " " + app + ": " + message;
  r.raw.received_ns = event_time_ns + 1000;
  r.raw.listener = "syslog-udp";
  r.raw.transport = Transport::kUdp;
  r.raw.peer = "10.0.0.1:514";
  r.raw.original_size = r.raw.bytes.size();
  r.event.event_time_ns = event_time_ns;
  r.event.host = std::move(host);
  r.event.app = std::move(app);
  r.event.severity = severity;
  r.event.facility = 4;
  r.event.message = std::move(message);
  r.event.format = "rfc3164";
  return r;
}

}  // namespace mamori::storage::testing
