#pragma once
// Threads that run queued audits: each claims the oldest pending audit from
// the store (a lease, renewed while it runs), runs it with an AuditRunner,
// and claims the next. `herald serve` runs HERALD_WORKERS of them in
// process; `herald worker` runs the same pool as its own process.
//
// Cancellation: a watchdog per running audit renews the lease and reads the
// job every `watch_interval`; a lost lease or a terminal job (cancelled
// through the API, from any process) stops the run within that interval.
//
// Start/Stop from one thread; everything else is internal.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "worker/audit_runner.h"

namespace herald::store {
class JobStore;
struct AuditClaim;
}  // namespace herald::store

namespace herald::worker {

// Runs one claimed audit to its end. `cancelled` turns true when the run
// must stop (cancelled, lease lost, pool stopping); Run returns soon after.
using AuditRun = std::function<void(const jobs::Job& job, const std::function<bool()>& cancelled)>;

struct PoolOptions {
  int threads = 2;                                // HERALD_WORKERS
  std::string worker_id;                          // unique per process
  std::chrono::milliseconds lease{30000};         // a dead worker's audit waits this long
  std::chrono::milliseconds idle_poll{250};       // queue polling when idle
  std::chrono::milliseconds watch_interval{300};  // cancel detection and renewal
  int max_attempts = 3;                           // claims before giving up on an audit
  std::chrono::milliseconds store_retry{1000};    // after the queue could not be read
  RunnerOptions runner;
  // Empty: an AuditRunner with `runner` (crawls the site). Tests run their own.
  AuditRun run{};
};

class WorkerPool {
 public:
  // `store` and `publisher` must outlive the pool.
  WorkerPool(store::JobStore& store, publish::Publisher& publisher, PoolOptions options);
  ~WorkerPool();

  void Start();
  // Asks every thread to stop (a running audit is abandoned: its lease
  // expires and another worker takes it over) and joins them.
  void Stop();
  // Wakes idle threads to look at the queue now (a new audit was created).
  void Poke();

 private:
  void Loop(int index);
  void RunClaimed(const store::AuditClaim& claim, const std::string& worker);
  uint64_t Pokes();
  // Sleeps up to `d`, less if poked since Pokes() said `seen`; false when
  // stopping.
  bool Sleep(std::chrono::milliseconds d, uint64_t seen);

  store::JobStore& store_;
  publish::Publisher& publisher_;
  PoolOptions options_;
  std::atomic<bool> stopping_{false};  // written under mu_
  std::mutex mu_;
  std::condition_variable wake_;
  uint64_t pokes_ = 0;  // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace herald::worker
