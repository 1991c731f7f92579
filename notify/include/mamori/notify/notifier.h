// Notifier: tells the CSIRT about incidents through the configured channels (webhook, syslog,
// mail), with a durable outbox (outbox.h) in between, so that a receiver that is down loses
// nothing and a restart loses nothing.
//
// Enqueue path (the daemon's detection code, on its rule thread): OnIncident decides
// (throttling per rule + group key, routing per channel by severity and tags), writes one outbox
// entry per routed channel to RocksDB, and wakes the channels' threads. It never touches the
// network: its cost is one RocksDB batch write when something is sent, nothing otherwise.
//
// Delivery: one thread per channel takes its due entries in order, sends each (channels.h),
// removes it from the outbox when the receiver acknowledged it, or schedules the next attempt
// (NotificationsConfig: retry_initial doubling to retry_max, with jitter). After a failure the
// whole channel pauses for the retry delay of its consecutive failures, so that a receiver that
// is down gets one probe per delay however many entries wait; the first success resumes all. An
// entry older than max_age is given up at its next attempt: logged as an error, counted, kept in
// the outbox's failed list. Pending entries are loaded again at Create and resumed by Start.
// Delivery is at-least-once: a crash between the receiver's acknowledgement and the removal repeats
// the entry after the restart, with the same notification id (receivers deduplicate on it).
//
// Metrics (registered at Create, one series per configured channel):
//   mamori_notifications_sent_total{channel}      entries delivered
//   mamori_notifications_failures_total{channel}  delivery attempts that failed (retried)
//   mamori_notifications_expired_total{channel}   entries given up after max_age
//   mamori_notifications_outbox_depth{channel}    entries pending
//   mamori_notifications_throttled_total          updates/reopens not notified (throttle)
//
// Thread-safety: OnIncident may be called from any thread (an internal mutex serializes it);
// Start and Stop from one controlling thread. Clock and registry are not owned and must outlive
// the notifier.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mamori/core/clock.h"
#include "mamori/core/config.h"
#include "mamori/core/status.h"
#include "mamori/incidents/incident.h"
#include "mamori/notify/channels.h"
#include "mamori/notify/message.h"
#include "mamori/notify/outbox.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace mamori::notify {

struct NotifierOptions {
  std::string dir;    // outbox database, e.g. <data_dir>/notify. Required
  bool sync = false;  // fsync outbox writes (as StorageConfig::sync). Default: false
};

class Notifier {
 public:
  // Opens the outbox and loads its pending entries (entries of channels no longer configured
  // are kept and reported in the log). Nothing is sent before Start. The caller owns the result.
  static Result<std::unique_ptr<Notifier>> Create(const NotificationsConfig& config,
                                                  const NotifierOptions& options,
                                                  const Clock& clock,
                                                  prometheus::Registry& registry);
  // Stops (see Stop).
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Whether any channel is configured (without one, OnIncident does nothing).
  bool enabled() const { return !channels_.empty(); }

  // Any thread: notifies about `incident` when throttling and routing let it through. The
  // entries are durable when this returns OK.
  Status OnIncident(const incidents::Incident& incident, Kind kind);

  // Starts one delivery thread per channel. REQUIRES: called once.
  void Start();
  // Stops the delivery threads; an attempt in flight is abandoned within ~100 ms and its entry
  // stays pending. Idempotent.
  void Stop();

  // Entries pending for the channel now (the outbox_depth gauge).
  std::size_t pending(const std::string& channel) const;

  // Replaces how a channel sends (tests). REQUIRES: before Start.
  void SetSenderForTest(const std::string& channel, std::unique_ptr<Sender> sender);

 private:
  struct Channel {
    NotificationChannelConfig config;
    std::unique_ptr<Sender> sender;
    // (next attempt, id) -> entry: the channel's schedule. Guarded by Notifier::mu_.
    std::map<std::pair<std::int64_t, std::uint64_t>, Entry> due;
    bool failing = false;  // the latest attempt failed (logs the first failure and recovery)
    // Consecutive failed attempts of the channel, and no attempt before `paused_until_ns`: a
    // dead receiver is probed with one entry per retry delay, not with every pending entry.
    std::uint32_t failures_in_row = 0;
    std::int64_t paused_until_ns = 0;
    prometheus::Counter* sent = nullptr;
    prometheus::Counter* failures = nullptr;
    prometheus::Counter* expired = nullptr;
    prometheus::Gauge* depth = nullptr;
    std::thread thread;
  };

  Notifier(const NotificationsConfig& config, const Clock& clock);
  void Run(Channel* ch);
  void Attempt(Channel* ch, Entry e);
  Channel* Find(const std::string& name) const;

  const NotificationsConfig config_;
  const Clock& clock_;
  std::unique_ptr<Outbox> outbox_;
  std::vector<std::unique_ptr<Channel>> channels_;
  prometheus::Counter* throttled_ = nullptr;

  mutable std::mutex mu_;  // guards the schedules, throttle_, rng_
  std::condition_variable cv_;
  Throttle throttle_;
  std::mt19937_64 rng_;
  std::atomic<bool> stop_{false};
  bool started_ = false;
};

}  // namespace mamori::notify
