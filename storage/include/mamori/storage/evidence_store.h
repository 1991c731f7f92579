// EvidenceStore: the append-only evidence log on RocksDB. Each record (raw bytes exactly as
// received, receive metadata and the parsed event) is stored under a sequence number assigned
// here: consecutive, starting at 1 and continuing across restarts. A time index and a host
// index make Search fast. The on-disk layout is documented in storage/FORMAT.md.
//
// Thread-safety: Append is called from one thread only (the writer). next_seq, Get and Search
// may be called from any thread, concurrently with Append and with each other.
//
// A store opened read-only (StoreOptions::read_only) sees the data as of Open, never writes,
// and may be opened while the daemon holds the database open for writing.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mamori/core/record.h"
#include "mamori/core/status.h"
#include "mamori/storage/query.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
class Snapshot;
}  // namespace rocksdb

namespace mamori::storage {

struct StoreOptions {
  // Data directory. Created (with parents) when missing, unless read_only. Default: "" (must
  // be set).
  std::string dir;
  // Open without writing anything: for offline tools (`mamori search`) that may run while the
  // daemon has the store open. Fails with NotFound when there is no store in `dir`.
  // Default: false.
  bool read_only = false;
  // fsync the WAL after every Append. Off: an appended batch survives a process crash but not
  // a power loss. Default: false.
  bool sync = false;
  // LRU block cache shared by all column families. Default: 64 MiB.
  std::size_t block_cache_bytes = 64 << 20;
  // Index entries one Search examines at most before it returns a page (possibly short, even
  // empty) with a cursor, so that a query with rare matches cannot occupy a thread for long.
  // About 1 s of work per million entries on a small machine. Default: 1,000,000.
  std::size_t max_scan_per_search = 1'000'000;
};

class EvidenceStore {
 public:
  // Opens (or creates) the store in options.dir. On success the caller owns the store;
  // destroying it closes the database (call Flush first for a clean shutdown).
  static Result<std::unique_ptr<EvidenceStore>> Open(const StoreOptions& options);

  EvidenceStore(const EvidenceStore&) = delete;
  EvidenceStore& operator=(const EvidenceStore&) = delete;
  ~EvidenceStore();

  // Assigns consecutive sequence numbers starting at next_seq() to records[i].seq and writes
  // the records, their index entries and the new next-seq counter in one atomic batch: after a
  // crash either all of them are there or none. On failure nothing is stored, next_seq() is
  // unchanged and the call may simply be retried. An empty vector is a no-op.
  // REQUIRES: called from a single thread; the store is not read-only.
  Status Append(std::vector<Record>& records);

  // The sequence number the next appended record will get (>= 1). Any thread.
  std::uint64_t next_seq() const { return next_seq_.load(std::memory_order_acquire); }

  // The record with that sequence number, or nullopt if there is none. Corruption when the
  // stored value cannot be decoded. Any thread.
  Result<std::optional<Record>> Get(std::uint64_t seq) const;

  // One page of records matching `q`, newest first (see query.h). InvalidArgument on a bad
  // query (the message names the problem). The work per call is bounded: at most
  // StoreOptions::max_scan_per_search index entries are examined before the page is returned
  // with a cursor.
  // Any thread.
  Result<SearchPage> Search(const Query& q) const;

  // Writes memtables to disk and syncs the WAL (clean shutdown). No-op when read-only.
  Status Flush();

  const StoreOptions& options() const { return options_; }

 private:
  struct Handles;
  explicit EvidenceStore(const StoreOptions& options);
  Status OpenDb();
  void CloseDb();
  Status LoadNextSeq();
  Status Scan(const Query& q, const rocksdb::Snapshot* snap, SearchPage* page) const;

  StoreOptions options_;
  rocksdb::DB* db_ = nullptr;
  std::unique_ptr<Handles> cf_;
  std::atomic<std::uint64_t> next_seq_{1};
  // Reused by Append (writer thread only) to avoid allocations per batch.
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  std::string encode_buf_;
  std::string key_buf_;
};

}  // namespace mamori::storage
