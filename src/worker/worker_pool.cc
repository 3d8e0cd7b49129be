#include "worker/worker_pool.h"

#include "common/log.h"
#include "publish/publisher.h"
#include "store/job_store.h"

namespace herald::worker {

WorkerPool::WorkerPool(store::JobStore& store, publish::Publisher& publisher, PoolOptions options)
    : store_(store), publisher_(publisher), options_(std::move(options)) {}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this, i] { Loop(i); });
  if (options_.threads > 0)
    log::Info("audit workers: {} thread(s) as {}", options_.threads, options_.worker_id);
}

void WorkerPool::Stop() {
  {
    // Under the lock: a thread between checking stopping_ and waiting would
    // otherwise miss the wake-up and sleep its whole idle_poll.
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void WorkerPool::Poke() {
  {
    // Counted, so a poke while a thread is still asking the store is not lost.
    std::lock_guard lock(mu_);
    ++pokes_;
  }
  wake_.notify_all();
}

uint64_t WorkerPool::Pokes() {
  std::lock_guard lock(mu_);
  return pokes_;
}

bool WorkerPool::Sleep(std::chrono::milliseconds d, uint64_t seen) {
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, d, [&] { return stopping_.load() || pokes_ != seen; });
  return !stopping_;
}

void WorkerPool::Loop(int index) {
  const std::string worker = options_.worker_id + "/" + std::to_string(index);
  while (!stopping_) {
    const uint64_t pokes = Pokes();
    auto claim = store_.ClaimAudit(worker, options_.lease.count());
    if (!claim) {
      log::Warn("audit worker {}: cannot read the queue: {}", worker, Describe(claim.error()));
      if (!Sleep(options_.store_retry, pokes)) return;
      continue;
    }
    if (!*claim) {
      if (!Sleep(options_.idle_poll, pokes)) return;
      continue;
    }
    store::AuditClaim c = std::move(**claim);
    if (c.attempt > options_.max_attempts) {
      jobs::ProgressUpdate failed;
      failed.status = jobs::JobStatus::kFailed;
      failed.error_message = "the audit was interrupted " + std::to_string(c.attempt - 1) +
                             " times (its worker stopped); giving up";
      (void)publisher_.Update(c.job.id, failed);
      continue;
    }
    if (c.attempt > 1)
      log::Warn("audit {}: taken over by {} (attempt {})", c.job.id, worker, c.attempt);
    // The claim is ours; tell it before starting so a second claim can't.
    (void)store_.RenewLease(c.job.id, worker, options_.lease.count());
    RunClaimed(c, worker);
  }
}

void WorkerPool::RunClaimed(const store::AuditClaim& claim, const std::string& worker) {
  const int64_t id = claim.job.id;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> finished{false};
  std::mutex watch_mu;
  std::condition_variable watch_cv;

  // The watchdog: renew the lease, notice cancellation (or a takeover).
  std::thread watchdog([&] {
    auto next_renew = std::chrono::steady_clock::now() + options_.lease / 3;
    std::unique_lock lock(watch_mu);
    while (!finished) {
      watch_cv.wait_for(lock, options_.watch_interval, [&] { return finished.load(); });
      if (finished) break;
      if (stopping_) {
        cancelled = true;
        continue;
      }
      auto job = store_.GetJob(id);
      if (job && jobs::IsTerminal(job->status)) {
        cancelled = true;
        continue;
      }
      if (std::chrono::steady_clock::now() >= next_renew) {
        auto held = store_.RenewLease(id, worker, options_.lease.count());
        if (held && !*held) cancelled = true;
        next_renew = std::chrono::steady_clock::now() + options_.lease / 3;
      }
    }
  });

  log::Info("audit {}: started by {}", id, worker);
  auto is_cancelled = [&] { return cancelled.load(); };
  if (options_.run) {
    options_.run(claim.job, is_cancelled);
  } else {
    AuditRunner runner(publisher_, options_.runner);
    runner.Run(claim.job, is_cancelled);
  }
  {
    std::lock_guard lock(watch_mu);
    finished = true;
  }
  watch_cv.notify_all();
  watchdog.join();
  log::Info("audit {}: {} by {}", id, cancelled ? "stopped" : "finished", worker);
}

}  // namespace herald::worker
