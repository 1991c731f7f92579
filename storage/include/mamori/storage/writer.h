// Writer: the storage writer thread. It drains the pipeline queue (when it pops fewer than 1024
// records it waits 2 ms for more, so that a trickle is stored in batches rather than a few
// records at a time), gathers what it pops into batches of at most Options::batch_max records
// (the producers' vectors as they are), appends each batch to the EvidenceStore, and then hands
// the stored records (seq filled in) to the on_stored callback, vector by vector, on the writer
// thread.
//
// A failed Append is logged, counted (mamori_storage_write_errors_total) and retried with
// backoff (100 ms doubling up to 5 s) until it succeeds: records are never discarded. While it
// retries, the queue fills and producers feel back-pressure.
//
// Metrics (registered once in the constructor on the given registry):
//   mamori_events_stored_total, mamori_storage_write_errors_total,
//   mamori_storage_write_latency_seconds (Append duration), mamori_storage_batch_records,
//   mamori_pipeline_queue_depth, mamori_pipeline_queue_capacity, mamori_storage_next_sequence.
//
// Thread-safety: construct, SetOnStored, Start and Stop from one controlling thread. The store,
// queue and registry are not owned and must outlive the Writer.
#pragma once

#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include "mamori/core/bounded_queue.h"
#include "mamori/core/record.h"
#include "mamori/storage/evidence_store.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace mamori::storage {

class Writer {
 public:
  struct Options {
    // Records per Append (one RocksDB write batch). Default: 8192 (StorageConfig).
    std::size_t batch_max = 8192;
  };
  using OnStored = std::function<void(std::vector<Record>&)>;

  Writer(EvidenceStore& store, BoundedQueue<Record>& queue, Options options,
         prometheus::Registry& registry);
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  // REQUIRES: Stop() was called if Start() was.
  ~Writer();

  // Called with the records of every stored batch, on the writer thread, after the batch is
  // durable in the store (as durable as StoreOptions::sync makes it): once per vector the
  // producers pushed (a batch is one or more of them, up to batch_max records; a vector that did
  // not fit is split), in seq order. It may modify or move from the records.
  // REQUIRES: before Start().
  void SetOnStored(OnStored fn);

  // Starts the writer thread. REQUIRES: called at most once.
  void Start();

  // Drains everything left in the queue, stores it, and joins the thread.
  // REQUIRES: queue.Close() was called (otherwise Stop waits until it is).
  void Stop();

 private:
  void Run();
  void Process(std::vector<std::vector<Record>>& popped);
  void StoreBatch();

  EvidenceStore& store_;
  BoundedQueue<Record>& queue_;
  const Options options_;
  OnStored on_stored_;
  std::thread thread_;
  // Writer thread only: the vectors of the next Append, pending_count_ records in all.
  std::vector<std::vector<Record>> pending_;
  std::size_t pending_count_ = 0;

  prometheus::Counter& stored_total_;
  prometheus::Counter& write_errors_total_;
  prometheus::Histogram& write_latency_;
  prometheus::Histogram& batch_records_;
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& queue_capacity_;
  prometheus::Gauge& next_sequence_;
};

}  // namespace mamori::storage
