// SideDb: a module's own small RocksDB database beside the evidence store — the incidents
// (<data_dir>/incidents), the notification outbox (<data_dir>/notify) and the audit trail
// (<data_dir>/audit). The daemon opens it read-write (created if missing); read-only tools
// (`mamori incidents --data-dir`, `mamori notifications list`, `mamori audit`) open it as a
// RocksDB secondary instance in a temporary directory, so that they can run beside the daemon,
// which holds the primary's lock.
//
// Threads: the rocksdb::DB it hands out is thread-safe as RocksDB's is; Open and the destructor
// are not concurrent with any use. Ownership: the SideDb owns the database and the secondary's
// temporary directory; the destructor closes the one and removes the other.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mamori/core/status.h"

namespace rocksdb {
class DB;
class Status;
}  // namespace rocksdb

namespace mamori::storage {

class SideDb {
 public:
  // Opens `dir`. `label` names the directory in messages ("incidents", "audit"), `what` the
  // database ("incident database", "audit log"). Read-only: NotFound when `dir` holds no database
  // (nothing is created); the secondary catches up with the primary once (retried a few times:
  // the primary may be flushing). Read-write: creates `dir` and the database if missing.
  static Result<std::unique_ptr<SideDb>> Open(const std::string& dir, bool read_only,
                                              std::string_view label, std::string_view what);
  ~SideDb();
  SideDb(const SideDb&) = delete;
  SideDb& operator=(const SideDb&) = delete;

  rocksdb::DB* db() const { return db_; }

 private:
  SideDb() = default;
  rocksdb::DB* db_ = nullptr;
  std::string secondary_dir_;  // read-only: the secondary instance's own directory
};

// A RocksDB status as a mamori Status: "<what>: <rocksdb message>", with the code mapped
// (Corruption, NotFound, InvalidArgument, Busy/TryAgain/Incomplete = Unavailable, else IOError).
Status FromRocksStatus(const rocksdb::Status& s, std::string_view what);

}  // namespace mamori::storage
