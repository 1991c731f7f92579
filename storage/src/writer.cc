#include "mamori/storage/writer.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <iterator>

#include "mamori/core/log.h"

namespace mamori::storage {
namespace {

constexpr auto kPopTimeout = std::chrono::milliseconds(200);
// A trickle (fewer than kLingerBelow records popped) waits kLinger for more before it is stored:
// every Append has a fixed cost (a WAL write, a RocksDB write group, wake-ups of the rule thread)
// that a handful of records per batch would pay again and again.
constexpr std::size_t kLingerBelow = 1024;
constexpr auto kLinger = std::chrono::milliseconds(2);
constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::milliseconds(5000);

prometheus::Counter& MakeCounter(prometheus::Registry& reg, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(reg).Add({});
}
prometheus::Gauge& MakeGauge(prometheus::Registry& reg, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(reg).Add({});
}
prometheus::Histogram& MakeHistogram(prometheus::Registry& reg, const char* name, const char* help,
                                     prometheus::Histogram::BucketBoundaries b) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(reg).Add({}, std::move(b));
}

}  // namespace

Writer::Writer(EvidenceStore& store, BoundedQueue<Record>& queue, Options options,
               prometheus::Registry& registry)
    : store_(store),
      queue_(queue),
      options_{std::max<std::size_t>(options.batch_max, 1)},
      stored_total_(MakeCounter(registry, "mamori_events_stored_total",
                                "Records appended to the evidence store.")),
      write_errors_total_(MakeCounter(registry, "mamori_storage_write_errors_total",
                                      "Failed appends to the evidence store (each is retried).")),
      write_latency_(MakeHistogram(registry, "mamori_storage_write_latency_seconds",
                                   "Duration of one append (write batch) to the evidence store.",
                                   {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})),
      batch_records_(MakeHistogram(registry, "mamori_storage_batch_records",
                                   "Records per append to the evidence store.",
                                   {1, 4, 16, 64, 256, 1024, 4096, 8192, 16384, 65536})),
      queue_depth_(MakeGauge(registry, "mamori_pipeline_queue_depth",
                             "Records waiting in the pipeline queue for the storage writer.")),
      queue_capacity_(MakeGauge(registry, "mamori_pipeline_queue_capacity",
                                "Capacity of the pipeline queue, in records.")),
      next_sequence_(MakeGauge(registry, "mamori_storage_next_sequence",
                               "Sequence number the next stored record will get.")) {
  queue_capacity_.Set(static_cast<double>(queue.capacity()));
  next_sequence_.Set(static_cast<double>(store.next_seq()));
}

Writer::~Writer() {
  if (thread_.joinable()) {
    log::Error("storage", "Writer destroyed without Stop(); stopping now");
    queue_.Close();
    Stop();
  }
}

void Writer::SetOnStored(OnStored fn) { on_stored_ = std::move(fn); }

void Writer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Writer::Stop() {
  if (thread_.joinable()) thread_.join();
}

void Writer::Run() {
  pthread_setname_np(pthread_self(), "mamori-writer");  // top -H, perf: which thread is busy
  std::vector<std::vector<Record>> popped;
  for (;;) {
    // Read `closed` before popping: once it is true nothing more can be pushed, so a pop that
    // comes back empty after it means the queue is drained for good.
    const bool closed = queue_.closed();
    popped.clear();
    std::size_t n = queue_.PopAll(&popped, kPopTimeout);
    if (n > 0 && n < kLingerBelow && !closed) {
      std::this_thread::sleep_for(kLinger);
      n += queue_.PopAll(&popped, std::chrono::milliseconds(0));
    }
    queue_depth_.Set(static_cast<double>(queue_.depth()));
    if (n > 0) Process(popped);
    if (n == 0 && closed) break;
  }
}

void Writer::Process(std::vector<std::vector<Record>>& popped) {
  // The producers push many vectors (one per socket read, say). They are stored as they are, up
  // to batch_max records per Append: moving their records into one vector cost a move of every
  // ~400-byte record and the destruction of the moved-from one on this thread (~3 % of the
  // daemon's CPU). Only a vector that straddles the batch_max boundary is split (its tail moved).
  for (std::vector<Record>& batch : popped) {
    while (!batch.empty()) {
      const std::size_t room = options_.batch_max - pending_count_;
      if (batch.size() <= room) {
        pending_count_ += batch.size();
        pending_.push_back(std::move(batch));
        batch = std::vector<Record>();
      } else {
        std::vector<Record> tail(std::make_move_iterator(batch.begin() + room),
                                 std::make_move_iterator(batch.end()));
        batch.resize(room);
        pending_count_ += room;
        pending_.push_back(std::move(batch));
        batch = std::move(tail);
      }
      if (pending_count_ >= options_.batch_max) StoreBatch();
    }
  }
  if (pending_count_ > 0) StoreBatch();
}

void Writer::StoreBatch() {
  auto backoff = kFirstBackoff;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    Status s = store_.Append(std::span<std::vector<Record>>(pending_));
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (s.ok()) {
      write_latency_.Observe(took.count());
      batch_records_.Observe(static_cast<double>(pending_count_));
      stored_total_.Increment(static_cast<double>(pending_count_));
      next_sequence_.Set(static_cast<double>(store_.next_seq()));
      break;
    }
    write_errors_total_.Increment();
    log::Error("storage", "append of " + std::to_string(pending_count_) +
                              " records failed, retrying in " + std::to_string(backoff.count()) +
                              " ms: " + s.ToString());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  if (on_stored_) {
    for (std::vector<Record>& part : pending_) on_stored_(part);
  }
  pending_.clear();
  pending_count_ = 0;
}

}  // namespace mamori::storage
