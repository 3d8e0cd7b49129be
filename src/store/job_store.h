#pragma once
// JobStore keeps every job's state and its event history. It is the source
// of truth: an update is persisted here first and published second, so a
// stream that missed a publish can always catch up from the store.
//
// Implementations: SqliteStore (embedded default) and PostgresStore, both
// SqlStore (store/sql_store.h) over their own connections and SQL dialect.
// All methods are blocking and thread-safe; call them from a blocking pool,
// never from an I/O thread.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/errors.h"
#include "jobs/event_log.h"
#include "jobs/job.h"

namespace herald::store {

struct NewJob {
  std::string type;  // "audit" or caller-chosen
  std::string owner;
  std::string title;
  std::string url;    // audits
  int max_pages = 0;  // audits
};

struct JobQuery {
  std::optional<std::string> owner;  // unset: every owner (admin)
  bool audits_only = false;          // type == "audit"
  bool exclude_audits = false;       // type != "audit"
  int limit = 50;
  int offset = 0;
  // Text a user searches for: matches (case-insensitively, as a substring)
  // the url, title or type, or the id written out. Empty: no filter.
  std::string search{};
  std::optional<jobs::JobStatus> status{};  // unset: any status
};

// The event and feed types live in jobs/ (bus/ and sse/ use them too).
using jobs::FeedEntry;
using jobs::StoredEvent;

// What an accepted change produced: the new state, its event and its feed entry.
struct Applied {
  jobs::Job job;
  StoredEvent event;
  FeedEntry feed;
};

struct NewNotice {
  std::string user;       // a user id, or "*" for everyone
  std::string type;       // [a-z0-9_.-]{1,64}, checked by the caller
  std::string data_json;  // any JSON value's text
};

// One update of a batch (JobStore::UpdateJobs).
struct JobUpdate {
  int64_t job_id = 0;
  jobs::ProgressUpdate update;
  // Set for /audits/{id}/progress: a job that is not an audit is kNotFound.
  bool audit_only = false;
  // Progress a worker token posted (POST .../progress). Refused (kConflict)
  // for an audit a Herald worker holds: it reports that audit's progress
  // itself, and updates from two sources would fight (the contract's 409).
  bool external = false;
  // The audit runner's own update: a progress below the job's (an outside
  // post got there before the runner claimed it) is raised to the job's
  // rather than refused, so the runner's updates are never lost.
  bool raise_progress = false;
};

// What one update of a batch came to: applied, or refused on its own
// (kNotFound, kConflict, kBadRequest) without touching the others.
using UpdateOutcome = Result<Applied>;

// A stream ticket (POST /api/v1/sse/tickets): opens one stream, once,
// within its lifetime, on any instance sharing the database. Only the
// ticket's hash is stored.
struct NewTicket {
  std::string hash;    // SHA-256 of the ticket, hex
  std::string user;    // who opens the stream
  std::string role;    // auth::ToString(role)
  std::string stream;  // "job:12", "audit:12" or "notify"
  int64_t ttl_ms = 60000;
  int64_t credentials_expire_at_ms = 0;  // the token behind it (exp + leeway)
};

struct RedeemedTicket {
  std::string user;
  std::string role;
  std::string stream;
  int64_t credentials_expire_at_ms = 0;
};

struct AuditClaim {
  jobs::Job job;
  int attempt = 1;  // 1 on the first claim; more after a worker died
};

// What every backend writes the same way (store/job_store.cc).
// A new job's state: pending, progress 0, event 1 recorded at `now_ms`.
jobs::Job NewPendingJob(const NewJob& in, int64_t now_ms);
// A job's latest state as its event `job.last_seq` and feed entry (id 0:
// the backend assigns it).
Applied AppliedFor(const jobs::Job& job, int64_t now_ms);
// The notice object of the contract, {"type", "data", "created_at"}, as
// JSON text; kBadRequest when `data_json` is not JSON (empty is null).
Result<std::string> NoticePayload(const NewNotice& notice, int64_t now_ms);
// `query.search` as a LIKE pattern, "%text%", with `\`, `%` and `_` escaped
// by `\` (the statement says ESCAPE '\'), so they match themselves.
std::string SearchPattern(std::string_view search);

// The row operations a backend supplies for UpdateJobs, all inside its one
// open write transaction. Each takes the whole batch, so a backend that
// talks to a server (PostgreSQL) can do each step in one round trip.
class BatchRows {
 public:
  virtual ~BatchRows() = default;
  // The jobs among `ids` (ascending, distinct) that exist, locked against
  // other writers until the transaction ends.
  virtual Result<std::vector<jobs::Job>> LockJobs(std::span<const int64_t> ids) = 0;
  // Writes each job's new state.
  virtual Result<void> WriteJobs(std::span<const jobs::Job* const> jobs) = 0;
  // Deletes each listed job's events with seq <= cutoff. Called before
  // AppendEvents with cutoffs that spare each job's newest event, and after
  // it for what is left.
  virtual Result<void> PruneEvents(std::span<const std::pair<int64_t, int64_t>> cutoffs) = 0;
  // Appends the events in order and sets each one's feed.id.
  virtual Result<void> AppendEvents(std::span<Applied* const> events) = 0;
  // The worker holding a live lease on audit `job_id` (pending or running,
  // lease not yet expired at `now_ms`), if any.
  virtual Result<std::optional<std::string>> AuditLeaseHolder(int64_t job_id, int64_t now_ms) = 0;
  // A job state this backend cannot store refuses its one update (e.g. a
  // NUL character for PostgreSQL) instead of failing the whole batch.
  virtual Result<void> CheckStorable(const jobs::Job& job) const {
    (void)job;
    return {};
  }
};

// The one update sequence every backend runs (read -> apply -> write ->
// prune -> append -> prune the rest), over a whole batch: updates apply in order, several to
// one job included, each refused one leaves no trace; the job rows are
// written once each with their final state. An error from `rows` fails
// the whole batch (the caller rolls back).
Result<std::vector<UpdateOutcome>> ApplyUpdates(BatchRows& rows, std::span<const JobUpdate> updates,
                                                int64_t now_ms, int retention);

class JobStore : public jobs::FeedReader {
 public:
  virtual ~JobStore() = default;

  // Creates a pending job and records its event 1.
  virtual Result<Applied> CreateJob(const NewJob& job) = 0;
  virtual Result<jobs::Job> GetJob(int64_t id) = 0;
  // Newest first.
  virtual Result<std::vector<jobs::Job>> ListJobs(const JobQuery& query) = 0;
  // One transaction for the whole batch (group commit): per update, reads
  // the job, applies the state machine (jobs::ApplyUpdate), and appends the
  // event with the next sequence number; updates to one job apply in the
  // order given. Each outcome is the update's own (kNotFound, kConflict,
  // kBadRequest as ApplyUpdate); an error means the transaction failed and
  // nothing of the batch was written. Durable when it returns.
  virtual Result<std::vector<UpdateOutcome>> UpdateJobs(std::span<const JobUpdate> updates) = 0;
  // UpdateJobs of one update.
  Result<Applied> UpdateJob(int64_t id, const jobs::ProgressUpdate& update);
  // The retained events with seq > after_seq, oldest first, at most `limit`.
  // Older events are pruned beyond the retention; a caller detects a gap by
  // the first returned seq.
  virtual Result<std::vector<StoredEvent>> EventsAfter(int64_t job_id, int64_t after_seq,
                                                       int limit) = 0;

  virtual Result<FeedEntry> AddNotice(const NewNotice& notice) = 0;
  // Feed entries with id > after_id that `user` may see (admins: every job
  // event), oldest first.
  virtual Result<std::vector<FeedEntry>> FeedFor(const std::string& user, bool admin,
                                                 int64_t after_id, int limit) = 0;
  // FeedAll and LatestFeedId: jobs::FeedReader.

  // kUnavailable when the database cannot be reached.
  virtual Result<void> Ping() = 0;

  // Stores a ticket (and forgets expired ones).
  virtual Result<void> AddTicket(const NewTicket& ticket) = 0;
  // Takes the ticket with this hash if it exists and has not expired: it
  // is gone afterwards, so a second redemption (on any instance) fails.
  // kUnauthorized otherwise.
  virtual Result<RedeemedTicket> RedeemTicket(const std::string& hash) = 0;

  // The work queue of built-in audits. A claim is a lease: the worker renews
  // it while it runs, and an audit whose worker died (lease expired while
  // `running`) can be claimed again. Claims are atomic across threads and
  // processes. Returns nullopt when there is nothing to do.
  virtual Result<std::optional<AuditClaim>> ClaimAudit(const std::string& worker,
                                                       int64_t lease_ms) = 0;
  // Extends the lease; false when the worker no longer holds it (another
  // worker took over, or the job ended, e.g. cancelled).
  virtual Result<bool> RenewLease(int64_t job_id, const std::string& worker, int64_t lease_ms) = 0;
};

}  // namespace herald::store
