// EvidenceService: the evidence maintenance thread of the daemon. Every checkpoint_interval it
// signs a checkpoint of the chain head (only when the head moved since the last one) and
// publishes it three times: in the store, appended to the checkpoint file outside the store
// (fdatasync'ed), and, when configured, as an RFC 5424 message to a syslog destination. Every
// retention check interval it disposes of expired records (EvidenceStore::Dispose) and
// publishes the signed disposal records the same way.
//
// Metrics (registered in the constructor): mamori_evidence_checkpoints_total,
// mamori_evidence_errors_total{op="checkpoint|disposal|file|syslog"},
// mamori_evidence_checkpoint_sequence, mamori_retention_disposed_records_total,
// mamori_evidence_checkpoint_last_timestamp_seconds, mamori_retention_last_run_timestamp_seconds,
// mamori_evidence_verify_last_timestamp_seconds, mamori_evidence_verify_last_success (the
// series appears with the first verification), and the gauges UpdateGauges sets:
// mamori_evidence_chain_head_sequence, mamori_storage_size_bytes,
// mamori_storage_compaction_pending_bytes, mamori_storage_memory_bytes{component}. The gauges
// are updated by Start and on every
// checkpoint tick, never on the write path.
//
// With Options::audit_anchor set, every checkpoint also signs the head of the audit trail
// (a v2 line, storage/FORMAT.md), and a checkpoint is also made when only that head moved.
//
// Thread-safety: construct, Start and Stop from one controlling thread. CheckpointNow and
// DisposeNow may be called from any thread (they serialize). The store, key, clock and
// registry are not owned and must outlive the service.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "mamori/core/clock.h"
#include "mamori/core/status.h"
#include "mamori/storage/evidence_store.h"
#include "mamori/storage/signing.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace mamori::storage {

class EvidenceService {
 public:
  struct Options {
    // Default: 10 s (evidence.checkpoint_interval).
    std::int64_t checkpoint_interval_ms = 10'000;
    // The append-only file outside the store. REQUIRED (the daemon defaults it to
    // <data_dir>/checkpoints.log).
    std::string checkpoint_file;
    // "udp://HOST:PORT", "tcp://HOST:PORT" or "" (off). Default: off.
    std::string checkpoint_syslog;
    // Retention; no class with a maximum age = no disposal. Default: keep everything.
    RetentionPolicy retention;
    std::int64_t retention_check_interval_ms = 3'600'000;  // Default: 1 h
    // The audit trail's current head, made durable, to sign with every checkpoint. Called
    // under the service's operation lock from the maintenance thread, or from the thread
    // calling CheckpointNow / Stop (the final checkpoint): it must be thread-safe and whatever
    // it reads must outlive Stop(). An error is logged and counted
    // (mamori_evidence_errors_total{op="checkpoint"}) and that checkpoint is made without
    // the audit head. Default: none (v1 checkpoints).
    std::function<Result<ExtraAnchor>()> audit_anchor;
  };

  EvidenceService(EvidenceStore& store, const SigningKey& key, Options options, const Clock& clock,
                  prometheus::Registry& registry);
  ~EvidenceService();  // calls Stop()
  EvidenceService(const EvidenceService&) = delete;
  EvidenceService& operator=(const EvidenceService&) = delete;

  // Registers the key in the store (refusing a key that is not the store's), opens the
  // checkpoint file (removing an incomplete last line left by a crash) and starts the thread.
  Status Start();
  // Stops the thread and makes a final checkpoint. Idempotent.
  void Stop();

  // One checkpoint now (nothing when the head did not move). Publishing failures (file,
  // syslog) are logged and counted; the returned Status is the store's.
  Status CheckpointNow();
  // One retention check now.
  Status DisposeNow();

  // Sets the periodic gauges: chain head, store size (SST files + live WAL) and compaction
  // backlog. Called by Start and on every checkpoint tick; any thread.
  void UpdateGauges();

  // Records the result of a chain verification (GET /api/v1/verify): the verify gauges.
  // ok = the verification proved the examined range intact; anything else (a break, a bad
  // signature, an unreadable store or checkpoint file) counts as a failure. Any thread.
  void RecordVerify(bool ok, std::int64_t now_ns);

 private:
  void Run();
  void Publish(const LogEntry& e);
  Status OpenFile();
  void SendSyslog(const LogEntry& e);

  EvidenceStore& store_;
  const SigningKey& key_;
  const Options options_;
  const Clock& clock_;
  int fd_ = -1;
  std::mutex op_mu_;  // serializes CheckpointNow / DisposeNow
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;

  prometheus::Counter& checkpoints_total_;
  prometheus::Counter& checkpoint_errors_;
  prometheus::Counter& disposal_errors_;
  prometheus::Counter& file_errors_;
  prometheus::Counter& syslog_errors_;
  prometheus::Counter& disposed_total_;
  prometheus::Gauge& checkpoint_seq_;
  prometheus::Gauge& checkpoint_time_;
  prometheus::Gauge& retention_time_;
  prometheus::Gauge& chain_head_;
  prometheus::Gauge& size_bytes_;
  prometheus::Gauge& compaction_pending_;
  prometheus::Family<prometheus::Gauge>& memory_family_;
  prometheus::Gauge& memory_memtables_;
  prometheus::Gauge& memory_block_cache_;
  prometheus::Gauge& memory_table_readers_;
  prometheus::Gauge& verify_time_;
  prometheus::Family<prometheus::Gauge>& verify_success_family_;
  std::mutex verify_mu_;
  prometheus::Gauge* verify_success_ = nullptr;  // GUARDED_BY(verify_mu_); first verify adds it
};

}  // namespace mamori::storage
