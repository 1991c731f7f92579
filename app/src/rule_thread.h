// RuleThread: runs the rule engine on its own thread, behind the storage writer.
//
// The writer thread stores a batch, then hands it over (Push) and goes on storing the next one
// while this thread runs the rules over the stored batch: storage and detection overlap instead
// of taking turns on one thread. Alerts still cite durable evidence, because only stored batches
// are pushed, in the order they were stored.
//
// The hand-over is bounded: Push waits while `capacity` records or more are waiting for the
// rules, so a slow rule set slows the writer, which fills the pipeline queue, which stops the TCP
// readers (back-pressure all the way back to the sender; nothing is dropped).
//
// Metrics: mamori_rules_queue_depth (records stored and waiting for the rule engine),
// mamori_rules_queue_capacity.
//
// Threads: Push from the writer thread only; Start and Stop from the controlling thread. The
// callback runs on this object's thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "mamori/core/record.h"

namespace prometheus {
class Gauge;
class Registry;
}  // namespace prometheus

namespace mamori::app {

class RuleThread {
 public:
  using Fn = std::function<void(std::vector<Record>&)>;
  RuleThread(std::size_t capacity, Fn fn, prometheus::Registry& registry);
  RuleThread(const RuleThread&) = delete;
  RuleThread& operator=(const RuleThread&) = delete;
  ~RuleThread();  // Stop()

  void Start();
  // Takes the batch (moved from; left empty). Waits while the thread is `capacity` records
  // behind. After Stop() (or before Start()), runs the callback inline.
  void Push(std::vector<Record>& batch);
  // Runs every batch already pushed, then joins the thread. Idempotent.
  void Stop();

 private:
  void Run();

  const std::size_t capacity_;
  const Fn fn_;
  prometheus::Gauge& depth_gauge_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<std::vector<Record>> batches_;  // GUARDED_BY(mu_)
  std::size_t depth_ = 0;                    // GUARDED_BY(mu_)
  bool running_ = false;                     // GUARDED_BY(mu_)
  bool closed_ = false;                      // GUARDED_BY(mu_)
};

}  // namespace mamori::app
