// Outbox: the notifications not yet delivered, in their own RocksDB database (by default
// <data_dir>/notify, beside <data_dir>/incidents). A notification is written here before any
// attempt to send it, one entry per (notification, channel), and its entry is removed only after
// the channel's receiver acknowledged it. Entries given up (older than the maximum age) are moved
// to a "failed" list so that `mamori notifications list` can show them. Layout:
//   "p" + id (8 bytes, big-endian) + channel  ->  EncodeEntry(entry)   pending
//   "f" + id (8 bytes, big-endian) + channel  ->  EncodeEntry(entry)   given up (at most
//                                                  kMaxFailed kept; the oldest are dropped)
//   "m:next_id"                               ->  decimal next notification id
//   "m:instance"                              ->  random 64-bit hex made at creation: prefixes
//                                                 notification ids ("<instance>-<id>"), so that
//                                                 ids stay unique across data directories
//
// Thread-safety: thread-safe (RocksDB serializes writes); Add is called by one thread at a time
// (the notifier's enqueue path) because it advances next_id. A store opened read-only is a
// RocksDB secondary instance (see IncidentStore): it sees the data as of Open and never writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mamori/core/status.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace mamori::storage {
class SideDb;
}  // namespace mamori::storage

namespace mamori::notify {

// One notification for one channel.
struct Entry {
  std::uint64_t id = 0;  // notification id (shared by its channels); 1, 2, ...
  std::string channel;   // channel name
  std::uint64_t incident_id = 0;
  std::string payload;               // NotificationJson, serialized: what the webhook posts
  std::int64_t created_ns = 0;       // wall clock when raised
  std::uint32_t attempts = 0;        // failed attempts so far
  std::int64_t next_attempt_ns = 0;  // wall clock of the next attempt
  std::string last_error;            // of the latest failed attempt
  std::int64_t failed_ns = 0;        // when given up (failed list only)
};

// JSON, versioned ("v": 1); unknown keys are ignored when decoding.
std::string EncodeEntry(const Entry& e);
Result<Entry> DecodeEntry(std::string_view bytes);

struct OutboxOptions {
  std::string dir;         // required; created when missing (unless read_only)
  bool read_only = false;  // secondary instance for offline tools. Default: false
  bool sync = false;       // fsync the WAL on every write. Default: false
};

class Outbox {
 public:
  static constexpr std::size_t kMaxFailed = 10'000;

  // The caller owns the result.
  static Result<std::unique_ptr<Outbox>> Open(const OutboxOptions& options);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // This outbox's random instance id (16 hex digits; "" in a read-only outbox that has none).
  const std::string& instance() const { return instance_; }
  // The id the next notification gets.
  std::uint64_t next_id() const { return next_id_.load(std::memory_order_acquire); }
  // Writes the entries and next_id in one atomic batch. REQUIRES: next_id > every entry id.
  Status Add(const std::vector<Entry>& entries, std::uint64_t next_id);
  // Rewrites a pending entry (attempts, next attempt, last error).
  Status Update(const Entry& e);
  // Removes a pending entry (its receiver acknowledged it).
  Status Remove(const Entry& e);
  // Moves a pending entry to the failed list (e.failed_ns set by the caller).
  Status GiveUp(const Entry& e);
  // Calls fn for every pending (failed = false) or given-up entry, in id order.
  Status ForEach(bool failed, const std::function<void(const Entry&)>& fn) const;

 private:
  explicit Outbox(const OutboxOptions& options);
  Status OpenDb();

  OutboxOptions options_;
  std::unique_ptr<storage::SideDb> side_;  // owns the database (and a secondary's dir)
  rocksdb::DB* db_ = nullptr;              // side_->db()
  std::string instance_;
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<std::size_t> failed_count_{0};
};

}  // namespace mamori::notify
