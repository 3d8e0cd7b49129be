#pragma once
// A JobStore for unit tests: a real SQLite store in a temporary directory,
// behind a decorator that can be told to fail the next write transaction
// (down, busy, conflict) or every read of a job until told otherwise, and
// counts the transactions and job reads it ran. Thread-safe.

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/job_store.h"

namespace herald::test {

class FailingStore final : public store::JobStore {
 public:
  FailingStore();
  ~FailingStore() override;

  // The next UpdateJobs fails whole with `error` (nothing written).
  void FailNextUpdate(Error error);
  int update_transactions() const { return update_transactions_.load(); }
  // GetJob and EventsAfter fail with `error` while set; nullopt ends it.
  void FailReads(std::optional<Error> error);
  // GetJob + EventsAfter calls so far (failed ones included).
  int job_reads() const { return job_reads_.load(); }
  store::JobStore& real() { return *real_; }

  Result<store::Applied> CreateJob(const store::NewJob& job) override {
    return real_->CreateJob(job);
  }
  Result<jobs::Job> GetJob(int64_t id) override;
  Result<std::vector<jobs::Job>> ListJobs(const store::JobQuery& q) override {
    return real_->ListJobs(q);
  }
  Result<std::vector<store::UpdateOutcome>> UpdateJobs(
      std::span<const store::JobUpdate> updates) override;
  Result<std::vector<store::StoredEvent>> EventsAfter(int64_t job_id, int64_t after_seq,
                                                      int limit) override;
  Result<store::FeedEntry> AddNotice(const store::NewNotice& n) override {
    return real_->AddNotice(n);
  }
  Result<std::vector<store::FeedEntry>> FeedFor(const std::string& user, bool admin, int64_t after,
                                                int limit) override {
    return real_->FeedFor(user, admin, after, limit);
  }
  Result<std::vector<store::FeedEntry>> FeedAll(int64_t after, int limit) override {
    return real_->FeedAll(after, limit);
  }
  Result<int64_t> LatestFeedId() override { return real_->LatestFeedId(); }
  Result<void> Ping() override { return real_->Ping(); }
  Result<void> AddTicket(const store::NewTicket& t) override { return real_->AddTicket(t); }
  Result<store::RedeemedTicket> RedeemTicket(const std::string& hash) override {
    return real_->RedeemTicket(hash);
  }
  Result<std::optional<store::AuditClaim>> ClaimAudit(const std::string& w,
                                                      int64_t lease) override {
    return real_->ClaimAudit(w, lease);
  }
  Result<bool> RenewLease(int64_t id, const std::string& w, int64_t lease) override {
    return real_->RenewLease(id, w, lease);
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<store::JobStore> real_;
  std::mutex mu_;
  std::optional<Error> fail_next_;   // guarded by mu_
  std::optional<Error> fail_reads_;  // guarded by mu_
  std::atomic<int> update_transactions_{0};
  std::atomic<int> job_reads_{0};
};

}  // namespace herald::test
