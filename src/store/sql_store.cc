#include "store/sql_store.h"

#include <algorithm>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "common/clock.h"
#include "store/sql_backend.h"
#include "store/sql_schema.h"

namespace herald::store {

// ---------------------------------------------------------------------------
// Transactions.

Result<SqlTransaction> SqlTransaction::Begin(SqlSession& session) {
  if (auto r = session.Begin(); !r) return r.error();
  return SqlTransaction(session);
}

SqlTransaction::SqlTransaction(SqlTransaction&& other) noexcept
    : session_(std::exchange(other.session_, nullptr)) {}

SqlTransaction::~SqlTransaction() {
  if (session_ != nullptr) session_->Rollback();
}

Result<void> SqlTransaction::Commit() {
  if (auto r = session_->Commit(); !r) return r.error();  // still rolls back
  session_ = nullptr;
  return {};
}

// ---------------------------------------------------------------------------
// Rows.

namespace {

// ListJobs' limit is clamped so one request cannot load the whole table.
constexpr int kMaxListLimit = 501;  // the API's 500, plus one: is there a next page?

constexpr std::string_view kFeedColumns =
    "id, notice, COALESCE(job_id, 0), COALESCE(seq, 0), audience, event, payload";

FeedEntry FeedFromRow(const SqlRow& row) {
  return FeedEntry{row.Int(0),  row.Bool(1), row.Int(2), row.Int(3),
                   row.Text(4), row.Text(5), row.Text(6)};
}

// Every row of a statement, each converted by `convert` (which returns T,
// or Result<T> when a row may be refused).
template <class T, class Convert>
Result<std::vector<T>> Collect(SqlSession& session, std::string_view sql, const SqlParams& params,
                               std::string_view doing, Convert convert) {
  std::vector<T> out;
  auto read = session.Exec(sql, params, doing, [&](const SqlRow& row) -> Result<void> {
    auto value = convert(row);
    if constexpr (std::is_same_v<decltype(value), T>) {
      out.push_back(std::move(value));
    } else {
      if (!value) return value.error();
      out.push_back(std::move(*value));
    }
    return {};
  });
  if (!read) return read.error();
  return out;
}

// The first row of a statement, if any.
template <class T, class Convert>
Result<std::optional<T>> First(SqlSession& session, std::string_view sql, const SqlParams& params,
                               std::string_view doing, Convert convert) {
  auto rows = Collect<T>(session, sql, params, doing, convert);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<T>{};
  return std::optional<T>{std::move(rows->front())};
}

// Runs `fn(SqlSession&)`, which returns a Result, on the backend's
// connection for `access`, and returns what it returned.
template <class Fn>
auto Run(SqlBackend& backend, SqlAccess access, Fn&& fn) -> std::invoke_result_t<Fn&, SqlSession&> {
  std::optional<std::invoke_result_t<Fn&, SqlSession&>> out;
  auto ran = backend.Run(access, [&](SqlSession& session) -> Result<void> {
    out.emplace(fn(session));  // a read run twice keeps its second answer
    if (!*out) return out->error();
    return {};
  });
  if (!ran) return ran.error();  // also when `fn` never ran (no connection)
  return std::move(*out);
}

// Appends a job's latest state as its event `job.last_seq`; the same row is
// the job's entry in the notification feed.
Result<Applied> AppendJobEvent(SqlBackend& backend, SqlSession& session, const jobs::Job& job,
                               int64_t now_ms) {
  Applied applied = AppliedFor(job, now_ms);
  auto id = AppendFeedRow(backend, session, applied.feed, now_ms);
  if (!id) return id.error();
  applied.feed.id = *id;
  return applied;
}

// Whatever stopped a Ping, as kUnavailable: /healthz reports the database
// down, with the reason.
Error AsUnavailable(const Error& e) {
  return e.code == Errc::kUnavailable ? e : DatabaseUnavailable(Describe(e));
}

}  // namespace

Error SqlError(std::string_view database, bool unavailable, std::string_view doing,
               std::string_view detail) {
  const std::string what = std::string(database) + (unavailable ? ", while " : " error while ") +
                           std::string(doing) + ": " + std::string(detail);
  return unavailable ? DatabaseUnavailable(what) : MakeError(Errc::kInternal, what);
}

Result<jobs::Job> JobFromRow(const SqlRow& row) {
  jobs::Job job;
  job.id = row.Int(0);
  job.type = row.Text(1);
  job.owner = row.Text(2);
  job.title = row.Text(3);
  job.url = row.Text(4);
  job.max_pages = static_cast<int>(row.Int(5));
  const std::string status = row.Text(6);
  auto parsed = jobs::ParseJobStatus(status);
  if (!parsed) {
    return MakeError(Errc::kInternal, "job " + std::to_string(job.id) +
                                          " has unknown status in the database: " + status);
  }
  job.status = *parsed;
  job.progress = static_cast<int>(row.Int(7));
  job.message = row.OptText(8);
  job.step = row.OptText(9);
  job.total_pages = row.OptInt(10);
  job.geo_score = row.OptDouble(11);
  job.critical_issues = row.OptInt(12);
  job.high_issues = row.OptInt(13);
  job.medium_issues = row.OptInt(14);
  job.low_issues = row.OptInt(15);
  job.error_message = row.OptText(16);
  job.data_json = row.OptText(17);
  job.report_json = row.OptText(18);
  job.created_at_ms = row.Int(19);
  job.updated_at_ms = row.Int(20);
  job.last_seq = row.Int(21);
  return job;
}

Result<jobs::Job> LoadJob(SqlSession& session, int64_t id) {
  static const std::string kSql = "SELECT " + std::string(kJobColumns) + " FROM jobs WHERE id = $1";
  auto job = First<jobs::Job>(session, kSql, SqlParams().Int(id), "reading a job", JobFromRow);
  if (!job) return job.error();
  if (!*job) return MakeError(Errc::kNotFound, "job " + std::to_string(id) + " not found");
  return std::move(**job);
}

Result<int64_t> AppendFeedRow(SqlBackend& backend, SqlSession& session, const FeedEntry& entry,
                              int64_t now_ms) {
  if (auto r = backend.BeforeFeedAppend(session); !r) return r.error();
  SqlParams p;
  if (entry.notice) {
    p.Null().Null();
  } else {
    p.Int(entry.job_id).Int(entry.seq);
  }
  p.Bool(entry.notice).Text(entry.audience).Text(entry.event).Text(entry.data).Int(now_ms);
  auto id = First<int64_t>(session, backend.dialect().insert_feed_row, p,
                           entry.notice ? "recording a notice" : "recording a job event",
                           [](const SqlRow& row) { return row.Int(0); });
  if (!id) return id.error();
  if (!*id) return MakeError(Errc::kInternal, "recording a feed row: no id returned");
  return **id;
}

Result<std::optional<std::string>> SqlBatchRows::AuditLeaseHolder(int64_t job_id, int64_t now_ms) {
  return First<std::string>(
      session_,
      "SELECT lease_owner FROM jobs WHERE id = $1 AND status IN ('pending', 'running') AND "
      "lease_owner IS NOT NULL AND COALESCE(lease_expires_at, 0) >= $2",
      SqlParams().Int(job_id).Int(now_ms), "reading an audit's lease",
      [](const SqlRow& row) { return row.Text(0); });
}

// ---------------------------------------------------------------------------
// SqlStore.

namespace {

// Unleased pending audits, and any whose lease ran out: its worker died
// (running) or never got to say "running" (pending).
constexpr std::string_view kClaimable =
    "type = 'audit' AND status IN ('pending', 'running') AND COALESCE(lease_expires_at, 0) < ";

// One statement, so no transaction to manage. Oldest first. The claim lock
// lets claimers in other threads and processes each take a different row
// instead of queueing on the oldest. The timestamps are the store's clock,
// not the database's, so a test clock applies.
std::string ClaimSql(const SqlDialect& dialect) {
  return "UPDATE jobs SET lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1 "
         "WHERE id = (SELECT id FROM jobs WHERE " +
         std::string(kClaimable) + "$3 ORDER BY id LIMIT 1" + std::string(dialect.claim_lock) +
         ") RETURNING " + std::string(kJobColumns) + ", attempts";
}

std::string HealthSql(const SqlDialect& dialect) {
  return "INSERT INTO " + std::string(dialect.health_table) +
         " (id, checked_at) VALUES (1, $1) "
         "ON CONFLICT (id) DO UPDATE SET checked_at = EXCLUDED.checked_at";
}

}  // namespace

// The dialect-dependent statements are written once per store, not per call.
SqlStore::SqlStore(std::unique_ptr<SqlBackend> backend, const SqlStoreOptions& options)
    : backend_(std::move(backend)),
      retention_(options.event_retention),
      clock_(options.clock),
      claim_sql_(ClaimSql(backend_->dialect())),
      health_sql_(HealthSql(backend_->dialect())) {}

SqlStore::~SqlStore() = default;

int SqlStore::SchemaVersion() { return LatestSchemaVersion(); }

int64_t SqlStore::NowMs() const {
  static const SystemClock kSystemClock;
  return (clock_ != nullptr ? clock_ : &kSystemClock)->NowMs();
}

Result<Applied> SqlStore::CreateJob(const NewJob& in) {
  if (in.type.empty()) return MakeError(Errc::kBadRequest, "job type must not be empty");
  return Run(*backend_, SqlAccess::kWrite, [&](SqlSession& session) -> Result<Applied> {
    auto txn = SqlTransaction::Begin(session);
    if (!txn) return txn.error();
    jobs::Job job = NewPendingJob(in, NowMs());
    auto id = First<int64_t>(
        session,
        "INSERT INTO jobs (type, owner, title, url, max_pages, status, progress, "
        "created_at, updated_at, last_seq) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7, 1) "
        "RETURNING id",
        SqlParams()
            .Text(job.type)
            .Text(job.owner)
            .Text(job.title)
            .Text(job.url)
            .Int(job.max_pages)
            .Text(jobs::ToString(job.status))
            .Int(job.created_at_ms),
        "creating a job", [](const SqlRow& row) { return row.Int(0); });
    if (!id) return id.error();
    if (!*id) return MakeError(Errc::kInternal, "creating a job: no id returned");
    job.id = **id;
    auto applied = AppendJobEvent(*backend_, session, job, job.created_at_ms);
    if (!applied) return applied.error();
    if (auto r = txn->Commit(); !r) return r.error();
    return applied;
  });
}

Result<jobs::Job> SqlStore::GetJob(int64_t id) {
  return Run(*backend_, SqlAccess::kRead,
             [&](SqlSession& session) { return LoadJob(session, id); });
}

Result<std::vector<jobs::Job>> SqlStore::ListJobs(const JobQuery& query) {
  // A literal WHERE per shape lets the planner pick the (owner, id) or
  // (type, id) index (and SQLite cache one statement per shape); values
  // still travel as parameters.
  std::string sql = "SELECT " + std::string(kJobColumns) + " FROM jobs WHERE TRUE";
  SqlParams p;
  auto next = [&p] { return "$" + std::to_string(p.size()); };
  if (query.owner) {
    p.Text(*query.owner);
    sql += " AND owner = " + next();
  }
  // Both flags together ask for nothing, which the two conditions express.
  if (query.audits_only) sql += " AND type = 'audit'";
  if (query.exclude_audits) sql += " AND type <> 'audit'";
  if (query.status) {
    p.Text(jobs::ToString(*query.status));
    sql += " AND status = " + next();
  }
  // A search scans the caller's rows (a dashboard's list, not a hot path).
  if (!query.search.empty()) {
    p.Text(SearchPattern(query.search));
    const std::string like =
        " " + std::string(backend_->dialect().like) + " " + next() + " ESCAPE '\\'";
    p.Text(query.search);
    sql += " AND (url" + like + " OR title" + like + " OR type" + like +
           " OR CAST(id AS TEXT) = " + next() + ")";
  }
  p.Int(std::clamp(query.limit, 1, kMaxListLimit));
  sql += " ORDER BY id DESC LIMIT " + next();
  p.Int(std::max(query.offset, 0));
  sql += " OFFSET " + next();

  return Run(*backend_, SqlAccess::kRead, [&](SqlSession& session) {
    return Collect<jobs::Job>(session, sql, p, "listing jobs", JobFromRow);
  });
}

Result<std::vector<UpdateOutcome>> SqlStore::UpdateJobs(std::span<const JobUpdate> updates) {
  if (updates.empty()) return std::vector<UpdateOutcome>{};
  return Run(*backend_, SqlAccess::kWrite,
             [&](SqlSession& session) -> Result<std::vector<UpdateOutcome>> {
               // One write transaction for the batch, holding the jobs' locks:
               // a concurrent writer (another Herald process) can neither slip
               // an update between our read and write nor take our seq, and
               // the batch is one commit.
               auto txn = SqlTransaction::Begin(session);
               if (!txn) return txn.error();
               auto rows = backend_->BatchRowsFor(session);
               auto outcomes = ApplyUpdates(*rows, updates, NowMs(), retention_);
               if (!outcomes) return outcomes.error();
               if (auto r = txn->Commit(); !r) return r.error();
               return outcomes;
             });
}

Result<std::optional<AuditClaim>> SqlStore::ClaimAudit(const std::string& worker,
                                                       int64_t lease_ms) {
  if (backend_->dialect().look_before_claiming) {
    // Idle workers ask several times a second: answer "nothing to do" from
    // a read, without taking the write lock the publishers need.
    static const std::string kLook =
        "SELECT 1 FROM jobs WHERE " + std::string(kClaimable) + "$1 LIMIT 1";
    auto any = Run(*backend_, SqlAccess::kRead, [&](SqlSession& session) {
      return First<int64_t>(session, kLook, SqlParams().Int(NowMs()), "looking for audits to run",
                            [](const SqlRow& row) { return row.Int(0); });
    });
    if (!any) return any.error();
    if (!*any) return std::optional<AuditClaim>{};
  }
  return Run(*backend_, SqlAccess::kWrite,
             [&](SqlSession& session) -> Result<std::optional<AuditClaim>> {
               const int64_t now = NowMs();
               return First<AuditClaim>(
                   session, claim_sql_, SqlParams().Text(worker).Int(now + lease_ms).Int(now),
                   "claiming an audit", [](const SqlRow& row) -> Result<AuditClaim> {
                     auto job = JobFromRow(row);
                     if (!job) return job.error();
                     return AuditClaim{std::move(*job), static_cast<int>(row.Int(kJobColumnCount))};
                   });
             });
}

Result<bool> SqlStore::RenewLease(int64_t job_id, const std::string& worker, int64_t lease_ms) {
  return Run(*backend_, SqlAccess::kWrite, [&](SqlSession& session) -> Result<bool> {
    auto changed = session.Exec(
        "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3 AND "
        "status NOT IN ('completed', 'failed')",
        SqlParams().Int(NowMs() + lease_ms).Int(job_id).Text(worker), "renewing an audit lease");
    if (!changed) return changed.error();
    return *changed == 1;
  });
}

Result<std::vector<StoredEvent>> SqlStore::EventsAfter(int64_t job_id, int64_t after_seq,
                                                       int limit) {
  if (limit <= 0) return std::vector<StoredEvent>{};
  return Run(*backend_, SqlAccess::kRead, [&](SqlSession& session) {
    return Collect<StoredEvent>(
        session,
        "SELECT seq, payload, created_at FROM events WHERE job_id = $1 AND seq > $2 "
        "ORDER BY seq LIMIT $3",
        SqlParams().Int(job_id).Int(after_seq).Int(limit), "reading job events",
        [job_id](const SqlRow& row) {
          return StoredEvent{job_id, row.Int(0), row.Text(1), row.Int(2)};
        });
  });
}

Result<FeedEntry> SqlStore::AddNotice(const NewNotice& notice) {
  if (notice.user.empty()) return MakeError(Errc::kBadRequest, "notice user must not be empty");
  if (notice.type.empty()) return MakeError(Errc::kBadRequest, "notice type must not be empty");
  const int64_t now = NowMs();
  auto payload = NoticePayload(notice, now);
  if (!payload) return payload.error();
  return Run(*backend_, SqlAccess::kWrite, [&](SqlSession& session) -> Result<FeedEntry> {
    // A transaction even for one row: PostgreSQL's feed lock is
    // transaction-scoped, and in autocommit it would be released before
    // the INSERT.
    auto txn = SqlTransaction::Begin(session);
    if (!txn) return txn.error();
    FeedEntry entry{0, true, 0, 0, notice.user, notice.type, *payload};
    auto id = AppendFeedRow(*backend_, session, entry, now);
    if (!id) return id.error();
    if (auto r = txn->Commit(); !r) return r.error();
    entry.id = *id;
    return entry;
  });
}

Result<std::vector<FeedEntry>> SqlStore::FeedFor(const std::string& user, bool admin,
                                                 int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<FeedEntry>{};
  // Admins see every job event but only their own and broadcast notices: a
  // notice is addressed to a person, not to a role.
  static const std::string kSql =
      "SELECT " + std::string(kFeedColumns) +
      " FROM events WHERE id > $1 AND ((NOT notice AND ($3 OR audience = $2)) OR "
      "(notice AND audience IN ($2, '*'))) ORDER BY id LIMIT $4";
  return Run(*backend_, SqlAccess::kRead, [&](SqlSession& session) {
    return Collect<FeedEntry>(session, kSql,
                              SqlParams().Int(after_id).Text(user).Bool(admin).Int(limit),
                              "reading the feed", FeedFromRow);
  });
}

Result<std::vector<FeedEntry>> SqlStore::FeedAll(int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<FeedEntry>{};
  static const std::string kSql =
      "SELECT " + std::string(kFeedColumns) + " FROM events WHERE id > $1 ORDER BY id LIMIT $2";
  return Run(*backend_, SqlAccess::kRead, [&](SqlSession& session) {
    return Collect<FeedEntry>(session, kSql, SqlParams().Int(after_id).Int(limit),
                              "reading the feed", FeedFromRow);
  });
}

Result<int64_t> SqlStore::LatestFeedId() {
  return Run(*backend_, SqlAccess::kRead, [&](SqlSession& session) -> Result<int64_t> {
    // Pruning never removes a job's newest event and notices are kept, so
    // the highest id still present is the highest ever issued.
    auto id =
        First<int64_t>(session, "SELECT COALESCE(MAX(id), 0) FROM events", SqlParams(),
                       "reading the latest feed id", [](const SqlRow& row) { return row.Int(0); });
    if (!id) return id.error();
    return id->value_or(0);
  });
}

Result<void> SqlStore::Ping() {
  const SqlDialect& dialect = backend_->dialect();
  if (!dialect.ping_read.empty()) {
    auto read = Run(*backend_, SqlAccess::kRead, [&](SqlSession& session) -> Result<void> {
      auto r = session.Exec(dialect.ping_read, SqlParams(), "pinging the database");
      if (!r) return r.error();
      return {};
    });
    if (!read) return AsUnavailable(read.error());
  }
  // A write, committed: a database that cannot take one (disk full, a
  // read-only file or server) is down for Herald even while it still
  // answers reads. Writing the same row twice changes nothing, so it may be
  // retried like a read.
  auto write =
      Run(*backend_, SqlAccess::kRepeatableWrite, [&](SqlSession& session) -> Result<void> {
        auto txn = SqlTransaction::Begin(session);
        if (!txn) return txn.error();
        if (auto r = session.Exec(health_sql_, SqlParams().Int(NowMs()), "writing the health row");
            !r) {
          return r.error();
        }
        return txn->Commit();
      });
  if (!write) return AsUnavailable(write.error());
  return {};
}

Result<void> SqlStore::AddTicket(const NewTicket& ticket) {
  const int64_t now = NowMs();
  return Run(*backend_, SqlAccess::kWrite, [&](SqlSession& session) -> Result<void> {
    auto txn = SqlTransaction::Begin(session);
    if (!txn) return txn.error();
    if (auto r = session.Exec("DELETE FROM stream_tickets WHERE expires_at <= $1",
                              SqlParams().Int(now), "forgetting expired tickets");
        !r) {
      return r.error();
    }
    if (auto r = session.Exec("INSERT INTO stream_tickets (hash, user_id, role, stream, "
                              "expires_at, credentials_expire_at) VALUES ($1, $2, $3, $4, $5, $6)",
                              SqlParams()
                                  .Text(ticket.hash)
                                  .Text(ticket.user)
                                  .Text(ticket.role)
                                  .Text(ticket.stream)
                                  .Int(now + ticket.ttl_ms)
                                  .Int(ticket.credentials_expire_at_ms),
                              "storing a ticket");
        !r) {
      return r.error();
    }
    return txn->Commit();
  });
}

Result<RedeemedTicket> SqlStore::RedeemTicket(const std::string& hash) {
  const int64_t now = NowMs();
  // One statement: taking the ticket and reading it cannot be split by
  // another redemption. A write: never retried on a lost connection, since
  // the DELETE may have taken the ticket.
  return Run(*backend_, SqlAccess::kWrite, [&](SqlSession& session) -> Result<RedeemedTicket> {
    auto ticket = First<RedeemedTicket>(
        session,
        "DELETE FROM stream_tickets WHERE hash = $1 AND expires_at > $2 "
        "RETURNING user_id, role, stream, credentials_expire_at",
        SqlParams().Text(hash).Int(now), "redeeming a ticket", [](const SqlRow& row) {
          return RedeemedTicket{row.Text(0), row.Text(1), row.Text(2), row.Int(3)};
        });
    if (!ticket) return ticket.error();
    if (!*ticket) return MakeError(Errc::kUnauthorized, "invalid or expired ticket");
    return std::move(**ticket);
  });
}

}  // namespace herald::store
