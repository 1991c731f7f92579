// BoundedQueue<T>: the queue between the network threads and the storage writer.
//
// Producers (I/O threads) push whole batches without blocking: TryPush fails when the queue
// already holds `capacity` items or more, and the producer decides what that means (a TCP session
// stops reading until there is room — back-pressure — and a UDP listener drops and counts).
// One batch may take the queue past capacity by its own size, so a large batch never starves.
//
// The consumer (one writer thread) blocks in PopAll until there is work, a timeout, or Close().
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

namespace mamori {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Appends the batch if the queue holds fewer than capacity() items and is not closed.
  // On success `batch` is moved from; on failure it is left untouched.
  bool TryPush(std::vector<T>& batch) {
    if (batch.empty()) return true;
    {
      std::lock_guard lock(mu_);
      if (closed_ || depth_ >= capacity_) return false;
      depth_ += batch.size();
      depth_atomic_.store(depth_, std::memory_order_relaxed);
      batches_.push_back(std::move(batch));
    }
    batch.clear();
    not_empty_.notify_one();
    return true;
  }

  // Waits up to `timeout` for items, then moves every queued batch into `out` (appending).
  // Returns the number of items moved. After Close(), returns what is left, then 0 at once.
  std::size_t PopAll(std::vector<std::vector<T>>* out, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    not_empty_.wait_for(lock, timeout, [&] { return depth_ > 0 || closed_; });
    std::size_t n = depth_;
    while (!batches_.empty()) {
      out->push_back(std::move(batches_.front()));
      batches_.pop_front();
    }
    depth_ = 0;
    depth_atomic_.store(0, std::memory_order_relaxed);
    return n;
  }

  // No more pushes succeed; a consumer blocked in PopAll wakes up.
  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    not_empty_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }
  // Items currently queued (for the depth gauge); lock-free, may be slightly stale.
  std::size_t depth() const { return depth_atomic_.load(std::memory_order_relaxed); }
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_;
  std::deque<std::vector<T>> batches_;  // GUARDED_BY(mu_)
  std::size_t depth_ = 0;               // GUARDED_BY(mu_)
  bool closed_ = false;                 // GUARDED_BY(mu_)
  std::atomic<std::size_t> depth_atomic_{0};
};

}  // namespace mamori
