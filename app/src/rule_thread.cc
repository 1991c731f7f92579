#include "rule_thread.h"

#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <pthread.h>

#include <utility>

namespace mamori::app {

RuleThread::RuleThread(std::size_t capacity, Fn fn, prometheus::Registry& registry)
    : capacity_(capacity == 0 ? 1 : capacity),
      fn_(std::move(fn)),
      depth_gauge_(prometheus::BuildGauge()
                       .Name("mamori_rules_queue_depth")
                       .Help("Stored records waiting for the rule engine.")
                       .Register(registry)
                       .Add({})) {
  prometheus::BuildGauge()
      .Name("mamori_rules_queue_capacity")
      .Help("Stored records the rule engine may lag behind the storage writer.")
      .Register(registry)
      .Add({})
      .Set(static_cast<double>(capacity_));
}

RuleThread::~RuleThread() { Stop(); }

void RuleThread::Start() {
  std::lock_guard lock(mu_);
  if (running_ || closed_) return;
  running_ = true;
  thread_ = std::thread([this] { Run(); });
}

void RuleThread::Push(std::vector<Record>& batch) {
  if (batch.empty()) return;
  {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return depth_ < capacity_ || !running_ || closed_; });
    if (running_ && !closed_) {
      depth_ += batch.size();
      depth_gauge_.Set(static_cast<double>(depth_));
      batches_.push_back(std::move(batch));
      batch = std::vector<Record>();
      lock.unlock();
      not_empty_.notify_one();
      return;
    }
  }
  fn_(batch);  // no thread (not started, or stopped): run the rules on the caller's thread
  batch.clear();
}

void RuleThread::Run() {
  pthread_setname_np(pthread_self(), "mamori-rules");
  std::deque<std::vector<Record>> work;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      not_empty_.wait(lock, [&] { return depth_ > 0 || closed_; });
      if (depth_ == 0 && closed_) return;
      work.swap(batches_);
    }
    for (std::vector<Record>& b : work) {
      const std::size_t n = b.size();
      fn_(b);
      std::vector<Record>().swap(b);  // frees the records here, not on the writer thread
      std::lock_guard lock(mu_);
      depth_ -= n;
      depth_gauge_.Set(static_cast<double>(depth_));
      not_full_.notify_one();
    }
    work.clear();
  }
}

void RuleThread::Stop() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace mamori::app
