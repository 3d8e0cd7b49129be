// The audit workers' loop on fakes: a FakeJobStore (real SQLite underneath,
// on a ManualClock, so leases expire only when a test says) that can fail or
// hold any call, a Publisher over a FakeBus, and an injected run function
// instead of the crawler. What is pinned: claims, lease renewal, what a
// cancelled job, a lost lease or a store that is down does to a worker, and
// Stop/Poke.
#include "worker/worker_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "fakes/fake_bus.h"
#include "fakes/fake_job_store.h"
#include "fakes/manual_clock.h"
#include "jobs/job.h"
#include "publish/publisher.h"
#include "store/job_store.h"

namespace herald::worker {
namespace {

using namespace std::chrono_literals;
using test::FakeJobStore;
using Method = FakeJobStore::Method;
using Failure = FakeJobStore::Failure;

// Stands in for AuditRunner. By default a run completes its job at once
// (through the Publisher, as the real runner does); after BlockRuns() a run
// waits until Finish(), until it is cancelled, or 10 s (so a test whose code
// never cancels fails instead of hanging).
class FakeRunner {
 public:
  struct Ended {
    int64_t id;
    bool cancelled;
  };

  explicit FakeRunner(publish::Publisher& publisher) : publisher_(publisher) {}

  void BlockRuns() {
    std::lock_guard lock(mu_);
    block_ = true;
  }
  void Finish() {
    std::lock_guard lock(mu_);
    finish_ = true;
    cv_.notify_all();
  }

  void Run(const jobs::Job& job, const std::function<bool()>& cancelled) {
    std::unique_lock lock(mu_);
    started_.push_back(job.id);
    cv_.notify_all();
    if (block_) {
      const auto give_up = std::chrono::steady_clock::now() + 10s;
      while (!finish_ && !cancelled() && std::chrono::steady_clock::now() < give_up) {
        cv_.wait_for(lock, 1ms);
      }
    }
    const bool was_cancelled = cancelled();
    lock.unlock();
    if (!was_cancelled) {
      jobs::ProgressUpdate done;
      done.status = jobs::JobStatus::kCompleted;
      (void)publisher_.Update(job.id, done);
    }
    lock.lock();
    ended_.push_back({job.id, was_cancelled});
    cv_.notify_all();
  }

  bool WaitStarted(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return started_.size() >= n; });
  }
  bool WaitEnded(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return ended_.size() >= n; });
  }
  std::vector<int64_t> Started() {
    std::lock_guard lock(mu_);
    return started_;
  }
  std::vector<Ended> Ends() {
    std::lock_guard lock(mu_);
    return ended_;
  }

 private:
  publish::Publisher& publisher_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool block_ = false;
  bool finish_ = false;
  std::vector<int64_t> started_;
  std::vector<Ended> ended_;
};

class WorkerPoolTest : public ::testing::Test {
 protected:
  static constexpr auto kLease = 600ms;  // renewed every 200 ms (a third)

  PoolOptions Options(int threads = 1) {
    PoolOptions o;
    o.threads = threads;
    o.worker_id = "test";
    o.lease = kLease;
    o.idle_poll = 30s;  // only Poke and Stop wake an idle worker in time
    o.watch_interval = 10ms;
    o.store_retry = 20ms;
    o.run = [this](const jobs::Job& job, const std::function<bool()>& cancelled) {
      runner_.Run(job, cancelled);
    };
    return o;
  }
  int64_t NewAudit() {
    return store_.real()
        .CreateJob(store::NewJob{"audit", "alice", "", "https://example.test/", 5})
        .value()
        .job.id;
  }
  jobs::JobStatus StatusOf(int64_t id) { return store_.real().GetJob(id).value().status; }
  // Another worker asks for the audit queue.
  bool IntruderClaims() {
    auto claim = store_.real().ClaimAudit("intruder", kLease.count());
    return claim && claim->has_value();
  }

  test::ManualClock clock_;
  FakeJobStore store_{&clock_};
  test::FakeBus bus_;
  Metrics metrics_;
  publish::Publisher publisher_{store_, bus_, metrics_};
  FakeRunner runner_{publisher_};
};

TEST_F(WorkerPoolTest, EveryPendingAuditIsRunOnceAndOtherJobsNever) {
  const int64_t other =
      store_.real().CreateJob(store::NewJob{"translation", "alice", "", "", 0}).value().job.id;
  std::vector<int64_t> audits;
  for (int i = 0; i < 6; ++i) audits.push_back(NewAudit());
  WorkerPool pool(store_, publisher_, Options(/*threads=*/2));
  pool.Start();
  ASSERT_TRUE(runner_.WaitEnded(audits.size()));
  pool.Stop();

  std::vector<int64_t> started = runner_.Started();
  std::sort(started.begin(), started.end());
  EXPECT_EQ(started, audits) << "each audit once, by one of the two workers";
  for (int64_t id : audits) EXPECT_EQ(StatusOf(id), jobs::JobStatus::kCompleted) << id;
  EXPECT_EQ(StatusOf(other), jobs::JobStatus::kPending);
  // Each claim is renewed at once, before its run.
  EXPECT_GE(store_.Calls(Method::kRenewLease), static_cast<int>(audits.size()));
}

TEST_F(WorkerPoolTest, OneWorkerTakesTheOldestFirst) {
  std::vector<int64_t> audits{NewAudit(), NewAudit(), NewAudit()};
  WorkerPool pool(store_, publisher_, Options());
  pool.Start();
  ASSERT_TRUE(runner_.WaitEnded(3));
  EXPECT_EQ(runner_.Started(), audits);
}

TEST_F(WorkerPoolTest, APokeWakesAnIdleWorkerAtOnce) {
  WorkerPool pool(store_, publisher_, Options());
  pool.Start();
  ASSERT_TRUE(store_.WaitForCalls(Method::kClaimAudit, 1));  // found nothing: idle for 30 s
  const int64_t id = NewAudit();
  pool.Poke();
  ASSERT_TRUE(runner_.WaitEnded(1, 5s)) << "the poke was lost: the worker sleeps its idle_poll";
  EXPECT_EQ(runner_.Started(), std::vector<int64_t>{id});
}

// The watchdog renews the lease every third of it while the audit runs: with
// the store's clock moved on by two thirds after each renewal, another
// worker never finds the lease expired.
TEST_F(WorkerPoolTest, TheLeaseIsRenewedWhileTheAuditRuns) {
  const int64_t id = NewAudit();
  runner_.BlockRuns();
  WorkerPool pool(store_, publisher_, Options());
  pool.Start();
  ASSERT_TRUE(runner_.WaitStarted(1));
  for (int round = 0; round < 3; ++round) {
    // A renewal that began after the last move of the clock has finished.
    const int renewals = store_.Calls(Method::kRenewLease);
    ASSERT_TRUE(store_.WaitForCalls(Method::kRenewLease, renewals + 1, 5s)) << "round " << round;
    clock_.Advance(kLease * 2 / 3);
    EXPECT_FALSE(IntruderClaims()) << "round " << round << ": the lease ran out";
  }
  runner_.Finish();
  ASSERT_TRUE(runner_.WaitEnded(1));
  EXPECT_FALSE(runner_.Ends()[0].cancelled);
  EXPECT_EQ(StatusOf(id), jobs::JobStatus::kCompleted);
}

// Cancelled through the API (from any process): the job is terminal, and the
// watchdog stops the run within its watch_interval.
TEST_F(WorkerPoolTest, ACancelledAuditStopsItsRun) {
  const int64_t id = NewAudit();
  runner_.BlockRuns();
  WorkerPool pool(store_, publisher_, Options());
  pool.Start();
  ASSERT_TRUE(runner_.WaitStarted(1));
  // Renewals would notice too (an ended audit's lease cannot be renewed);
  // with them failing, only reading the job can.
  store_.Fail(Method::kRenewLease, Failure::kDown);
  jobs::ProgressUpdate cancel;
  cancel.status = jobs::JobStatus::kFailed;
  cancel.error_message = "cancelled";
  ASSERT_TRUE(store_.real().UpdateJob(id, cancel));
  ASSERT_TRUE(runner_.WaitEnded(1, 5s));
  EXPECT_TRUE(runner_.Ends()[0].cancelled);
  EXPECT_EQ(store_.real().GetJob(id)->error_message, "cancelled");
}

// The lease ran out (a stall) and another worker took the audit over: the
// next renewal says so and the run stops; the new holder keeps it.
TEST_F(WorkerPoolTest, ALostLeaseStopsTheRun) {
  NewAudit();
  runner_.BlockRuns();
  WorkerPool pool(store_, publisher_, Options());
  pool.Start();
  ASSERT_TRUE(runner_.WaitStarted(1));
  store_.Hold(Method::kRenewLease);
  ASSERT_TRUE(store_.WaitUntilHeld(Method::kRenewLease));  // the watchdog's next renewal
  clock_.Advance(kLease + 1ms);
  ASSERT_TRUE(IntruderClaims());
  store_.Release(Method::kRenewLease);
  ASSERT_TRUE(runner_.WaitEnded(1, 5s));
  EXPECT_TRUE(runner_.Ends()[0].cancelled);
}

// The store is down while the worker is idle: it keeps asking, store_retry
// apart (not in a busy loop), runs nothing, and picks the queue up as soon
// as the store answers again.
TEST_F(WorkerPoolTest, AStoreThatIsDownIsAskedAgainAfterStoreRetry) {
  const int64_t id = NewAudit();
  store_.FailAll(Failure::kDown);
  WorkerPool pool(store_, publisher_, Options());
  const auto started = std::chrono::steady_clock::now();
  pool.Start();
  ASSERT_TRUE(store_.WaitForCalls(Method::kClaimAudit, 4));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 3 * 20ms) << "retried without waiting";
  EXPECT_TRUE(runner_.Started().empty());
  store_.Heal();
  ASSERT_TRUE(runner_.WaitEnded(1, 5s));
  EXPECT_EQ(runner_.Started(), std::vector<int64_t>{id});
  EXPECT_EQ(StatusOf(id), jobs::JobStatus::kCompleted);
}

// The store goes down (or busy) during a run: the watchdog cannot read the
// job or renew the lease, which is no reason to abandon the audit.
TEST_F(WorkerPoolTest, AStoreThatFailsDuringARunDoesNotStopIt) {
  const int64_t id = NewAudit();
  runner_.BlockRuns();
  WorkerPool pool(store_, publisher_, Options());
  pool.Start();
  ASSERT_TRUE(runner_.WaitStarted(1));
  // Each wait: a call that began after the failure was set has failed.
  store_.Fail({Method::kGetJob, Method::kRenewLease}, Failure::kDown);
  const int reads = store_.Calls(Method::kGetJob);
  ASSERT_TRUE(store_.WaitForCalls(Method::kRenewLease, store_.Calls(Method::kRenewLease) + 1, 5s));
  store_.Fail({Method::kGetJob, Method::kRenewLease}, Failure::kBusy);
  ASSERT_TRUE(store_.WaitForCalls(Method::kRenewLease, store_.Calls(Method::kRenewLease) + 1, 5s));
  EXPECT_GE(store_.Calls(Method::kGetJob), reads + 5);
  store_.Heal();
  runner_.Finish();
  ASSERT_TRUE(runner_.WaitEnded(1));
  EXPECT_FALSE(runner_.Ends()[0].cancelled);
  EXPECT_EQ(StatusOf(id), jobs::JobStatus::kCompleted);
}

// An audit whose workers kept dying: past max_attempts claims it is failed,
// not run again.
TEST_F(WorkerPoolTest, AnAuditClaimedTooOftenIsFailedInsteadOfRun) {
  const int64_t id = NewAudit();
  ASSERT_TRUE(IntruderClaims());  // attempt 1, and that worker died
  clock_.Advance(kLease + 1ms);
  PoolOptions o = Options();
  o.max_attempts = 1;
  WorkerPool pool(store_, publisher_, o);
  pool.Start();
  ASSERT_TRUE(store_.WaitForCalls(Method::kClaimAudit, 2));  // the audit, then nothing
  pool.Stop();
  EXPECT_TRUE(runner_.Started().empty());
  jobs::Job job = store_.real().GetJob(id).value();
  EXPECT_EQ(job.status, jobs::JobStatus::kFailed);
  const std::string why = job.error_message.value_or("");
  EXPECT_NE(why.find("interrupted 1 times"), std::string::npos) << why;
}

// Stop abandons a running audit (its lease expires and another worker takes
// it over: the job is not ended) and returns once the threads are joined.
TEST_F(WorkerPoolTest, StopCancelsARunningAuditAndLeavesItForAnotherWorker) {
  const int64_t id = NewAudit();
  runner_.BlockRuns();
  WorkerPool pool(store_, publisher_, Options());
  pool.Start();
  ASSERT_TRUE(runner_.WaitStarted(1));
  const auto stopping = std::chrono::steady_clock::now();
  pool.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 2s);
  ASSERT_EQ(runner_.Ends().size(), 1u);
  EXPECT_TRUE(runner_.Ends()[0].cancelled);
  EXPECT_FALSE(jobs::IsTerminal(StatusOf(id)));
  clock_.Advance(kLease + 1ms);
  EXPECT_TRUE(IntruderClaims());
}

TEST_F(WorkerPoolTest, StopWakesIdleWorkersAtOnce) {
  WorkerPool pool(store_, publisher_, Options(/*threads=*/2));
  pool.Start();
  ASSERT_TRUE(store_.WaitForCalls(Method::kClaimAudit, 2));  // both idle for 30 s
  const auto stopping = std::chrono::steady_clock::now();
  pool.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 2s);
}

}  // namespace
}  // namespace herald::worker
