// IncidentStore: incidents kept in their own RocksDB database, by default <data_dir>/incidents
// (beside the evidence store, not inside its column families: incidents are mutable records,
// evidence is append-only). The layout is documented in docs/incidents.md:
//   "i" + id (8 bytes, big-endian)  ->  EncodeIncident(incident)   (JSON, versioned)
//   "m:next_id"                     ->  decimal next id
//
// Thread-safety: Write is called from one thread at a time (the incident manager's). Get, List,
// ForEach and next_id may be called from any thread, concurrently with Write.
//
// A store opened read-only (IncidentStoreOptions::read_only) is a RocksDB secondary instance: it
// sees the data as of Open, never writes, and may be opened while the daemon writes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mamori/core/status.h"
#include "mamori/incidents/incident.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace mamori::storage {
class SideDb;
}  // namespace mamori::storage

namespace mamori::incidents {

struct IncidentStoreOptions {
  // Directory of the database. Created (with parents) when missing, unless read_only.
  // Default: "" (must be set).
  std::string dir;
  // Open as a read-only secondary instance (offline tools). NotFound when there is no
  // database in `dir`. Default: false.
  bool read_only = false;
  // fsync the WAL on every Write. Default: false (as StorageConfig::sync).
  bool sync = false;
};

struct ListOptions {
  // Only incidents with this status. Default: any.
  std::optional<IncidentStatus> status;
  // Only incidents of this severity. Default: any.
  std::optional<Severity> severity;
  // Only incidents of this rule id. Default: any.
  std::optional<std::string> rule_id;
  // Only incidents with an id below this (paging: pass the last id of the previous page).
  // Default: none.
  std::optional<std::uint64_t> before_id;
  // At most this many. Default: 100.
  std::size_t limit = 100;
};

// Builds ListOptions from request parameters (key, value), shared by `mamori incidents` and
// GET /api/v1/incidents. Keys: status (a StatusName), severity (a SeverityName), rule (a rule
// id), limit (1..1000), before or cursor (an id: the "next" of the previous page).
// Unknown keys, repeated keys and bad values are InvalidArgument naming the key.
Result<ListOptions> ListOptionsFromParams(
    const std::vector<std::pair<std::string, std::string>>& params);

class IncidentStore {
 public:
  // Opens (or creates) the database. The caller owns the result.
  static Result<std::unique_ptr<IncidentStore>> Open(const IncidentStoreOptions& options);
  ~IncidentStore();
  IncidentStore(const IncidentStore&) = delete;
  IncidentStore& operator=(const IncidentStore&) = delete;

  // Writes (inserts or replaces) the incidents and the next-id counter in one atomic batch.
  // REQUIRES: not read-only; one thread at a time; next_id > every written id.
  Status Write(const std::vector<const Incident*>& incidents, std::uint64_t next_id);

  // The id the next opened incident gets (>= 1).
  std::uint64_t next_id() const { return next_id_.load(std::memory_order_acquire); }

  Result<std::optional<Incident>> Get(std::uint64_t id) const;
  // Newest (highest id) first.
  Result<std::vector<Incident>> List(const ListOptions& options) const;
  // Calls fn for every incident in id order; stops at the first error (a record that does
  // not decode is Corruption).
  Status ForEach(const std::function<void(const Incident&)>& fn) const;

 private:
  explicit IncidentStore(const IncidentStoreOptions& options);
  Status OpenDb();
  Status LoadNextId();

  IncidentStoreOptions options_;
  std::unique_ptr<storage::SideDb> side_;  // owns the database (and a secondary's dir)
  rocksdb::DB* db_ = nullptr;              // side_->db()
  std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace mamori::incidents
