#pragma once
// SqlStore: the JobStore of SqliteStore and PostgresStore, written once. Its
// statements, schema and method bodies are the same for both; a backend
// (store/sql_backend.h) supplies the connections, transactions, row access
// and the few words its SQL spells differently.
//
// Thread-safe: every JobStore method may be called from several threads at
// once. All methods block on the database: call them from a blocking pool,
// never from an I/O thread. The destructor must not run while a call is in
// flight.

#include <memory>

#include "common/errors.h"
#include "store/job_store.h"

namespace herald {
class Clock;
}  // namespace herald

namespace herald::store {

class SqlBackend;

// What every SQL store is given, whatever the database.
struct SqlStoreOptions {
  // Events kept per job for Last-Event-ID replay; older ones are deleted as
  // new ones arrive. The newest event is always kept. Must be >= 1. Larger
  // values allow longer resumes at the cost of disk.
  int event_retention = 1000;
  // Source of every timestamp the store writes (and of lease expiry).
  // nullptr: the system clock. When set, must outlive the store.
  const Clock* clock = nullptr;
};

class SqlStore : public JobStore {
 public:
  ~SqlStore() override;
  SqlStore(const SqlStore&) = delete;
  SqlStore& operator=(const SqlStore&) = delete;

  // The schema version this build migrates to.
  static int SchemaVersion();

  Result<Applied> CreateJob(const NewJob& job) final;
  Result<jobs::Job> GetJob(int64_t id) final;
  Result<std::vector<jobs::Job>> ListJobs(const JobQuery& query) final;
  Result<std::vector<UpdateOutcome>> UpdateJobs(std::span<const JobUpdate> updates) final;
  Result<std::vector<StoredEvent>> EventsAfter(int64_t job_id, int64_t after_seq, int limit) final;
  Result<FeedEntry> AddNotice(const NewNotice& notice) final;
  Result<std::vector<FeedEntry>> FeedFor(const std::string& user, bool admin, int64_t after_id,
                                         int limit) final;
  Result<std::vector<FeedEntry>> FeedAll(int64_t after_id, int limit) final;
  Result<int64_t> LatestFeedId() final;
  Result<void> Ping() final;
  Result<void> AddTicket(const NewTicket& ticket) final;
  Result<RedeemedTicket> RedeemTicket(const std::string& hash) final;
  Result<std::optional<AuditClaim>> ClaimAudit(const std::string& worker, int64_t lease_ms) final;
  Result<bool> RenewLease(int64_t job_id, const std::string& worker, int64_t lease_ms) final;

 protected:
  SqlStore(std::unique_ptr<SqlBackend> backend, const SqlStoreOptions& options);

 private:
  int64_t NowMs() const;

  std::unique_ptr<SqlBackend> backend_;
  const int retention_;
  const Clock* clock_;
  const std::string claim_sql_;   // ClaimAudit's UPDATE ... RETURNING
  const std::string health_sql_;  // Ping's write
};

}  // namespace herald::store
