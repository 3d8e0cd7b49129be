#include "store/postgres_store.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <iterator>
#include <mutex>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "config/service_url.h"
#include "store/sql_backend.h"
#include "store/sql_schema.h"

namespace herald::store {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------------------
// The schema's types and the statements PostgreSQL spells its own way.

// Feed ids as TakeFeedLock's comment (below) explains: MAX(id) + 1, read
// under the feed lock.
constexpr SqlDialect kPostgresDialect{
    .job_id_key = "BIGSERIAL PRIMARY KEY",
    .feed_id_key = "BIGINT PRIMARY KEY",
    .int64 = "BIGINT",
    .real = "DOUBLE PRECISION",
    .boolean = "BOOLEAN",
    .health_table = "herald_health",
    .like = "ILIKE",
    // Claimers in other threads and processes each lock a different row
    // instead of queueing on the oldest; a row whose lease another claimer
    // renewed meanwhile is re-checked against the condition and passed over.
    .claim_lock = " FOR UPDATE SKIP LOCKED",
    .look_before_claiming = false,
    // The health row's write is the check.
    .ping_read = "",
    .insert_feed_row =
        "INSERT INTO events (id, job_id, seq, notice, audience, event, payload, created_at) "
        "VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM events), $1, $2, $3, $4, $5, $6, $7) "
        "RETURNING id",
};

// Advisory lock keys, per database: "HRLDMIGR" and "HRLDFEED" in ASCII, so
// they are recognizable in pg_locks and unlikely to collide with another
// application's keys in a shared database.
constexpr int64_t kMigrationLockKey = 0x48524C444D494752;
constexpr int64_t kFeedLockKey = 0x48524C4446454544;

// libpq's default waits as long as the kernel keeps retrying a silent host
// (minutes); a URL may still set its own connect_timeout.
constexpr const char* kConnectTimeoutSeconds = "5";

// ---------------------------------------------------------------------------
// Passwords never leave this file.

// Where the store connects, and how to speak of it.
struct Target {
  std::string url;                   // as configured; never shown
  std::string shown;                 // config::RedactUrl(url)
  std::vector<std::string> secrets;  // the password in every form the URL writes it
  std::chrono::milliseconds lock_timeout;
  std::chrono::milliseconds call_timeout;

  // libpq does not put passwords in its messages; this makes sure. Very
  // short passwords are left alone: replacing every "a" would garble the
  // message while hiding nothing.
  std::string Scrub(std::string_view text) const {
    std::string out = OneLine(text);
    for (const std::string& secret : secrets) {
      if (secret.size() < 4) continue;
      for (size_t pos = 0; (pos = out.find(secret, pos)) != std::string::npos; pos += 3) {
        out.replace(pos, secret.size(), "***");
      }
    }
    return out;
  }
};

// The URL is parsed where every service URL is (config/service_url), to
// learn its password (for Scrub) and to refuse a malformed one before
// trying to connect; libpq then checks the option names it knows.
Result<Target> MakeTarget(const PostgresOptions& options) {
  auto url = config::ParsePostgresUrl(options.url);
  if (!url) {
    // The caller (runtime's OpenStore) names the variable itself.
    std::string message = url.error().message;
    if (message.starts_with("DATABASE_URL: ")) message.erase(0, 14);
    return MakeError(Errc::kInternal, message);
  }
  Target target{options.url, config::RedactUrl(options.url), url->secrets, options.lock_timeout,
                options.call_timeout};
  if (!url->password.empty()) target.secrets.push_back(url->password);
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.url.c_str(), &error);
  if (parsed == nullptr) {
    // libpq may quote pieces of the URL: its words only when no password
    // is in it.
    std::string detail = error != nullptr ? OneLine(error) : "out of memory";
    PQfreemem(error);
    if (target.shown != options.url) detail = "check its options";
    return MakeError(Errc::kInternal, "invalid database URL " + target.shown + ": " + detail);
  }
  PQconninfoFree(parsed);
  return target;
}

// ---------------------------------------------------------------------------
// Statements: every value travels as a text parameter of PQexecParams, never
// inside the SQL.

// A statement's values as PQexecParams takes them: text, or null.
class TextParams {
 public:
  explicit TextParams(const SqlParams& params) {
    values_.reserve(params.values().size());
    for (const SqlParams::Value& value : params.values()) values_.push_back(AsText(value));
  }

  // A text parameter ends at its first NUL, and PostgreSQL cannot store one
  // in TEXT anyway: refuse rather than store a truncated string.
  bool has_nul() const { return has_nul_; }
  int size() const { return static_cast<int>(values_.size()); }
  // Valid while this object is alive.
  std::vector<const char*> Pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
    return out;
  }

 private:
  std::optional<std::string> AsText(const SqlParams::Value& value) {
    if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
    if (const auto* d = std::get_if<double>(&value)) {
      char buf[64];
      // Shortest text that reads back as the same double.
      const auto end = std::to_chars(buf, buf + sizeof buf, *d).ptr;
      return std::string(buf, end);
    }
    if (const auto* b = std::get_if<bool>(&value)) return std::string(*b ? "true" : "false");
    if (const auto* t = std::get_if<std::string>(&value)) {
      if (t->find('\0') != std::string::npos) has_nul_ = true;
      return *t;
    }
    return std::nullopt;
  }

  std::vector<std::optional<std::string>> values_;
  bool has_nul_ = false;
};

using ResultHandle = std::unique_ptr<PGresult, FreeWith<PQclear>>;
using ConnHandle = std::unique_ptr<PGconn, FreeWith<PQfinish>>;

// PostgreSQL prints integers in plain decimal, so our own BIGINT and
// INTEGER columns always parse; an empty string (no count) reads as 0.
int64_t ParseInt(const char* text) {
  int64_t value = 0;
  std::from_chars(text, text + std::char_traits<char>::length(text), value);
  return value;
}

// One row of a result, in text format.
class PgRow final : public SqlRow {
 public:
  PgRow(const PGresult* result, int row) : result_(result), row_(row) {}

  bool IsNull(int col) const override { return PQgetisnull(result_, row_, col) != 0; }
  int64_t Int(int col) const override { return ParseInt(PQgetvalue(result_, row_, col)); }
  double Double(int col) const override {
    const char* text = PQgetvalue(result_, row_, col);
    double value = 0;
    std::from_chars(text, text + PQgetlength(result_, row_, col), value);
    return value;
  }
  bool Bool(int col) const override { return PQgetvalue(result_, row_, col)[0] == 't'; }
  std::string Text(int col) const override {
    return std::string(PQgetvalue(result_, row_, col),
                       static_cast<size_t>(PQgetlength(result_, row_, col)));
  }

 private:
  const PGresult* result_;
  int row_;
};

// The rows (or the row count) of one successful statement.
class Rows {
 public:
  explicit Rows(ResultHandle result) : result_(std::move(result)) {}

  int size() const { return PQntuples(result_.get()); }
  PgRow operator[](int row) const { return PgRow(result_.get(), row); }
  // Rows an INSERT, UPDATE or DELETE touched.
  int64_t affected() const { return ParseInt(PQcmdTuples(result_.get())); }
  std::string_view command() const { return PQcmdStatus(result_.get()); }

 private:
  ResultHandle result_;
};

// SQLSTATEs that mean "try again later" rather than "bug": the server is
// going away or out of resources (class 08 connection, 53 resources, 57P0x
// shutdown, 25006 a read-only server), or the statement waited too long or
// lost a race (lock_timeout,
// deadlock, serialization failure, statement_timeout or a cancel).
bool IsServerGone(std::string_view state) {
  return state.starts_with("08") || state.starts_with("53") || state == "57P01" ||
         state == "57P02" || state == "57P03" || state == "25006" /* read-only */;
}
bool IsContention(std::string_view state) {
  return state == "55P03" || state == "40P01" || state == "40001" || state == "57014";
}

void ForwardNotice(void* /*arg*/, const char* message) {
  // Notices ("there is no transaction in progress", ...) are informational;
  // libpq would print them on stderr, between our log lines.
  log::Debug("postgres notice: {}", OneLine(message));
}

using Deadline = std::chrono::steady_clock::time_point;
constexpr Deadline kNoDeadline = Deadline::max();

// Waits until `fd` is ready for `events` (or has an error, which libpq will
// read) or `deadline` passes: false then.
bool WaitSocket(int fd, short events, Deadline deadline) {
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return true;
  }
}

// One libpq connection, used without blocking: every wait for the server
// has a deadline (Connection::SetDeadline), so a server that stops
// answering fails the call instead of holding a pool thread for ever. Not
// thread-safe: the pool gives it to one thread at a time.
class Connection final : public SqlSession {
 public:
  // 503 with libpq's reason (in the detail) when the server cannot be
  // reached or does not answer within the call timeout.
  static Result<std::unique_ptr<Connection>> Open(const Target& target) {
    auto opened = std::unique_ptr<Connection>(new Connection(target));
    opened->deadline_ = std::chrono::steady_clock::now() + target.call_timeout;
    if (auto r = opened->Connect(); !r) return r.error();
    opened->deadline_ = kNoDeadline;
    return opened;
  }

  bool ok() const { return conn_ != nullptr && PQstatus(conn_.get()) == CONNECTION_OK; }
  bool in_transaction() const {
    return conn_ != nullptr && PQtransactionStatus(conn_.get()) != PQTRANS_IDLE;
  }

  // Every wait from now on ends by `deadline` (kNoDeadline: none, as for
  // the migrations at start).
  void SetDeadline(Deadline deadline) { deadline_ = deadline; }

  // Reconnects (the server restarted, dropped us, or stopped answering).
  // Session settings are lost with the old session: apply them again.
  Result<void> Reset() { return Connect(); }

  // Runs one statement; `sql` holds no values, only $n placeholders.
  Result<Rows> Query(std::string_view sql, const SqlParams& params, std::string_view doing) {
    const TextParams text(params);
    if (text.has_nul()) {
      return MakeError(Errc::kBadRequest, "text with a NUL character cannot be stored (while " +
                                              std::string(doing) + ")");
    }
    if (!ok())
      return DatabaseUnavailable("PostgreSQL connection lost before " + std::string(doing));
    const std::string statement(sql);
    const std::vector<const char*> values = text.Pointers();
    if (PQsendQueryParams(conn_.get(), statement.c_str(), text.size(), /*paramTypes=*/nullptr,
                          values.data(), /*paramLengths=*/nullptr, /*paramFormats=*/nullptr,
                          /*resultFormat=*/0) == 0) {
      return QueryError(nullptr, doing);
    }
    return Await(doing);
  }

  Result<int64_t> Exec(std::string_view sql, const SqlParams& params, std::string_view doing,
                       const SqlRowReader& read) override {
    auto rows = Query(sql, params, doing);
    if (!rows) return rows.error();
    for (int i = 0; read && i < rows->size(); ++i)
      if (auto r = read((*rows)[i]); !r) return r.error();
    return rows->affected();
  }
  using SqlSession::Exec;

  // Runs a script of several statements without values (the migrations'
  // DDL): the one place that uses the simple query protocol.
  Result<void> ExecScript(const char* sql, std::string_view doing) override {
    if (!ok())
      return DatabaseUnavailable("PostgreSQL connection lost before " + std::string(doing));
    if (PQsendQuery(conn_.get(), sql) == 0) return QueryError(nullptr, doing);
    auto r = Await(doing);
    if (!r) return r.error();
    return {};
  }

 private:
  explicit Connection(const Target& target) : target_(target) {}

  // Opens a new session within the deadline and configures it.
  Result<void> Connect() {
    conn_.reset();
    // Our defaults come before the URL (expanded from "dbname"), so the URL
    // may override them; client_encoding comes after, since every string we
    // store and compare is UTF-8.
    const char* keywords[] = {"connect_timeout", "application_name", "dbname", "client_encoding",
                              nullptr};
    const char* values[] = {kConnectTimeoutSeconds, "herald", target_.url.c_str(), "UTF8", nullptr};
    ConnHandle conn(PQconnectStartParams(keywords, values, /*expand_dbname=*/1));
    if (conn == nullptr) {
      return MakeError(Errc::kInternal, "cannot connect to PostgreSQL: out of memory");
    }
    // As libpq documents: start as if PQconnectPoll had asked to write.
    PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
    while (PQstatus(conn.get()) != CONNECTION_BAD && polling != PGRES_POLLING_OK &&
           polling != PGRES_POLLING_FAILED) {
      const short events = polling == PGRES_POLLING_READING ? POLLIN : POLLOUT;
      if (!WaitSocket(PQsocket(conn.get()), events, deadline_)) {
        return DatabaseUnavailable(
            fmt::format("cannot connect to PostgreSQL at {}: no answer "
                        "within {} ms",
                        target_.shown, target_.call_timeout.count()));
      }
      polling = PQconnectPoll(conn.get());
    }
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      return DatabaseUnavailable("cannot connect to PostgreSQL at " + target_.shown + ": " +
                                 target_.Scrub(PQerrorMessage(conn.get())));
    }
    PQsetNoticeProcessor(conn.get(), ForwardNotice, nullptr);
    if (PQsetnonblocking(conn.get(), 1) != 0) {
      return DatabaseUnavailable("PostgreSQL at " + target_.shown +
                                 ": cannot make the connection non-blocking");
    }
    conn_ = std::move(conn);
    return Configure();
  }

  // Sends what is buffered, then collects the statement's results: the
  // first error if any, else the last result (what PQexec returns).
  Result<Rows> Await(std::string_view doing) {
    PGconn* c = conn_.get();
    for (;;) {
      const int flushed = PQflush(c);
      if (flushed == 0) break;
      if (flushed < 0) return QueryError(nullptr, doing);
      if (!WaitSocket(PQsocket(c), POLLOUT | POLLIN, deadline_)) return Abandon(doing);
      if (PQconsumeInput(c) == 0) return QueryError(nullptr, doing);
    }
    ResultHandle kept;
    bool kept_error = false;
    for (;;) {
      while (PQisBusy(c) != 0) {
        if (!WaitSocket(PQsocket(c), POLLIN, deadline_)) return Abandon(doing);
        if (PQconsumeInput(c) == 0) return QueryError(nullptr, doing);
      }
      ResultHandle next(PQgetResult(c));
      if (next == nullptr) break;
      const ExecStatusType status = PQresultStatus(next.get());
      const bool error = status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK;
      if (!kept_error) {
        kept = std::move(next);
        kept_error = error;
      }
    }
    if (kept != nullptr && !kept_error) return Rows(std::move(kept));
    return QueryError(kept.get(), doing);
  }

  // The server did not answer in time. What it will do with the statement
  // is unknown, so the session is closed (the server rolls back whatever
  // it had begun when it sees the socket close); the next call reconnects.
  Error Abandon(std::string_view doing) {
    conn_.reset();
    return DatabaseUnavailable(fmt::format("PostgreSQL at {} did not answer within {} ms while {}",
                                           target_.shown, target_.call_timeout.count(), doing));
  }

  // Per-session settings. lock_timeout plays SQLite's busy_timeout: a row
  // or advisory lock held too long by another connection (or process)
  // fails the call with kUnavailable instead of blocking a pool thread for
  // ever. statement_timeout lets a live server end a slow statement
  // cleanly before our own deadline gives up on the session.
  Result<void> Configure() {
    SqlParams p;
    p.Text(std::to_string(target_.lock_timeout.count()));
    p.Text(std::to_string(target_.call_timeout.count()));
    auto r = Query(
        "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)",
        p, "configuring the session");
    if (!r) return r.error();
    return {};
  }

  // The server's own words (its primary message), or libpq's when the
  // failure is on our side of the socket. A broken connection, a server
  // going away and lock contention are kUnavailable (503); anything else is
  // unexpected.
  Error QueryError(const PGresult* result, std::string_view doing) const {
    const char* state_field =
        result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string_view state = state_field != nullptr ? state_field : "";
    const char* primary =
        result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string detail = target_.Scrub(primary != nullptr ? primary : PQerrorMessage(conn_.get()));
    if (detail.empty()) detail = "no reason given";
    return SqlError("postgres", !ok() || IsServerGone(state) || IsContention(state), doing, detail);
  }

  // BEGIN ... COMMIT. READ COMMITTED (the default): every statement sees
  // what others committed before it started, which the row and advisory
  // locks rely on.
  Result<void> Begin() override { return Run("BEGIN", SqlParams(), "starting a transaction"); }
  Result<void> Commit() override {
    auto r = Query("COMMIT", SqlParams(), "committing");
    if (!r) return r.error();
    // COMMIT of a transaction an earlier statement aborted answers ROLLBACK.
    if (r->command() != "COMMIT") {
      return MakeError(Errc::kInternal, "postgres transaction rolled back instead of committing");
    }
    return {};
  }
  void Rollback() override {
    // A lost connection has rolled back on the server already.
    if (ok() && in_transaction()) (void)Query("ROLLBACK", SqlParams(), "rolling back");
  }

  const Target& target_;
  ConnHandle conn_;
  Deadline deadline_ = kNoDeadline;
};

// BEGIN ... COMMIT; rolls back unless committed. READ COMMITTED (the
// default): every statement sees what others committed before it started,
// which the row and advisory locks below rely on.

// The feed writers' lock, held until the transaction ends; taken before
// every insert of feed rows (kPostgresDialect.insert_feed_row, and
// PgBatchRows::AppendEvents), as late as possible in the transaction.
//
// Why not a sequence: the polling bus and /notify/events resume with
// "id > last seen". Sequence values are handed out at INSERT but become
// visible at COMMIT, in whatever order transactions commit: a reader could
// see id 8 while 7 is still uncommitted, move its cursor to 8, and skip 7
// for ever; and a rolled-back transaction leaves a gap that looks like a
// loss. So feed writers take one transaction-scoped advisory lock, and the
// id is MAX(id) + 1 read after it: writers are serialized, the lock is
// released only once the holder's commit is visible (or rolled back, which
// frees the id for the next writer), so id N+1 never becomes visible before
// N. The cost is one feed writer at a time across all processes, for the
// time of an INSERT and a COMMIT. MAX(id) is the highest id ever issued:
// pruning keeps every job's newest event (even mid-batch: ApplyUpdates)
// and notices are never pruned.
//
// A statement of its own: in READ COMMITTED the INSERT that follows takes
// its snapshot when it starts, after the lock is ours, so it sees the
// previous holder's row.
Result<void> TakeFeedLock(SqlSession& session) {
  auto r = session.Exec("SELECT pg_advisory_xact_lock($1::bigint)", SqlParams().Int(kFeedLockKey),
                        "waiting for the feed lock");
  if (!r) return r.error();
  return {};
}

// The batch steps of ApplyUpdates, each one statement whatever the batch
// size: the rows travel as one JSON parameter that the server unpacks
// (json_populate_recordset / json_to_recordset), so no value is ever part
// of the SQL text and 500 updates cost the round trips of one.
class PgBatchRows final : public SqlBatchRows {
 public:
  using SqlBatchRows::SqlBatchRows;

  Result<std::vector<jobs::Job>> LockJobs(std::span<const int64_t> ids) override {
    // ORDER BY id: every batch locks in the same order, so two never deadlock.
    static const std::string kSql =
        "SELECT " + std::string(kJobColumns) +
        " FROM jobs WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE";
    std::string array = "{";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) array += ',';
      array += std::to_string(ids[i]);
    }
    array += '}';
    std::vector<jobs::Job> out;
    out.reserve(ids.size());
    auto read = session_.Exec(kSql, SqlParams().Text(array), "reading jobs",
                              [&](const SqlRow& row) -> Result<void> {
                                auto job = JobFromRow(row);
                                if (!job) return job.error();
                                out.push_back(std::move(*job));
                                return {};
                              });
    if (!read) return read.error();
    return out;
  }

  Result<void> WriteJobs(std::span<const jobs::Job* const> jobs) override {
    json::array rows;
    rows.reserve(jobs.size());
    for (const jobs::Job* job : jobs) {
      json::object o;
      o["id"] = job->id;
      o["status"] = jobs::ToString(job->status);
      o["progress"] = job->progress;
      Put(o, "message", job->message);
      Put(o, "step", job->step);
      Put(o, "total_pages", job->total_pages);
      if (job->geo_score) o["geo_score"] = *job->geo_score;
      Put(o, "critical_issues", job->critical_issues);
      Put(o, "high_issues", job->high_issues);
      Put(o, "medium_issues", job->medium_issues);
      Put(o, "low_issues", job->low_issues);
      Put(o, "error_message", job->error_message);
      Put(o, "data", job->data_json);
      Put(o, "report", job->report_json);
      o["updated_at"] = job->updated_at_ms;
      o["last_seq"] = job->last_seq;
      rows.push_back(std::move(o));
    }
    auto r = session_.Exec(
        "UPDATE jobs AS j SET status = r.status, progress = r.progress, message = r.message, "
        "step = r.step, total_pages = r.total_pages, geo_score = r.geo_score, "
        "critical_issues = r.critical_issues, high_issues = r.high_issues, "
        "medium_issues = r.medium_issues, low_issues = r.low_issues, "
        "error_message = r.error_message, data = r.data, report = r.report, "
        "updated_at = r.updated_at, last_seq = r.last_seq "
        "FROM (SELECT * FROM json_populate_recordset(NULL::jobs, $1::json) LIMIT $2) AS r "
        "WHERE j.id = r.id",
        SqlParams().Text(json::serialize(rows)).Int(static_cast<int64_t>(rows.size())),
        "writing jobs");
    if (!r) return r.error();
    return {};
  }

  // The LIMIT with the batch's real size in the two joins (writing jobs,
  // pruning events) is for the planner: it assumes a JSON record set has
  // 100 rows, and against 10,000 jobs that makes a hash join over a
  // sequential scan of the whole table (4 ms a batch) look cheaper than an
  // index probe per row. PQexecParams plans with the actual values.
  Result<void> PruneEvents(std::span<const std::pair<int64_t, int64_t>> cutoffs) override {
    json::array rows;
    for (const auto& [job_id, cutoff] : cutoffs)
      rows.push_back(json::object{{"j", job_id}, {"c", cutoff}});
    auto r = session_.Exec(
        "DELETE FROM events AS e USING (SELECT * FROM json_to_recordset($1::json) "
        "AS c(j bigint, c bigint) LIMIT $2) AS c WHERE e.job_id = c.j AND e.seq <= c.c",
        SqlParams().Text(json::serialize(rows)).Int(static_cast<int64_t>(rows.size())),
        "pruning old events");
    if (!r) return r.error();
    return {};
  }

  // Feed ids as TakeFeedLock explains: under the feed lock, MAX(id) + 1 on.
  Result<void> AppendEvents(std::span<Applied* const> events) override {
    if (auto r = TakeFeedLock(session_); !r) return r.error();
    json::array rows;
    rows.reserve(events.size());
    int64_t n = 0;
    for (const Applied* a : events) {
      rows.push_back(json::object{{"n", ++n},
                                  {"job_id", a->job.id},
                                  {"seq", a->event.seq},
                                  {"audience", a->feed.audience},
                                  {"event", a->feed.event},
                                  {"payload", a->event.payload},
                                  {"created_at", a->event.created_at_ms}});
    }
    // The uncorrelated MAX(id) is evaluated once (an InitPlan), after the
    // lock above is ours: see TakeFeedLock for why that order matters.
    std::optional<int64_t> first;
    int inserted = 0;
    auto r = session_.Exec(
        "INSERT INTO events (id, job_id, seq, notice, audience, event, payload, created_at) "
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM events) + r.n, r.job_id, r.seq, false, "
        "r.audience, r.event, r.payload, r.created_at FROM json_to_recordset($1::json) AS "
        "r(n bigint, job_id bigint, seq bigint, audience text, event text, payload text, "
        "created_at bigint) RETURNING id",
        SqlParams().Text(json::serialize(rows)), "recording job events",
        [&](const SqlRow& row) -> Result<void> {
          first = std::min(first.value_or(row.Int(0)), row.Int(0));
          ++inserted;
          return {};
        });
    if (!r) return r.error();
    if (inserted != static_cast<int>(events.size()) || !first)
      return MakeError(Errc::kInternal, "recording job events: row count mismatch");
    for (size_t i = 0; i < events.size(); ++i)
      events[i]->feed.id = *first + static_cast<int64_t>(i);
    return {};
  }

  // PostgreSQL cannot hold a NUL in TEXT: refuse that one update, not the batch.
  Result<void> CheckStorable(const jobs::Job& job) const override {
    for (const auto* text :
         {&job.message, &job.step, &job.error_message, &job.data_json, &job.report_json}) {
      if (*text && text->value().find('\0') != std::string::npos)
        return MakeError(Errc::kBadRequest, "text with a NUL character cannot be stored");
    }
    return {};
  }

 private:
  template <class T>
  static void Put(json::object& o, std::string_view key, const std::optional<T>& value) {
    if (value) o[key] = *value;
  }
};

// ---------------------------------------------------------------------------
// Opening.

// The table herald_schema_version holds the schema version, in one row.
// Migrations take turns under a transaction-scoped advisory lock: the first
// process migrates, the others then find the schema current.
class VersionTable final : public SchemaVersionRecord {
 public:
  Result<void> Lock(SqlSession& session) override {
    // DDL on a large table may take longer than a request may.
    if (auto r = session.Exec("SET LOCAL statement_timeout = 0", SqlParams(),
                              "lifting the statement timeout");
        !r) {
      return r.error();
    }
    auto r = session.Exec("SELECT pg_advisory_xact_lock($1::bigint)",
                          SqlParams().Int(kMigrationLockKey), "waiting for the migration lock");
    if (!r) return r.error();
    return {};
  }
  // Looks for the table (rather than CREATE TABLE IF NOT EXISTS) so that a
  // role without CREATE rights can open a database already migrated.
  Result<int> Read(SqlSession& session) override {
    bool exists = false;
    auto found =
        session.Exec("SELECT to_regclass('herald_schema_version') IS NOT NULL", SqlParams(),
                     "looking for the schema version", [&](const SqlRow& row) -> Result<void> {
                       exists = row.Bool(0);
                       return {};
                     });
    if (!found) return found.error();
    if (!exists) return 0;
    int version = 0;
    auto read =
        session.Exec("SELECT COALESCE(MAX(version), 0) FROM herald_schema_version", SqlParams(),
                     "reading the schema version", [&](const SqlRow& row) -> Result<void> {
                       version = static_cast<int>(row.Int(0));
                       return {};
                     });
    if (!read) return read.error();
    return version;
  }
  Result<void> Write(SqlSession& session, int version) override {
    for (const char* sql : {"CREATE TABLE IF NOT EXISTS herald_schema_version "
                            "(version INTEGER NOT NULL)",
                            "DELETE FROM herald_schema_version"}) {
      if (auto r = session.Exec(sql, SqlParams(), "recording the schema version"); !r)
        return r.error();
    }
    auto r = session.Exec("INSERT INTO herald_schema_version (version) VALUES ($1)",
                          SqlParams().Int(version), "recording the schema version");
    if (!r) return r.error();
    return {};
  }
};

}  // namespace

// ---------------------------------------------------------------------------

namespace {

// A small pool of connections, each lent to one call at a time.
class PgBackend final : public SqlBackend {
 public:
  Result<void> Open(const PostgresOptions& options) {
    auto target = MakeTarget(options);
    if (!target) return target.error();
    target_ = std::move(*target);
    auto first = Connection::Open(target_);
    if (!first) return first.error();
    VersionTable version;
    if (auto r = Migrate(**first, kPostgresDialect, version, target_.shown); !r) return r.error();
    // The others open after the migration so they never see an older schema.
    connections_.push_back(std::move(*first));
    while (connections_.size() < static_cast<size_t>(options.connections)) {
      auto conn = Connection::Open(target_);
      if (!conn) return conn.error();
      connections_.push_back(std::move(*conn));
    }
    for (const auto& conn : connections_) idle_.push_back(conn.get());
    return {};
  }

  const SqlDialect& dialect() const override { return kPostgresDialect; }

  // A read (or a repeatable write) whose connection broke under it (the
  // server restarted, a proxy dropped the idle socket) reconnects and runs
  // once more: doing it twice is harmless. A write is never retried: when
  // the connection broke after COMMIT was sent, the write may have
  // happened, and doing it again would record an update twice. The caller
  // gets kUnavailable.
  Result<void> Run(SqlAccess access, const std::function<Result<void>(SqlSession&)>& fn) override {
    return RunWithin(fn, /*retry=*/access != SqlAccess::kWrite);
  }

  std::unique_ptr<BatchRows> BatchRowsFor(SqlSession& session) override {
    return std::make_unique<PgBatchRows>(session);
  }

  Result<void> BeforeFeedAppend(SqlSession& session) override { return TakeFeedLock(session); }

 private:
  // A connection borrowed from the pool for one call (none if the pool had
  // none free before the deadline).
  class Lease {
   public:
    Lease(PgBackend& pool, Deadline deadline) : pool_(pool), conn_(pool.Acquire(deadline)) {}
    ~Lease() {
      if (conn_ != nullptr) pool_.Release(conn_);
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    explicit operator bool() const { return conn_ != nullptr; }
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_; }

   private:
    PgBackend& pool_;
    Connection* conn_;
  };

  // One call: at most the call timeout from here, waiting for a free
  // connection, reconnecting and every statement included.
  Result<void> RunWithin(const std::function<Result<void>(SqlSession&)>& fn, bool retry) {
    const Deadline deadline = std::chrono::steady_clock::now() + target_.call_timeout;
    Lease conn(*this, deadline);
    if (!conn) {
      return DatabaseUnavailable(
          fmt::format("no PostgreSQL connection came free within {} ms (all {} busy)",
                      target_.call_timeout.count(), connections_.size()));
    }
    conn->SetDeadline(deadline);
    // Found broken (by an earlier call, or the server went away while it sat
    // idle and we only learn it now): nothing was sent on it for this call,
    // so even a write may go ahead once it is back.
    if (!conn->ok()) {
      if (auto r = conn->Reset(); !r) return r.error();
    }
    auto result = fn(*conn);
    if (result || conn->ok() || !retry || std::chrono::steady_clock::now() >= deadline) {
      return result;
    }
    log::Debug("postgres connection lost ({}); reconnecting to retry a read",
               Describe(result.error()));
    if (auto r = conn->Reset(); !r) return r.error();
    return fn(*conn);
  }

  Connection* Acquire(Deadline deadline) {
    std::unique_lock lock(mu_);
    if (!idle_cv_.wait_until(lock, deadline, [&] { return !idle_.empty(); })) return nullptr;
    Connection* conn = idle_.back();
    idle_.pop_back();
    return conn;
  }

  void Release(Connection* conn) {
    // Transactions roll back on every path; this guards the pool against a
    // slip, since a transaction left open could hold the feed lock and stop
    // every writer in every process.
    if (conn->ok() && conn->in_transaction())
      (void)conn->Exec("ROLLBACK", SqlParams(), "rolling back");
    conn->SetDeadline(kNoDeadline);
    {
      std::lock_guard lock(mu_);
      idle_.push_back(conn);
    }
    idle_cv_.notify_one();
  }

  Target target_;  // before connections_: they refer to it
  std::vector<std::unique_ptr<Connection>> connections_;
  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::vector<Connection*> idle_;  // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresOptions& options) {
  if (options.url.empty()) return MakeError(Errc::kInternal, "postgres store: empty database URL");
  if (options.event_retention < 1 || options.connections < 1 || options.lock_timeout.count() < 0) {
    return MakeError(Errc::kInternal, "postgres store " + config::RedactUrl(options.url) +
                                          ": event_retention and connections must be at least 1 "
                                          "and lock_timeout not negative");
  }
  auto backend = std::make_unique<PgBackend>();
  if (auto r = backend->Open(options); !r) return r.error();
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(backend), options));
}

}  // namespace herald::store
