#include "mamori/storage/evidence_service.h"

#include <fcntl.h>
#include <netdb.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "mamori/core/config.h"
#include "mamori/core/log.h"
#include "mamori/core/record.h"

namespace mamori::storage {
namespace {

prometheus::Counter& Errors(prometheus::Registry& reg, const char* op) {
  return prometheus::BuildCounter()
      .Name("mamori_evidence_errors_total")
      .Help("Failures of evidence maintenance (checkpoint, disposal, file, syslog).")
      .Register(reg)
      .Add({{"op", op}});
}

prometheus::Gauge& AddGauge(prometheus::Registry& reg, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(reg).Add({});
}

double Seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

std::string Hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "-";
  return buf;
}

}  // namespace

EvidenceService::EvidenceService(EvidenceStore& store, const SigningKey& key, Options options,
                                 const Clock& clock, prometheus::Registry& registry)
    : store_(store),
      key_(key),
      options_(std::move(options)),
      clock_(clock),
      checkpoints_total_(prometheus::BuildCounter()
                             .Name("mamori_evidence_checkpoints_total")
                             .Help("Signed checkpoints of the hash chain made.")
                             .Register(registry)
                             .Add({})),
      checkpoint_errors_(Errors(registry, "checkpoint")),
      disposal_errors_(Errors(registry, "disposal")),
      file_errors_(Errors(registry, "file")),
      syslog_errors_(Errors(registry, "syslog")),
      disposed_total_(prometheus::BuildCounter()
                          .Name("mamori_retention_disposed_records_total")
                          .Help("Records disposed of because their retention expired.")
                          .Register(registry)
                          .Add({})),
      checkpoint_seq_(prometheus::BuildGauge()
                          .Name("mamori_evidence_checkpoint_sequence")
                          .Help("Sequence number covered by the last signed checkpoint.")
                          .Register(registry)
                          .Add({})),
      checkpoint_time_(AddGauge(registry, "mamori_evidence_checkpoint_last_timestamp_seconds",
                                "Time the chain head was last confirmed covered by a signed "
                                "checkpoint (a checkpoint was made, or the head had not moved "
                                "since the last one), seconds since the Unix epoch.")),
      retention_time_(AddGauge(registry, "mamori_retention_last_run_timestamp_seconds",
                               "Time the retention check last completed, seconds since the "
                               "Unix epoch; 0 = not since start.")),
      chain_head_(AddGauge(registry, "mamori_evidence_chain_head_sequence",
                           "Sequence number of the newest record bound into the hash chain.")),
      size_bytes_(AddGauge(registry, "mamori_storage_size_bytes",
                           "Size of the evidence store on disk: SST files plus live WAL.")),
      compaction_pending_(AddGauge(registry, "mamori_storage_compaction_pending_bytes",
                                   "RocksDB estimate of bytes compaction still has to rewrite.")),
      memory_family_(prometheus::BuildGauge()
                         .Name("mamori_storage_memory_bytes")
                         .Help("Memory the evidence store holds, by component: memtables "
                               "(bounded, 64 MiB), block_cache (data and index blocks, bounded "
                               "by storage.block_cache_size), table_readers (outside the "
                               "cache).")
                         .Register(registry)),
      memory_memtables_(memory_family_.Add({{"component", "memtables"}})),
      memory_block_cache_(memory_family_.Add({{"component", "block_cache"}})),
      memory_table_readers_(memory_family_.Add({{"component", "table_readers"}})),
      verify_time_(AddGauge(registry, "mamori_evidence_verify_last_timestamp_seconds",
                            "Time of the last completed chain verification, seconds since the "
                            "Unix epoch; 0 = none since start.")),
      verify_success_family_(prometheus::BuildGauge()
                                 .Name("mamori_evidence_verify_last_success")
                                 .Help("1 if the last chain verification proved the chain "
                                       "intact, 0 if it failed.")
                                 .Register(registry)) {}

EvidenceService::~EvidenceService() {
  Stop();
  if (fd_ >= 0) ::close(fd_);
}

Status EvidenceService::OpenFile() {
  const std::string& path = options_.checkpoint_file;
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  fd_ = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    return Status::IOError("checkpoint file " + path + ": " + std::strerror(errno));
  }
  // A crash in the middle of an append leaves a line without its newline: drop it (the entry
  // is still in the store and is published again by nobody; verify needs complete lines).
  struct stat st;
  if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
    std::string buf(static_cast<std::size_t>(std::min<off_t>(st.st_size, 4096)), '\0');
    const off_t start = st.st_size - static_cast<off_t>(buf.size());
    if (::pread(fd_, buf.data(), buf.size(), start) == static_cast<ssize_t>(buf.size()) &&
        buf.back() != '\n') {
      const std::size_t nl = buf.rfind('\n');
      const off_t keep = nl == std::string::npos ? start : start + static_cast<off_t>(nl) + 1;
      log::Warn("evidence", "checkpoint file " + path + ": removing an incomplete last line");
      if (::ftruncate(fd_, keep) != 0) {
        return Status::IOError("checkpoint file " + path + ": cannot truncate the incomplete " +
                               "last line: " + std::strerror(errno));
      }
    }
  }
  return Status::Ok();
}

Status EvidenceService::Start() {
  if (Status s = store_.RegisterKey(key_.public_key()); !s.ok()) return s;
  if (Status s = OpenFile(); !s.ok()) return s;
  log::Info("evidence",
            "signing key " + key_.key_id() + ", checkpoints every " +
                std::to_string(options_.checkpoint_interval_ms) + " ms to the store and " +
                options_.checkpoint_file +
                (options_.checkpoint_syslog.empty() ? std::string()
                                                    : " and " + options_.checkpoint_syslog));
  UpdateGauges();
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void EvidenceService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) (void)CheckpointNow();
}

void EvidenceService::Run() {
  using Clock = std::chrono::steady_clock;
  const auto cp_every = std::chrono::milliseconds(options_.checkpoint_interval_ms);
  const auto ret_every = std::chrono::milliseconds(options_.retention_check_interval_ms);
  bool retention = false;
  for (auto a : options_.retention.max_age_ns) retention |= a > 0;
  auto next_cp = Clock::now() + cp_every;
  auto next_ret = Clock::now() + ret_every;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    const auto wake = retention ? std::min(next_cp, next_ret) : next_cp;
    cv_.wait_until(lock, wake, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    const auto now = Clock::now();
    if (retention && now >= next_ret) {
      (void)DisposeNow();
      next_ret = Clock::now() + ret_every;
    }
    if (now >= next_cp) {
      (void)CheckpointNow();
      UpdateGauges();
      next_cp = now + cp_every;
    }
    lock.lock();
  }
}

Status EvidenceService::CheckpointNow() {
  std::lock_guard<std::mutex> lock(op_mu_);
  std::optional<ExtraAnchor> audit;
  if (options_.audit_anchor) {
    auto a = options_.audit_anchor();
    if (a.ok()) {
      audit = *a;
    } else {
      checkpoint_errors_.Increment();
      log::Error("evidence", "checkpoint without the audit trail's head: " + a.status().ToString());
    }
  }
  auto r = store_.AddCheckpoint(key_, clock_.NowNs(), audit);
  if (!r.ok()) {
    checkpoint_errors_.Increment();
    log::Error("evidence", "checkpoint failed: " + r.status().ToString());
    return r.status();
  }
  // No new checkpoint: the head is already covered by the last one (or the chain is empty),
  // so the store is as checkpointed as it can be; an idle store must not look stale.
  if (!r->has_value()) {
    checkpoint_time_.Set(Seconds(clock_.NowNs()));
    return Status::Ok();
  }
  checkpoints_total_.Increment();
  checkpoint_seq_.Set(static_cast<double>((*r)->seq));
  checkpoint_time_.Set(Seconds((*r)->time_ns));
  Publish(**r);
  return Status::Ok();
}

Status EvidenceService::DisposeNow() {
  std::lock_guard<std::mutex> lock(op_mu_);
  auto r = store_.Dispose(options_.retention, key_, clock_.NowNs());
  if (!r.ok()) {
    disposal_errors_.Increment();
    log::Error("evidence", "disposal failed: " + r.status().ToString());
    return r.status();
  }
  for (const LogEntry& e : *r) {
    disposed_total_.Increment(static_cast<double>(e.count));
    log::Info("evidence", "disposed of " + std::to_string(e.count) + " expired records in seq " +
                              std::to_string(e.first) + ".." + std::to_string(e.last) +
                              " (disposal record " + std::to_string(e.id) + ")");
    Publish(e);
  }
  retention_time_.Set(Seconds(clock_.NowNs()));
  return Status::Ok();
}

void EvidenceService::UpdateGauges() {
  chain_head_.Set(static_cast<double>(store_.chain_head().seq));
  auto u = store_.disk_usage();
  if (!u.ok()) {
    log::Warn("evidence", "store size: " + u.status().ToString());
    return;
  }
  size_bytes_.Set(static_cast<double>(u->sst_bytes + u->wal_bytes));
  compaction_pending_.Set(static_cast<double>(u->compaction_pending_bytes));
  memory_memtables_.Set(static_cast<double>(u->memtable_bytes));
  memory_block_cache_.Set(static_cast<double>(u->block_cache_bytes));
  memory_table_readers_.Set(static_cast<double>(u->table_readers_bytes));
}

void EvidenceService::RecordVerify(bool ok, std::int64_t now_ns) {
  std::lock_guard<std::mutex> lock(verify_mu_);
  if (verify_success_ == nullptr) verify_success_ = &verify_success_family_.Add({});
  verify_success_->Set(ok ? 1 : 0);
  verify_time_.Set(Seconds(now_ns));
}

void EvidenceService::Publish(const LogEntry& e) {
  const std::string line = e.Line() + "\n";
  if (fd_ < 0 || ::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
      ::fdatasync(fd_) != 0) {
    file_errors_.Increment();
    log::Error("evidence", "checkpoint file " + options_.checkpoint_file +
                               ": cannot append: " + std::strerror(errno));
  }
  if (!options_.checkpoint_syslog.empty()) SendSyslog(e);
}

void EvidenceService::SendSyslog(const LogEntry& e) {
  const std::string& url = options_.checkpoint_syslog;
  const bool tcp = url.rfind("tcp://", 0) == 0;
  auto hp = ParseHostPort(std::string_view(url).substr(6));
  auto fail = [&](const std::string& why) {
    syslog_errors_.Increment();
    log::Warn("evidence", "checkpoint to syslog " + url + " failed: " + why);
  };
  if (!hp.ok()) return fail(hp.status().message());
  // RFC 5424: facility 13 (log audit), severity 6 (informational): PRI 110.
  const std::string msg = "<110>1 " + FormatRfc3339(e.time_ns) + " " + Hostname() + " mamori - " +
                          (e.kind == LogEntry::Kind::kCheckpoint ? "CHECKPOINT" : "DISPOSAL") +
                          " - " + e.Line();
  addrinfo hints{};
  hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(hp->host.c_str(), std::to_string(hp->port).c_str(), &hints, &res) != 0 ||
      res == nullptr) {
    return fail("cannot resolve " + hp->host);
  }
  const int fd = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
  bool ok = fd >= 0;
  if (ok) {
    timeval tv{2, 0};  // never let a slow collector stall the maintenance thread for long
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    ok = ::connect(fd, res->ai_addr, res->ai_addrlen) == 0;
    // TCP: octet-counting framing (RFC 6587), which any message content survives.
    const std::string frame = tcp ? std::to_string(msg.size()) + " " + msg : msg;
    ok = ok &&
         ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(frame.size());
  }
  const int err = errno;
  if (fd >= 0) ::close(fd);
  freeaddrinfo(res);
  if (!ok) fail(std::strerror(err));
}

}  // namespace mamori::storage
