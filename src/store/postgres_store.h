#pragma once
// PostgresStore: the JobStore for many Herald processes sharing one
// PostgreSQL database (`DATABASE_URL=postgresql://...`): several `herald
// serve` instances and `herald worker` processes, each with its own store.
// Same schema, migrations and behaviour as SqliteStore, with the guarantees
// made across processes by the database itself:
//  - a job's seq is 1, 2, 3, ... with no gap or duplicate, whoever writes
//    (the job row is locked for the whole update);
//  - feed ids are gapless and become visible in id order, so a reader
//    resuming after id N never skips an entry committed later (see
//    AppendFeedRow in the .cc for how and why);
//  - audit claims are exclusive (FOR UPDATE SKIP LOCKED).
//
// Thread-safe: every JobStore method may be called from several threads at
// once; each call borrows one connection of a small pool for its duration.
// A connection the server dropped is reset on next use; a read that fails
// because its connection broke is retried once, a write is not (it may have
// committed) and fails with kUnavailable. All methods block on the network:
// call them from a blocking pool, never from an I/O thread. The destructor
// must not run while a call is in flight.

#include <chrono>
#include <memory>
#include <string>

#include "common/errors.h"
#include "store/job_store.h"

namespace herald {
class Clock;
}  // namespace herald

namespace herald::store {

struct PostgresOptions {
  // postgresql://user:pass@host:port/db or postgres://..., or a libpq
  // keyword/value string; handed to libpq as is. Messages never show the
  // password.
  std::string url;
  // Events kept per job for Last-Event-ID replay; older ones are deleted as
  // new ones arrive. The newest event is always kept. Must be >= 1.
  int event_retention = 1000;
  // Source of every timestamp the store writes (and of lease expiry). nullptr:
  // the system clock. When set, must outlive the store.
  const Clock* clock = nullptr;
  // Connections in the pool, each used by one thread at a time. Must be >= 1.
  int connections = 4;
  // How long a statement waits for a lock another connection (or process)
  // holds before the call fails with kUnavailable. Tests shorten it.
  std::chrono::milliseconds lock_timeout{5000};
  // The longest one call may take, connecting included: a server that
  // hangs (stopped, its disk stuck; its kernel still acknowledges, so TCP
  // keepalives never fire) fails the call with 503 "database unavailable"
  // after this, and the connection is replaced. Also the session's
  // statement_timeout. Env: HERALD_DB_TIMEOUT_SECONDS.
  std::chrono::milliseconds call_timeout{5000};
};

class PostgresStore final : public JobStore {
 public:
  // Connects, brings the schema up to date (one transaction under an
  // advisory lock, so processes starting together do not race) and fills
  // the pool. kUnavailable when the server cannot be reached; kInternal when
  // the URL does not parse or the schema is newer than this build knows.
  static Result<std::unique_ptr<PostgresStore>> Open(const PostgresOptions& options);

  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  // The schema version (table herald_schema_version) this build migrates to.
  static int SchemaVersion();

  Result<Applied> CreateJob(const NewJob& job) override;
  Result<jobs::Job> GetJob(int64_t id) override;
  Result<std::vector<jobs::Job>> ListJobs(const JobQuery& query) override;
  Result<std::vector<UpdateOutcome>> UpdateJobs(std::span<const JobUpdate> updates) override;
  Result<std::vector<StoredEvent>> EventsAfter(int64_t job_id, int64_t after_seq,
                                               int limit) override;
  Result<FeedEntry> AddNotice(const NewNotice& notice) override;
  Result<std::vector<FeedEntry>> FeedFor(const std::string& user, bool admin, int64_t after_id,
                                         int limit) override;
  Result<std::vector<FeedEntry>> FeedAll(int64_t after_id, int limit) override;
  Result<int64_t> LatestFeedId() override;
  Result<void> Ping() override;
  Result<void> AddTicket(const NewTicket& ticket) override;
  Result<RedeemedTicket> RedeemTicket(const std::string& hash) override;
  Result<std::optional<AuditClaim>> ClaimAudit(const std::string& worker,
                                               int64_t lease_ms) override;
  Result<bool> RenewLease(int64_t job_id, const std::string& worker, int64_t lease_ms) override;

 private:
  class Impl;
  explicit PostgresStore(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

// `url` with any password (in the user info, a password= parameter, or a
// keyword/value string) replaced by "***": safe to log and to put in errors.
std::string RedactDatabaseUrl(const std::string& url);

}  // namespace herald::store
