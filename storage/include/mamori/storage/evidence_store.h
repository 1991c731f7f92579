// EvidenceStore: the append-only evidence log on RocksDB. Each record (raw bytes exactly as
// received, receive metadata and the parsed event) is stored under a sequence number assigned
// here: consecutive, starting at 1 and continuing across restarts. A time index and a host
// index make Search fast. Every record is bound into a SHA-256 hash chain (chain.h) in the
// same write batch; signed checkpoints and disposal records form the evidence log
// (evidence_log.h). The on-disk layout is documented in storage/FORMAT.md.
//
// Thread-safety: Append is called from one thread only (the writer). AddCheckpoint and
// Dispose are called from one thread only (the evidence maintenance thread, EvidenceService),
// which may differ from the writer. next_seq, chain_head, Get, Search and ReadEvidence may be
// called from any thread, concurrently with all of the above and with each other.
//
// A store opened read-only (StoreOptions::read_only) sees the data as of Open, never writes,
// and may be opened while the daemon holds the database open for writing.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mamori/core/record.h"
#include "mamori/core/status.h"
#include "mamori/storage/chain.h"
#include "mamori/storage/evidence_log.h"
#include "mamori/storage/query.h"
#include "mamori/storage/signing.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
class Snapshot;
}  // namespace rocksdb

namespace mamori::storage {

namespace internal {
class GroupBuilder;
}  // namespace internal

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
  // Memory of all memtables together (RocksDB db_write_buffer_size): past it, the largest is
  // flushed. The records CF's memtable is half of it, each index CF's a quarter. Default: 64 MiB.
  std::size_t memtable_bytes = 64 << 20;
  // Index entries one Search examines at most before it returns a page (possibly short, even
  // empty) with a cursor, so that a query with rare matches cannot occupy a thread for long.
  // About 1 s of work per million entries on a small machine. Default: 1,000,000.
  std::size_t max_scan_per_search = 1'000'000;
  // Bind every appended record into the hash chain (evidence.chain). Off only to measure the
  // chain's cost: unchained records fail verification. Default: true.
  bool chain = true;
  // Compression of SST files: LZ4 from the flush (L0) down and, for the bottommost level where
  // most data ends up, LZ4 (kLz4: flushed records files then move down without a rewrite) or
  // ZSTD level 1 (kZstd: about 20 % smaller, for a compaction that rewrites every record once).
  // kNone: tests grep files for plaintext. Default: kLz4 (config storage.compression).
  enum class Compression { kNone, kLz4, kZstd };
  Compression compression = Compression::kLz4;
};

// The last link of the hash chain: h_seq after record `seq` (seq 0: the empty chain).
struct ChainHead {
  std::uint64_t seq = 0;
  Hash hash{};
};

// Disk and memory usage of the store as RocksDB reports it (for mamori_storage_size_bytes,
// mamori_storage_compaction_pending_bytes and mamori_storage_memory_bytes).
struct DiskUsage {
  // rocksdb.total-sst-files-size summed over every column family: every SST file, including
  // obsolete ones still held by an open iterator or snapshot (what the files take on disk).
  std::uint64_t sst_bytes = 0;
  // Live WAL files (GetSortedWalFiles, alive ones): writes not yet flushed to SST files.
  std::uint64_t wal_bytes = 0;
  // rocksdb.estimate-pending-compaction-bytes summed over every column family.
  std::uint64_t compaction_pending_bytes = 0;
  // Memory (mamori_storage_memory_bytes): memtables (rocksdb.cur-size-all-mem-tables, bounded
  // by StoreOptions::memtable_bytes), the block cache in use (data and index blocks, bounded by
  // block_cache_bytes) and what the open table readers hold outside it.
  std::uint64_t memtable_bytes = 0;
  std::uint64_t block_cache_bytes = 0;
  std::uint64_t table_readers_bytes = 0;
};

// Maximum age per information class, by receive time. 0 = keep forever.
struct RetentionPolicy {
  std::array<std::int64_t, 3> max_age_ns{};  // class I, II, III
  // Records per disposal (one write batch and one disposal record). Default: 100,000.
  std::size_t max_records_per_disposal = 100'000;
};

// One position of the chain as ReadEvidence sees it: a stored record, or the tombstone of a
// disposed one.
struct ChainItem {
  std::uint64_t seq = 0;
  bool disposed = false;
  // Stored record (disposed == false). decode_status is not OK when the value is unreadable;
  // then `record` is unspecified.
  Status decode_status;
  Record record;
  std::string salt;  // chain salt (empty if the record is not chained)
  // The stored chain hash h_seq (record extension or tombstone). has_hash false: not chained.
  bool has_hash = false;
  Hash hash{};
  // Tombstone (disposed == true): the record digest and the id of its disposal record.
  Hash digest{};
  std::uint64_t disposal_id = 0;
};

// Store-wide evidence state, read in the same consistent view as the chain items.
struct EvidenceView {
  std::vector<std::string> entries;  // evidence log lines, by id
  std::string public_key_pem;        // "" when no key was ever registered
  std::uint64_t next_seq = 1;
  ChainHead head;  // meta chain_head
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
  // The same for the records of several vectors, in order, as one batch (the writer thread
  // stores what the producers pushed without moving it into one vector first).
  Status Append(std::span<std::vector<Record>> parts);

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

  // The current chain head (the last appended record). Any thread.
  ChainHead chain_head() const;

  // Registers the public key of the store's signing key in meta on first use; afterwards
  // InvalidArgument when `key` is not the registered key (the key file was replaced).
  // REQUIRES: not read-only.
  Status RegisterKey(const PublicKey& key);

  // Signs a checkpoint of the current chain head and stores it (synced, after syncing the WAL
  // so that the records it covers are durable). With `audit` the checkpoint (v2) also signs
  // that head of the audit trail, which the caller must have made durable. Returns nullopt when
  // the chain is empty, or when neither the head nor `audit` changed since the last checkpoint.
  // REQUIRES: not read-only; one maintenance thread.
  Result<std::optional<LogEntry>> AddCheckpoint(
      const SigningKey& key, std::int64_t now_ns,
      const std::optional<ExtraAnchor>& audit = std::nullopt);

  // Disposes of every record older than its class's maximum age: deletes the record and its
  // index entries, leaves a tombstone (digest and chain hash, so the chain still verifies)
  // and a signed disposal record, in one atomic batch per max_records_per_disposal records;
  // then flushes every column family, force-compacts the affected ranges to the bottommost
  // level and purges obsolete files, so that no copy remains in SST or WAL files. Returns the
  // disposal records written (none when nothing expired).
  // REQUIRES: not read-only; one maintenance thread.
  Result<std::vector<LogEntry>> Dispose(const RetentionPolicy& policy, const SigningKey& key,
                                        std::int64_t now_ns);

  // Reads, in one consistent view, the store-wide evidence state into *view and then every
  // chain position with from <= seq <= to (to = 0: to the end), in seq order, calling fn for
  // each until it returns false. Any thread.
  Status ReadEvidence(std::uint64_t from, std::uint64_t to, EvidenceView* view,
                      const std::function<bool(const ChainItem&)>& fn) const;

  // Disk usage from RocksDB properties (a few property reads and a WAL directory listing: meant
  // for a periodic gauge update, not the write path). Any thread.
  Result<DiskUsage> disk_usage() const;

  const StoreOptions& options() const { return options_; }

 private:
  struct Handles;
  explicit EvidenceStore(const StoreOptions& options);
  Status OpenDb();
  void CloseDb();
  Status LoadNextSeq();
  Status Scan(const Query& q, const rocksdb::Snapshot* snap, SearchPage* page) const;
  Status PutIndexEntries(const std::vector<Record*>& records);

  StoreOptions options_;
  rocksdb::DB* db_ = nullptr;
  std::unique_ptr<Handles> cf_;
  std::atomic<std::uint64_t> next_seq_{1};
  // Reused by Append (writer thread only) to avoid allocations per batch.
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  std::string encode_buf_;
  std::string key_buf_;
  std::string salt_buf_;
  std::unique_ptr<internal::GroupBuilder> group_;  // records of the batch, one group at a time
  std::vector<Record*> records_;                   // the records of a batch, in seq order (Append)
  std::vector<std::uint32_t> order_;     // records of a batch in index order (PutIndexEntries)
  std::vector<std::uint64_t> seqs_;      // the seqs of one index entry
  std::vector<std::uint32_t> slots_;     // per record of a batch: its host's bucket
  std::unique_ptr<ChainHasher> hasher_;  // writer thread

  mutable std::mutex head_mu_;
  ChainHead head_;  // GUARDED_BY(head_mu_); written by Append

  // Maintenance thread only.
  std::uint64_t next_entry_id_ = 1;
  std::uint64_t last_checkpoint_seq_ = 0;
  std::optional<ExtraAnchor> last_checkpoint_audit_;  // of the last checkpoint

  Status LoadEvidenceState();
  Status PurgeDisposed(std::uint64_t first, std::uint64_t last);
};

}  // namespace mamori::storage
