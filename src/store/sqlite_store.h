#pragma once
// SqliteStore: the embedded JobStore, one SQLite file in WAL mode. It is the
// default for a single Herald node (`DATABASE_URL=sqlite://PATH`); `herald
// worker` processes on the same machine may open the same file, since every
// write is a BEGIN IMMEDIATE transaction that SQLite serializes across
// processes.
//
// Thread-safe: every JobStore method may be called from several threads at
// once. Writes go through one writer connection behind a mutex; reads use a
// small pool of reader connections, so readers never wait for a writer
// (WAL). All methods block on disk I/O: call them from a blocking pool, never
// from an I/O thread. The destructor must not run while a call is in flight.

#include <chrono>
#include <memory>
#include <string>

#include "common/errors.h"
#include "store/job_store.h"

namespace herald {
class Clock;
}  // namespace herald

namespace herald::store {

struct SqliteOptions {
  // The database file. Its parent directory is created when missing.
  std::string path;
  // Events kept per job for Last-Event-ID replay; older ones are deleted as
  // new ones arrive. The newest event is always kept. Must be >= 1. Larger
  // values allow longer resumes at the cost of disk.
  int event_retention = 1000;
  // Source of every timestamp the store writes. nullptr: the system clock.
  // When set, must outlive the store.
  const Clock* clock = nullptr;
  // Connections used for reads, each used by one thread at a time. Must be
  // >= 1; a couple cover a 2-core machine.
  int reader_connections = 2;
  // How long a statement waits for another connection's (or process's) lock
  // before the call fails with kUnavailable. Tests shorten it.
  std::chrono::milliseconds busy_timeout{5000};
};

class SqliteStore final : public JobStore {
 public:
  // Opens (creating if needed) the database at options.path and brings its
  // schema up to date. Fails with a message naming the path when the file
  // cannot be opened or its schema is newer than this build knows.
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // The schema version (PRAGMA user_version) this build migrates to.
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
  explicit SqliteStore(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::store
