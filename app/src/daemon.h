// Daemon: wires the modules of `mamori serve` together. Startup is an ordered list of small
// steps, each returning a Status (the first failure stops startup with a clear message);
// teardown runs in reverse and always runs for what was started.
//
// Shutdown order keeps the evidence promise: stop accepting and receiving, hand every complete
// frame already read to the queue, close the queue, let the writer store everything left, flush
// the store. Threads: Run() runs the io_context on `io_threads` threads plus the writer thread,
// and returns after SIGINT/SIGTERM (or RequestStop()) once everything is stored.
#pragma once

#include <memory>

#include "mamori/core/config.h"
#include "mamori/core/status.h"

namespace mamori::app {

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Opens the store, binds every listener and the HTTP API. On error nothing keeps running.
  Status Start();
  // Blocks until a stop is requested, then shuts down in order. REQUIRES: Start() succeeded.
  Status Run();
  // Thread-safe and async-signal-free: asks Run() to shut down.
  void RequestStop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mamori::app
