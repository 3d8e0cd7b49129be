#pragma once
// A JobStore for unit tests: a real SQLite store in a temporary directory
// (a store that actually stores), behind a decorator that counts every call
// and can be told to fail any method, or all of them, the way a real
// backend fails:
//   kDown      kUnavailable "database unavailable" (the database cannot be
//              reached);
//   kBusy      kUnavailable "database unavailable", SQLite's "database is
//              locked" in the detail (SQLITE_BUSY past busy_timeout, as
//              store/sqlite_store.cc maps it);
//   kConflict  kConflict (the call is refused whole).
// A failed call does not reach the real store: nothing is written.
//
// It can also hold a method: calls to it wait (counted, before doing
// anything) until released, so a test can act while, say, the Publisher's
// committer or a worker's watchdog is inside the store.
//
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/job_store.h"

namespace herald {
class Clock;
}

namespace herald::test {

class FakeJobStore final : public store::JobStore {
 public:
  enum class Method {
    kCreateJob,
    kGetJob,
    kListJobs,
    kUpdateJobs,
    kEventsAfter,
    kAddNotice,
    kFeedFor,
    kFeedAll,
    kLatestFeedId,
    kPing,
    kAddTicket,
    kRedeemTicket,
    kClaimAudit,
    kRenewLease,
  };
  static constexpr int kMethodCount = static_cast<int>(Method::kRenewLease) + 1;

  enum class Failure { kDown, kBusy, kConflict };

  // `clock` (optional, must outlive the store): the real store's time, e.g.
  // a test::ManualClock so that leases and tickets expire when a test says.
  explicit FakeJobStore(const Clock* clock = nullptr);
  ~FakeJobStore() override;
  FakeJobStore(const FakeJobStore&) = delete;
  FakeJobStore& operator=(const FakeJobStore&) = delete;

  // The error a call of `method` fails with for `failure`.
  static Error ErrorFor(Failure failure, Method method);
  static const char* Name(Method method);

  // Every call of `method` fails with `failure` until Heal.
  void Fail(Method method, Failure failure);
  void Fail(std::initializer_list<Method> methods, Failure failure);
  void Fail(Method method, Error error);
  // Every method, every call, until Heal().
  void FailAll(Failure failure);
  // Only the next call of `method` fails (then it answers again).
  void FailNext(Method method, Failure failure);
  void FailNext(Method method, Error error);
  // Ends the failures of `method` (queued FailNext ones included).
  void Heal(Method method);
  // Ends every failure.
  void Heal();

  // Calls of `method` so far, failed and held ones included (counted as
  // they begin).
  int Calls(Method method) const;
  int TotalCalls() const;
  // Waits until `n` calls of `method` have returned (answered or failed):
  // with n = Calls(method) + 1, a call that began after now has finished.
  // False after `timeout`.
  bool WaitForCalls(Method method, int n,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  // Calls of `method` wait from now until Release(method).
  void Hold(Method method);
  void Release(Method method);
  // Waits until a call of `method` is waiting in Hold; false after `timeout`.
  bool WaitUntilHeld(Method method,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  // The store underneath, for a test's own setup and checks (not counted,
  // never fails).
  store::JobStore& real() { return *real_; }

  Result<store::Applied> CreateJob(const store::NewJob& job) override;
  Result<jobs::Job> GetJob(int64_t id) override;
  Result<std::vector<jobs::Job>> ListJobs(const store::JobQuery& q) override;
  Result<std::vector<store::UpdateOutcome>> UpdateJobs(
      std::span<const store::JobUpdate> updates) override;
  Result<std::vector<store::StoredEvent>> EventsAfter(int64_t job_id, int64_t after_seq,
                                                      int limit) override;
  Result<store::FeedEntry> AddNotice(const store::NewNotice& n) override;
  Result<std::vector<store::FeedEntry>> FeedFor(const std::string& user, bool admin, int64_t after,
                                                int limit) override;
  Result<std::vector<store::FeedEntry>> FeedAll(int64_t after, int limit) override;
  Result<int64_t> LatestFeedId() override;
  Result<void> Ping() override;
  Result<void> AddTicket(const store::NewTicket& t) override;
  Result<store::RedeemedTicket> RedeemTicket(const std::string& hash) override;
  Result<std::optional<store::AuditClaim>> ClaimAudit(const std::string& worker,
                                                      int64_t lease_ms) override;
  Result<bool> RenewLease(int64_t id, const std::string& worker, int64_t lease_ms) override;

 private:
  struct MethodState {
    int calls = 0;
    int returned = 0;
    std::optional<Error> always;  // Fail: every call
    std::vector<Error> next;      // FailNext: the next calls, in order
    bool held = false;            // Hold
    int waiting = 0;              // calls waiting in Hold
  };
  // Counts the call, waits while the method is held, and returns the error
  // it must fail with, if any.
  std::optional<Error> Enter(Method method);
  // Counts the call as returned.
  void Leave(Method method);
  // One call of `method`: fails as told, or runs `call` on the real store.
  template <class Call>
  auto Run(Method method, Call call) -> decltype(call());

  std::filesystem::path dir_;
  std::unique_ptr<store::JobStore> real_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  MethodState methods_[kMethodCount];  // guarded by mu_
};

}  // namespace herald::test
