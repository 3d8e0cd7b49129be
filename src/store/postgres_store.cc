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

namespace herald::store {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------------------
// Schema. The same tables, columns and indexes as SqliteStore's, in
// PostgreSQL's types. Steps are applied in order, each once; the one row of
// herald_schema_version records the last one applied. Never edit a released
// step: append a new one.

struct Migration {
  int version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE herald_schema_version (version INTEGER NOT NULL);

CREATE TABLE jobs (
  id              BIGSERIAL PRIMARY KEY,
  type            TEXT    NOT NULL,
  owner           TEXT    NOT NULL,
  title           TEXT    NOT NULL DEFAULT '',
  url             TEXT    NOT NULL DEFAULT '',
  max_pages       INTEGER NOT NULL DEFAULT 0,
  status          TEXT    NOT NULL,
  progress        INTEGER NOT NULL DEFAULT 0,
  message         TEXT,
  step            TEXT,
  total_pages     BIGINT,
  geo_score       DOUBLE PRECISION,
  critical_issues BIGINT,
  high_issues     BIGINT,
  medium_issues   BIGINT,
  low_issues      BIGINT,
  error_message   TEXT,
  data            TEXT,
  report          TEXT,
  created_at      BIGINT  NOT NULL,
  updated_at      BIGINT  NOT NULL,
  last_seq        BIGINT  NOT NULL
);
CREATE INDEX jobs_owner_id ON jobs (owner, id DESC);
CREATE INDEX jobs_type_id ON jobs (type, id DESC);

-- One table for both logs: a job's event history (job_id, seq) and the
-- notification feed (id). The id is not a sequence: AppendFeedRow assigns it
-- under an advisory lock so ids are gapless and commit in order.
CREATE TABLE events (
  id         BIGINT  PRIMARY KEY,
  job_id     BIGINT  REFERENCES jobs (id),
  seq        BIGINT,
  notice     BOOLEAN NOT NULL,
  audience   TEXT    NOT NULL,
  event      TEXT    NOT NULL,
  payload    TEXT    NOT NULL,
  created_at BIGINT  NOT NULL,
  UNIQUE (job_id, seq)
);
CREATE INDEX events_audience_id ON events (audience, id);
)sql"},
    {2, R"sql(
-- Audit work queue: who holds a running audit, until when, and how often it
-- was claimed (a claim after the first means a worker died).
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at BIGINT;
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_claim ON jobs (type, status, id);
)sql"},
    {3, R"sql(
-- One row /healthz rewrites: a server that cannot take a write (read-only,
-- out of disk) is down even while reads still work.
CREATE TABLE herald_health (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  checked_at BIGINT NOT NULL
);
-- Stream tickets: single use, short-lived; only their hash is kept.
CREATE TABLE stream_tickets (
  hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  stream TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  credentials_expire_at BIGINT NOT NULL
);
CREATE INDEX stream_tickets_expiry ON stream_tickets (expires_at);
)sql"},
};

constexpr int kLatestVersion = kMigrations[std::size(kMigrations) - 1].version;

// Advisory lock keys, per database: "HRLDMIGR" and "HRLDFEED" in ASCII, so
// they are recognizable in pg_locks and unlikely to collide with another
// application's keys in a shared database.
constexpr int64_t kMigrationLockKey = 0x48524C444D494752;
constexpr int64_t kFeedLockKey = 0x48524C4446454544;

// ListJobs' limit is clamped so one request cannot load the whole table.
constexpr int kMaxListLimit = 501;  // the API's 500, plus one: is there a next page?

// libpq's default waits as long as the kernel keeps retrying a silent host
// (minutes); a URL may still set its own connect_timeout.
constexpr const char* kConnectTimeoutSeconds = "5";

constexpr std::string_view kJobColumns =
    "id, type, owner, title, url, max_pages, status, progress, message, step, "
    "total_pages, geo_score, critical_issues, high_issues, medium_issues, "
    "low_issues, error_message, data, report, created_at, updated_at, last_seq";
constexpr int kJobColumnCount = 22;

constexpr std::string_view kFeedColumns =
    "id, notice, COALESCE(job_id, 0), COALESCE(seq, 0), audience, event, payload";

// ---------------------------------------------------------------------------
// Passwords never leave this file.

// The value of a keyword/value connection string's `password`, quoted or
// not, replaced by "***".
std::string RedactKeywordPassword(std::string text) {
  size_t pos = 0;
  while ((pos = text.find("password", pos)) != std::string::npos) {
    const bool starts_word = pos == 0 || text[pos - 1] == ' ' || text[pos - 1] == '\t' ||
                             text[pos - 1] == '?' || text[pos - 1] == '&';
    size_t i = pos + 8;
    while (i < text.size() && text[i] == ' ') ++i;
    if (!starts_word || i >= text.size() || text[i] != '=') {
      pos += 8;
      continue;
    }
    ++i;
    while (i < text.size() && text[i] == ' ') ++i;
    size_t end = i;
    if (end < text.size() && text[end] == '\'') {
      for (++end; end < text.size() && text[end] != '\''; ++end) {
        if (text[end] == '\\') ++end;
      }
      end = std::min(end + 1, text.size());
    } else {
      while (end < text.size() && text[end] != ' ' && text[end] != '&') ++end;
    }
    text.replace(i, end - i, "***");
    pos = i + 3;
  }
  return text;
}

// Newlines and tabs of libpq's multi-line messages folded into single
// spaces, so an error reads as one log line.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Where the store connects, and how to speak of it.
struct Target {
  std::string url;    // as configured; never shown
  std::string shown;  // RedactDatabaseUrl(url)
  std::string password;
  std::chrono::milliseconds lock_timeout;
  std::chrono::milliseconds call_timeout;

  // libpq does not put passwords in its messages; this makes sure. Very
  // short passwords are left alone: replacing every "a" would garble the
  // message while hiding nothing.
  std::string Scrub(std::string_view text) const {
    std::string out = OneLine(text);
    if (password.size() < 4) return out;
    for (size_t pos = 0; (pos = out.find(password, pos)) != std::string::npos; pos += 3) {
      out.replace(pos, password.size(), "***");
    }
    return out;
  }
};

// Where a URI's password sits: after the first ':' of the user info, up to
// the last '@'. libpq ends the user info at the first '@' (and the host at
// the first '/'), but a password with an unencoded '@' or '/' must not show
// either way.
struct Span {
  size_t pos;
  size_t len;
};
std::optional<Span> UserinfoPassword(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  const size_t start = scheme_end + 3;
  const size_t at = url.rfind('@');
  if (at == std::string::npos || at <= start) return std::nullopt;
  const size_t colon = url.find(':', start);
  if (colon == std::string::npos || colon >= at) return std::nullopt;
  return Span{colon + 1, at - colon - 1};
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    int value = 0;
    if (text[i] == '%' && i + 2 < text.size() &&
        std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ptr ==
            text.data() + i + 3) {
      out.push_back(static_cast<char>(value));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Parses the URL once, to learn its password (for Scrub) and to refuse a
// malformed one before trying to connect.
Result<Target> MakeTarget(const PostgresOptions& options) {
  Target target{options.url, RedactDatabaseUrl(options.url), "", options.lock_timeout,
                options.call_timeout};
  // Said instead of libpq's words whenever a password is involved: libpq may
  // quote pieces of a malformed URL, and those may be pieces of a password.
  const std::string bad_url = "invalid database URL " + target.shown +
                              ": check its syntax; special characters in the password must be "
                              "percent-encoded";
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.url.c_str(), &error);
  if (parsed == nullptr) {
    std::string detail = error != nullptr ? OneLine(error) : "out of memory";
    PQfreemem(error);
    if (target.shown != options.url) return MakeError(Errc::kInternal, bad_url);
    return MakeError(Errc::kInternal, "invalid database URL " + target.shown + ": " + detail);
  }
  for (const PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) target.password = o->val;
  }
  PQconninfoFree(parsed);
  // libpq read the user info differently (an unencoded '@' or '/' in the
  // password): it would try a host or port made of the password's pieces,
  // and name them in its error.
  if (auto span = UserinfoPassword(options.url);
      span && PercentDecode(std::string_view(options.url).substr(span->pos, span->len)) !=
                  target.password) {
    return MakeError(Errc::kInternal, bad_url);
  }
  return target;
}

// ---------------------------------------------------------------------------
// Statements: every value travels as a text parameter of PQexecParams, never
// inside the SQL.

class Params {
 public:
  Params& Int(int64_t value) { return Add(std::to_string(value)); }
  Params& Double(double value) {
    char buf[64];
    // Shortest text that reads back as the same double.
    const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
    return Add(std::string(buf, end));
  }
  Params& Bool(bool value) { return Add(value ? "true" : "false"); }
  Params& Text(std::string_view value) {
    // A text parameter ends at its first NUL, and PostgreSQL cannot store
    // one in TEXT anyway: refuse rather than store a truncated string.
    if (value.find('\0') != std::string_view::npos) has_nul_ = true;
    return Add(std::string(value));
  }
  Params& Null() {
    values_.emplace_back(std::nullopt);
    return *this;
  }
  Params& OptText(const std::optional<std::string>& value) { return value ? Text(*value) : Null(); }
  Params& OptInt(const std::optional<int64_t>& value) { return value ? Int(*value) : Null(); }
  Params& OptDouble(const std::optional<double>& value) { return value ? Double(*value) : Null(); }

  bool has_nul() const { return has_nul_; }
  int size() const { return static_cast<int>(values_.size()); }
  // For PQexecParams; valid while this object is alive and unchanged.
  std::vector<const char*> Pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
    return out;
  }

 private:
  Params& Add(std::string value) {
    values_.emplace_back(std::move(value));
    return *this;
  }

  std::vector<std::optional<std::string>> values_;
  bool has_nul_ = false;
};

struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
struct ConnFinisher {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using ResultHandle = std::unique_ptr<PGresult, ResultClearer>;
using ConnHandle = std::unique_ptr<PGconn, ConnFinisher>;

// The rows (or the row count) of one successful statement, in text format.
class Rows {
 public:
  explicit Rows(ResultHandle result) : result_(std::move(result)) {}

  int size() const { return PQntuples(result_.get()); }
  // Rows an INSERT, UPDATE or DELETE touched.
  int64_t affected() const { return ParseInt(PQcmdTuples(result_.get())); }
  std::string_view command() const { return PQcmdStatus(result_.get()); }

  bool IsNull(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  std::string Text(int row, int col) const {
    return std::string(PQgetvalue(result_.get(), row, col),
                       static_cast<size_t>(PQgetlength(result_.get(), row, col)));
  }
  int64_t Int(int row, int col) const { return ParseInt(PQgetvalue(result_.get(), row, col)); }
  bool Bool(int row, int col) const { return PQgetvalue(result_.get(), row, col)[0] == 't'; }
  std::optional<std::string> OptText(int row, int col) const {
    if (IsNull(row, col)) return std::nullopt;
    return Text(row, col);
  }
  std::optional<int64_t> OptInt(int row, int col) const {
    if (IsNull(row, col)) return std::nullopt;
    return Int(row, col);
  }
  std::optional<double> OptDouble(int row, int col) const {
    if (IsNull(row, col)) return std::nullopt;
    const char* text = PQgetvalue(result_.get(), row, col);
    double value = 0;
    std::from_chars(text, text + PQgetlength(result_.get(), row, col), value);
    return value;
  }

 private:
  // PostgreSQL prints integers in plain decimal, so our own BIGINT and
  // INTEGER columns always parse; an empty string (no count) reads as 0.
  static int64_t ParseInt(const char* text) {
    int64_t value = 0;
    std::from_chars(text, text + std::char_traits<char>::length(text), value);
    return value;
  }

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
class Connection {
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
  Result<Rows> Exec(const char* sql, const Params& params, std::string_view doing) {
    if (params.has_nul()) {
      return MakeError(Errc::kBadRequest, "text with a NUL character cannot be stored (while " +
                                              std::string(doing) + ")");
    }
    if (!ok())
      return DatabaseUnavailable("PostgreSQL connection lost before " + std::string(doing));
    const std::vector<const char*> values = params.Pointers();
    if (PQsendQueryParams(conn_.get(), sql, params.size(), /*paramTypes=*/nullptr, values.data(),
                          /*paramLengths=*/nullptr, /*paramFormats=*/nullptr,
                          /*resultFormat=*/0) == 0) {
      return QueryError(nullptr, doing);
    }
    return Await(doing);
  }
  Result<Rows> Exec(const char* sql, std::string_view doing) { return Exec(sql, Params(), doing); }

  // Runs a script of several statements without values (the migrations'
  // DDL): the one place that uses the simple query protocol.
  Result<void> ExecScript(const char* sql, std::string_view doing) {
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
    Params p;
    p.Text(std::to_string(target_.lock_timeout.count()));
    p.Text(std::to_string(target_.call_timeout.count()));
    auto r = Exec(
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
    if (!ok() || IsServerGone(state) || IsContention(state)) {
      return DatabaseUnavailable("postgres, while " + std::string(doing) + ": " + detail);
    }
    return MakeError(Errc::kInternal, "postgres error while " + std::string(doing) + ": " + detail);
  }

  const Target& target_;
  ConnHandle conn_;
  Deadline deadline_ = kNoDeadline;
};

// BEGIN ... COMMIT; rolls back unless committed. READ COMMITTED (the
// default): every statement sees what others committed before it started,
// which the row and advisory locks below rely on.
class Transaction {
 public:
  static Result<Transaction> Begin(Connection& conn) {
    if (auto r = conn.Exec("BEGIN", "starting a transaction"); !r) return r.error();
    return Transaction(conn);
  }
  Transaction(Transaction&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() {
    // A lost connection has rolled back on the server already.
    if (conn_ != nullptr && conn_->ok()) (void)conn_->Exec("ROLLBACK", "rolling back");
  }

  Result<void> Commit() {
    auto r = conn_->Exec("COMMIT", "committing");
    if (!r) return r.error();  // still rolls back
    conn_ = nullptr;
    // COMMIT of a transaction an earlier statement aborted answers ROLLBACK.
    if (r->command() != "COMMIT") {
      return MakeError(Errc::kInternal, "postgres transaction rolled back instead of committing");
    }
    return {};
  }

 private:
  explicit Transaction(Connection& conn) : conn_(&conn) {}
  Connection* conn_;
};

// ---------------------------------------------------------------------------
// Rows.

Result<jobs::Job> JobFromRow(const Rows& rows, int row) {
  jobs::Job job;
  job.id = rows.Int(row, 0);
  job.type = rows.Text(row, 1);
  job.owner = rows.Text(row, 2);
  job.title = rows.Text(row, 3);
  job.url = rows.Text(row, 4);
  job.max_pages = static_cast<int>(rows.Int(row, 5));
  const std::string status = rows.Text(row, 6);
  auto parsed = jobs::ParseJobStatus(status);
  if (!parsed) {
    return MakeError(Errc::kInternal, "job " + std::to_string(job.id) +
                                          " has unknown status in the database: " + status);
  }
  job.status = *parsed;
  job.progress = static_cast<int>(rows.Int(row, 7));
  job.message = rows.OptText(row, 8);
  job.step = rows.OptText(row, 9);
  job.total_pages = rows.OptInt(row, 10);
  job.geo_score = rows.OptDouble(row, 11);
  job.critical_issues = rows.OptInt(row, 12);
  job.high_issues = rows.OptInt(row, 13);
  job.medium_issues = rows.OptInt(row, 14);
  job.low_issues = rows.OptInt(row, 15);
  job.error_message = rows.OptText(row, 16);
  job.data_json = rows.OptText(row, 17);
  job.report_json = rows.OptText(row, 18);
  job.created_at_ms = rows.Int(row, 19);
  job.updated_at_ms = rows.Int(row, 20);
  job.last_seq = rows.Int(row, 21);
  return job;
}

std::vector<FeedEntry> FeedFromRows(const Rows& rows) {
  std::vector<FeedEntry> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back(FeedEntry{rows.Int(i, 0), rows.Bool(i, 1), rows.Int(i, 2), rows.Int(i, 3),
                            rows.Text(i, 4), rows.Text(i, 5), rows.Text(i, 6)});
  }
  return out;
}

Result<jobs::Job> LoadJob(Connection& conn, int64_t id) {
  static const std::string kSql = "SELECT " + std::string(kJobColumns) + " FROM jobs WHERE id = $1";
  auto rows = conn.Exec(kSql.c_str(), Params().Int(id), "reading a job");
  if (!rows) return rows.error();
  if (rows->size() == 0)
    return MakeError(Errc::kNotFound, "job " + std::to_string(id) + " not found");
  return JobFromRow(*rows, 0);
}

// The feed writers' lock (see AppendFeedRow), held until the transaction
// ends. A statement of its own: in READ COMMITTED the INSERT that follows takes
// its snapshot when it starts, after the lock is ours, so it sees the
// previous holder's row.
Result<void> TakeFeedLock(Connection& conn) {
  auto r = conn.Exec("SELECT pg_advisory_xact_lock($1::bigint)", Params().Int(kFeedLockKey),
                     "waiting for the feed lock");
  if (!r) return r.error();
  return {};
}

// Inserts a feed row (a job event or a notice) with the next feed id and
// returns that id. Must run inside a transaction, as late as possible: the
// lock it takes is held until COMMIT.
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
// pruning keeps every job's newest event and notices are never pruned.
Result<int64_t> AppendFeedRow(Connection& conn, const FeedEntry& entry, int64_t now_ms) {
  if (auto r = TakeFeedLock(conn); !r) return r.error();
  Params p;
  if (entry.notice) {
    p.Null().Null();
  } else {
    p.Int(entry.job_id).Int(entry.seq);
  }
  p.Bool(entry.notice).Text(entry.audience).Text(entry.event).Text(entry.data).Int(now_ms);
  auto rows = conn.Exec(
      "INSERT INTO events (id, job_id, seq, notice, audience, event, payload, created_at) "
      "VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM events), $1, $2, $3, $4, $5, $6, $7) "
      "RETURNING id",
      p, entry.notice ? "recording a notice" : "recording a job event");
  if (!rows) return rows.error();
  return rows->Int(0, 0);
}

// Appends a job's latest state as its event `job.last_seq`; the same row is
// the job's entry in the notification feed.
Result<Applied> AppendJobEvent(Connection& conn, const jobs::Job& job, int64_t now_ms) {
  Applied applied = AppliedFor(job, now_ms);
  auto id = AppendFeedRow(conn, applied.feed, now_ms);
  if (!id) return id.error();
  applied.feed.id = *id;
  return applied;
}

// The batch steps of ApplyUpdates, each one statement whatever the batch
// size: the rows travel as one JSON parameter that the server unpacks
// (json_populate_recordset / json_to_recordset), so no value is ever part
// of the SQL text and 500 updates cost the round trips of one.
class PgBatchRows final : public BatchRows {
 public:
  explicit PgBatchRows(Connection& conn) : conn_(conn) {}

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
    auto rows = conn_.Exec(kSql.c_str(), Params().Text(array), "reading jobs");
    if (!rows) return rows.error();
    std::vector<jobs::Job> out;
    out.reserve(rows->size());
    for (int i = 0; i < rows->size(); ++i) {
      auto job = JobFromRow(*rows, i);
      if (!job) return job.error();
      out.push_back(std::move(*job));
    }
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
    auto r = conn_.Exec(
        "UPDATE jobs AS j SET status = r.status, progress = r.progress, message = r.message, "
        "step = r.step, total_pages = r.total_pages, geo_score = r.geo_score, "
        "critical_issues = r.critical_issues, high_issues = r.high_issues, "
        "medium_issues = r.medium_issues, low_issues = r.low_issues, "
        "error_message = r.error_message, data = r.data, report = r.report, "
        "updated_at = r.updated_at, last_seq = r.last_seq "
        "FROM (SELECT * FROM json_populate_recordset(NULL::jobs, $1::json) LIMIT $2) AS r "
        "WHERE j.id = r.id",
        Params().Text(json::serialize(rows)).Int(static_cast<int64_t>(rows.size())),
        "writing jobs");
    if (!r) return r.error();
    return {};
  }

  // The LIMIT with the batch's real size in the two joins (writing jobs,
  // pruning events) is for the planner: it assumes a JSON record set has
  // 100 rows, and against 10,000 jobs that makes a hash join over a
  // sequential scan of the whole table (4 ms a batch) look cheaper than an
  // index probe per row. PQexecParams plans with the actual values.
  Result<std::optional<std::string>> AuditLeaseHolder(int64_t job_id, int64_t now_ms) override {
    auto rows = conn_.Exec(
        "SELECT lease_owner FROM jobs WHERE id = $1 AND status IN ('pending', 'running') AND "
        "lease_owner IS NOT NULL AND COALESCE(lease_expires_at, 0) >= $2",
        Params().Int(job_id).Int(now_ms), "reading an audit's lease");
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<std::string>{};
    return std::optional<std::string>{rows->Text(0, 0)};
  }
  Result<void> PruneEvents(std::span<const std::pair<int64_t, int64_t>> cutoffs) override {
    json::array rows;
    for (const auto& [job_id, cutoff] : cutoffs)
      rows.push_back(json::object{{"j", job_id}, {"c", cutoff}});
    auto r = conn_.Exec(
        "DELETE FROM events AS e USING (SELECT * FROM json_to_recordset($1::json) "
        "AS c(j bigint, c bigint) LIMIT $2) AS c WHERE e.job_id = c.j AND e.seq <= c.c",
        Params().Text(json::serialize(rows)).Int(static_cast<int64_t>(rows.size())),
        "pruning old events");
    if (!r) return r.error();
    return {};
  }

  // Feed ids as AppendFeedRow explains: under the feed lock, MAX(id) + 1 on.
  Result<void> AppendEvents(std::span<Applied* const> events) override {
    if (auto r = TakeFeedLock(conn_); !r) return r.error();
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
    // lock above is ours: see AppendFeedRow for why that order matters.
    auto inserted = conn_.Exec(
        "INSERT INTO events (id, job_id, seq, notice, audience, event, payload, created_at) "
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM events) + r.n, r.job_id, r.seq, false, "
        "r.audience, r.event, r.payload, r.created_at FROM json_to_recordset($1::json) AS "
        "r(n bigint, job_id bigint, seq bigint, audience text, event text, payload text, "
        "created_at bigint) RETURNING id",
        Params().Text(json::serialize(rows)), "recording job events");
    if (!inserted) return inserted.error();
    if (inserted->size() != static_cast<int>(events.size()))
      return MakeError(Errc::kInternal, "recording job events: row count mismatch");
    int64_t first = inserted->Int(0, 0);
    for (int i = 1; i < inserted->size(); ++i) first = std::min(first, inserted->Int(i, 0));
    for (size_t i = 0; i < events.size(); ++i) events[i]->feed.id = first + static_cast<int64_t>(i);
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

  Connection& conn_;
};

// ---------------------------------------------------------------------------
// Opening.

// The version recorded in the database; 0 for a database Herald never
// migrated.
Result<int> ReadSchemaVersion(Connection& conn) {
  auto exists = conn.Exec("SELECT to_regclass('herald_schema_version') IS NOT NULL",
                          "looking for the schema version");
  if (!exists) return exists.error();
  if (!exists->Bool(0, 0)) return 0;
  auto rows = conn.Exec("SELECT COALESCE(MAX(version), 0) FROM herald_schema_version",
                        "reading the schema version");
  if (!rows) return rows.error();
  return static_cast<int>(rows->Int(0, 0));
}

// Applies the steps newer than the database's version in one transaction,
// so a crash mid-migration leaves the previous version intact. The
// transaction-scoped advisory lock makes processes that start together take
// turns: the first migrates, the others then find the schema current.
// Checking for the version table (rather than CREATE TABLE IF NOT EXISTS)
// lets a role without CREATE rights open a database already migrated.
Result<void> Migrate(Connection& conn, const std::string& shown) {
  auto fail = [&](const Error& e) {
    return MakeError(e.code, "migrating database " + shown + ": " + e.message);
  };
  auto txn = Transaction::Begin(conn);
  if (!txn) return fail(txn.error());
  // DDL on a large table may take longer than a request may.
  if (auto r = conn.Exec("SET LOCAL statement_timeout = 0", "lifting the statement timeout"); !r) {
    return fail(r.error());
  }
  if (auto r = conn.Exec("SELECT pg_advisory_xact_lock($1::bigint)",
                         Params().Int(kMigrationLockKey), "waiting for the migration lock");
      !r) {
    return fail(r.error());
  }
  auto version = ReadSchemaVersion(conn);
  if (!version) return fail(version.error());
  if (*version > kLatestVersion) {
    return MakeError(Errc::kInternal, "database " + shown + " has schema version " +
                                          std::to_string(*version) +
                                          ", newer than this build knows (" +
                                          std::to_string(kLatestVersion) + "); upgrade Herald");
  }
  if (*version == kLatestVersion) return {};  // rolls back the empty transaction
  for (const Migration& m : kMigrations) {
    if (m.version <= *version) continue;
    const std::string doing = "applying migration " + std::to_string(m.version);
    if (auto r = conn.ExecScript(m.sql, doing); !r) return fail(r.error());
  }
  if (auto r = conn.Exec("DELETE FROM herald_schema_version", "recording the schema version"); !r) {
    return fail(r.error());
  }
  if (auto r = conn.Exec("INSERT INTO herald_schema_version (version) VALUES ($1)",
                         Params().Int(kLatestVersion), "recording the schema version");
      !r) {
    return fail(r.error());
  }
  if (auto r = txn->Commit(); !r) return fail(r.error());
  return {};
}

}  // namespace

std::string RedactDatabaseUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return RedactKeywordPassword(url);
  std::string out = url;
  if (auto span = UserinfoPassword(url)) out.replace(span->pos, span->len, "***");
  // ...?password=secret&...
  const size_t query = out.find('?', scheme_end);
  if (query == std::string::npos) return out;
  return out.substr(0, query) + RedactKeywordPassword(out.substr(query));
}

// ---------------------------------------------------------------------------

class PostgresStore::Impl {
 public:
  explicit Impl(const PostgresOptions& options)
      : retention_(options.event_retention),
        clock_(options.clock != nullptr ? options.clock : &system_clock_) {}

  Result<void> Open(const PostgresOptions& options) {
    auto target = MakeTarget(options);
    if (!target) return target.error();
    target_ = std::move(*target);
    auto first = Connection::Open(target_);
    if (!first) return first.error();
    if (auto r = Migrate(**first, target_.shown); !r) return r.error();
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

  // Runs `fn(Connection&)` for a read. Reading twice is harmless, so a read
  // whose connection broke under it (the server restarted, a proxy dropped
  // the idle socket) reconnects and runs once more.
  template <class Fn>
  auto Read(Fn&& fn) {
    return Run(fn, /*retry=*/true);
  }

  // Runs `fn(Connection&)` for a write. Never retried: when the connection
  // broke after COMMIT was sent, the write may have happened, and doing it
  // again would record an update twice. The caller gets kUnavailable.
  template <class Fn>
  auto Write(Fn&& fn) {
    return Run(fn, /*retry=*/false);
  }

  int64_t NowMs() const { return clock_->NowMs(); }
  int retention() const { return retention_; }

 private:
  // A connection borrowed from the pool for one call (none if the pool had
  // none free before the deadline).
  class Lease {
   public:
    Lease(Impl& impl, Deadline deadline) : impl_(impl), conn_(impl.Acquire(deadline)) {}
    ~Lease() {
      if (conn_ != nullptr) impl_.Release(conn_);
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    explicit operator bool() const { return conn_ != nullptr; }
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_; }

   private:
    Impl& impl_;
    Connection* conn_;
  };

  // One call: at most the call timeout from here, waiting for a free
  // connection, reconnecting and every statement included.
  template <class Fn>
  auto Run(Fn& fn, bool retry) -> std::invoke_result_t<Fn&, Connection&> {
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
    // Transaction rolls back on every path; this guards the pool against a
    // slip, since a transaction left open could hold the feed lock and stop
    // every writer in every process.
    if (conn->ok() && conn->in_transaction()) (void)conn->Exec("ROLLBACK", "rolling back");
    conn->SetDeadline(kNoDeadline);
    {
      std::lock_guard lock(mu_);
      idle_.push_back(conn);
    }
    idle_cv_.notify_one();
  }

  const int retention_;
  SystemClock system_clock_;
  const Clock* clock_;
  Target target_;  // before connections_: they refer to it
  std::vector<std::unique_ptr<Connection>> connections_;
  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::vector<Connection*> idle_;  // guarded by mu_
};

PostgresStore::PostgresStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresStore::~PostgresStore() = default;

int PostgresStore::SchemaVersion() { return kLatestVersion; }

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresOptions& options) {
  if (options.url.empty()) return MakeError(Errc::kInternal, "postgres store: empty database URL");
  if (options.event_retention < 1 || options.connections < 1 || options.lock_timeout.count() < 0) {
    return MakeError(Errc::kInternal, "postgres store " + RedactDatabaseUrl(options.url) +
                                          ": event_retention and connections must be at least 1 "
                                          "and lock_timeout not negative");
  }
  auto impl = std::make_unique<Impl>(options);
  if (auto r = impl->Open(options); !r) return r.error();
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(impl)));
}

Result<Applied> PostgresStore::CreateJob(const NewJob& in) {
  if (in.type.empty()) return MakeError(Errc::kBadRequest, "job type must not be empty");
  return impl_->Write([&](Connection& conn) -> Result<Applied> {
    auto txn = Transaction::Begin(conn);
    if (!txn) return txn.error();
    jobs::Job job = NewPendingJob(in, impl_->NowMs());
    Params p;
    p.Text(job.type)
        .Text(job.owner)
        .Text(job.title)
        .Text(job.url)
        .Int(job.max_pages)
        .Text(jobs::ToString(job.status))
        .Int(job.created_at_ms);
    auto rows = conn.Exec(
        "INSERT INTO jobs (type, owner, title, url, max_pages, status, progress, "
        "created_at, updated_at, last_seq) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7, 1) "
        "RETURNING id",
        p, "creating a job");
    if (!rows) return rows.error();
    job.id = rows->Int(0, 0);
    auto applied = AppendJobEvent(conn, job, job.created_at_ms);
    if (!applied) return applied.error();
    if (auto r = txn->Commit(); !r) return r.error();
    return applied;
  });
}

Result<jobs::Job> PostgresStore::GetJob(int64_t id) {
  return impl_->Read([&](Connection& conn) { return LoadJob(conn, id); });
}

Result<std::vector<jobs::Job>> PostgresStore::ListJobs(const JobQuery& query) {
  // A literal WHERE per shape lets the planner pick the (owner, id) or
  // (type, id) index; values still travel as parameters.
  std::string sql = "SELECT " + std::string(kJobColumns) + " FROM jobs WHERE TRUE";
  Params p;
  if (query.owner) {
    p.Text(*query.owner);
    sql += " AND owner = $" + std::to_string(p.size());
  }
  // Both flags together ask for nothing, which the two conditions express.
  if (query.audits_only) sql += " AND type = 'audit'";
  if (query.exclude_audits) sql += " AND type <> 'audit'";
  if (query.status) {
    p.Text(std::string(jobs::ToString(*query.status)));
    sql += " AND status = $" + std::to_string(p.size());
  }
  // A search scans the caller's rows (a dashboard's list, not a hot path).
  if (!query.search.empty()) {
    p.Text(SearchPattern(query.search));
    const std::string s = "$" + std::to_string(p.size());
    p.Text(query.search);
    sql += " AND (url ILIKE " + s + " ESCAPE '\\' OR title ILIKE " + s +
           " ESCAPE '\\' OR type ILIKE " + s + " ESCAPE '\\' OR id::text = $" +
           std::to_string(p.size()) + ")";
  }
  p.Int(std::clamp(query.limit, 1, kMaxListLimit));
  sql += " ORDER BY id DESC LIMIT $" + std::to_string(p.size());
  p.Int(std::max(query.offset, 0));
  sql += " OFFSET $" + std::to_string(p.size());

  return impl_->Read([&](Connection& conn) -> Result<std::vector<jobs::Job>> {
    auto rows = conn.Exec(sql.c_str(), p, "listing jobs");
    if (!rows) return rows.error();
    std::vector<jobs::Job> out;
    out.reserve(static_cast<size_t>(rows->size()));
    for (int i = 0; i < rows->size(); ++i) {
      auto job = JobFromRow(*rows, i);
      if (!job) return job.error();
      out.push_back(std::move(*job));
    }
    return out;
  });
}

Result<std::vector<UpdateOutcome>> PostgresStore::UpdateJobs(std::span<const JobUpdate> updates) {
  if (updates.empty()) return std::vector<UpdateOutcome>{};
  return impl_->Write([&](Connection& conn) -> Result<std::vector<UpdateOutcome>> {
    // One transaction holding the jobs' row locks: a concurrent writer
    // (another Herald process) can neither slip an update between our read
    // and write nor take our seq. Each step is one statement for the whole
    // batch, so a batch costs the same few round trips as one update.
    auto txn = Transaction::Begin(conn);
    if (!txn) return txn.error();
    PgBatchRows rows(conn);
    auto outcomes = ApplyUpdates(rows, updates, impl_->NowMs(), impl_->retention());
    if (!outcomes) return outcomes.error();
    if (auto r = txn->Commit(); !r) return r.error();
    return outcomes;
  });
}

Result<std::optional<AuditClaim>> PostgresStore::ClaimAudit(const std::string& worker,
                                                            int64_t lease_ms) {
  const int64_t now = impl_->NowMs();
  return impl_->Write([&](Connection& conn) -> Result<std::optional<AuditClaim>> {
    // One statement, so no transaction to manage. Oldest first: unleased
    // pending audits, and any whose lease ran out (its worker died while
    // running, or before it said "running"). SKIP LOCKED: claimers in other
    // threads and processes each lock a different row instead of queueing
    // on the oldest; a row whose lease another claimer renewed meanwhile is
    // re-checked against the condition and passed over. The timestamps are
    // the store's clock, not now() in SQL, so a test clock applies.
    static const std::string kSql =
        "UPDATE jobs SET lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1 "
        "WHERE id = (SELECT id FROM jobs WHERE type = 'audit' AND status IN ('pending', "
        "'running') AND COALESCE(lease_expires_at, 0) < $3 ORDER BY id LIMIT 1 "
        "FOR UPDATE SKIP LOCKED) RETURNING " +
        std::string(kJobColumns) + ", attempts";
    auto rows = conn.Exec(kSql.c_str(), Params().Text(worker).Int(now + lease_ms).Int(now),
                          "claiming an audit");
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<AuditClaim>{};
    auto job = JobFromRow(*rows, 0);
    if (!job) return job.error();
    const int attempt = static_cast<int>(rows->Int(0, kJobColumnCount));
    return std::optional<AuditClaim>{AuditClaim{std::move(*job), attempt}};
  });
}

Result<bool> PostgresStore::RenewLease(int64_t job_id, const std::string& worker,
                                       int64_t lease_ms) {
  const int64_t expires = impl_->NowMs() + lease_ms;
  return impl_->Write([&](Connection& conn) -> Result<bool> {
    auto rows = conn.Exec(
        "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3 AND "
        "status NOT IN ('completed', 'failed')",
        Params().Int(expires).Int(job_id).Text(worker), "renewing an audit lease");
    if (!rows) return rows.error();
    return rows->affected() == 1;
  });
}

Result<std::vector<StoredEvent>> PostgresStore::EventsAfter(int64_t job_id, int64_t after_seq,
                                                            int limit) {
  if (limit <= 0) return std::vector<StoredEvent>{};
  return impl_->Read([&](Connection& conn) -> Result<std::vector<StoredEvent>> {
    auto rows = conn.Exec(
        "SELECT seq, payload, created_at FROM events WHERE job_id = $1 AND seq > $2 "
        "ORDER BY seq LIMIT $3",
        Params().Int(job_id).Int(after_seq).Int(limit), "reading job events");
    if (!rows) return rows.error();
    std::vector<StoredEvent> out;
    out.reserve(static_cast<size_t>(rows->size()));
    for (int i = 0; i < rows->size(); ++i) {
      out.push_back(StoredEvent{job_id, rows->Int(i, 0), rows->Text(i, 1), rows->Int(i, 2)});
    }
    return out;
  });
}

Result<FeedEntry> PostgresStore::AddNotice(const NewNotice& notice) {
  if (notice.user.empty()) return MakeError(Errc::kBadRequest, "notice user must not be empty");
  if (notice.type.empty()) return MakeError(Errc::kBadRequest, "notice type must not be empty");
  const int64_t now = impl_->NowMs();
  auto payload = NoticePayload(notice, now);
  if (!payload) return payload.error();
  return impl_->Write([&](Connection& conn) -> Result<FeedEntry> {
    // A transaction even for one row: the feed lock is transaction-scoped,
    // and in autocommit it would be released before the INSERT.
    auto txn = Transaction::Begin(conn);
    if (!txn) return txn.error();
    FeedEntry entry{0, true, 0, 0, notice.user, notice.type, *payload};
    auto id = AppendFeedRow(conn, entry, now);
    if (!id) return id.error();
    if (auto r = txn->Commit(); !r) return r.error();
    entry.id = *id;
    return entry;
  });
}

Result<std::vector<FeedEntry>> PostgresStore::FeedFor(const std::string& user, bool admin,
                                                      int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<FeedEntry>{};
  return impl_->Read([&](Connection& conn) -> Result<std::vector<FeedEntry>> {
    // Admins see every job event but only their own and broadcast notices:
    // a notice is addressed to a person, not to a role.
    static const std::string kSql =
        "SELECT " + std::string(kFeedColumns) +
        " FROM events WHERE id > $1 AND ((NOT notice AND ($3 OR audience = $2)) OR "
        "(notice AND audience IN ($2, '*'))) ORDER BY id LIMIT $4";
    auto rows = conn.Exec(kSql.c_str(), Params().Int(after_id).Text(user).Bool(admin).Int(limit),
                          "reading the feed");
    if (!rows) return rows.error();
    return FeedFromRows(*rows);
  });
}

Result<std::vector<FeedEntry>> PostgresStore::FeedAll(int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<FeedEntry>{};
  return impl_->Read([&](Connection& conn) -> Result<std::vector<FeedEntry>> {
    static const std::string kSql =
        "SELECT " + std::string(kFeedColumns) + " FROM events WHERE id > $1 ORDER BY id LIMIT $2";
    auto rows = conn.Exec(kSql.c_str(), Params().Int(after_id).Int(limit), "reading the feed");
    if (!rows) return rows.error();
    return FeedFromRows(*rows);
  });
}

Result<int64_t> PostgresStore::LatestFeedId() {
  return impl_->Read([&](Connection& conn) -> Result<int64_t> {
    // Pruning never removes a job's newest event and notices are kept, so
    // the highest id still present is the highest ever issued.
    auto rows = conn.Exec("SELECT COALESCE(MAX(id), 0) FROM events", "reading the latest feed id");
    if (!rows) return rows.error();
    return rows->Int(0, 0);
  });
}

Result<void> PostgresStore::Ping() {
  auto unavailable = [](const Error& e) {
    return e.code == Errc::kUnavailable ? e : DatabaseUnavailable(Describe(e));
  };
  // A write, committed: a read-only server (or one out of disk) is down
  // for Herald even while it still answers reads. Retried like a read on a
  // connection found broken: writing the same row twice changes nothing.
  return impl_->Read([&](Connection& conn) -> Result<void> {
    auto txn = Transaction::Begin(conn);
    if (!txn) return unavailable(txn.error());
    if (auto r = conn.Exec("INSERT INTO herald_health (id, checked_at) VALUES (1, $1) "
                           "ON CONFLICT (id) DO UPDATE SET checked_at = EXCLUDED.checked_at",
                           Params().Int(impl_->NowMs()), "writing the health row");
        !r) {
      return unavailable(r.error());
    }
    if (auto r = txn->Commit(); !r) return unavailable(r.error());
    return {};
  });
}

Result<void> PostgresStore::AddTicket(const NewTicket& ticket) {
  const int64_t now = impl_->NowMs();
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto txn = Transaction::Begin(conn);
    if (!txn) return txn.error();
    if (auto r = conn.Exec("DELETE FROM stream_tickets WHERE expires_at <= $1", Params().Int(now),
                           "forgetting expired tickets");
        !r) {
      return r.error();
    }
    if (auto r = conn.Exec("INSERT INTO stream_tickets (hash, user_id, role, stream, expires_at, "
                           "credentials_expire_at) VALUES ($1, $2, $3, $4, $5, $6)",
                           Params()
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

Result<RedeemedTicket> PostgresStore::RedeemTicket(const std::string& hash) {
  const int64_t now = impl_->NowMs();
  // Not retried on a lost connection: the DELETE may have taken the ticket.
  return impl_->Write([&](Connection& conn) -> Result<RedeemedTicket> {
    auto rows = conn.Exec(
        "DELETE FROM stream_tickets WHERE hash = $1 AND expires_at > $2 "
        "RETURNING user_id, role, stream, credentials_expire_at",
        Params().Text(hash).Int(now), "redeeming a ticket");
    if (!rows) return rows.error();
    if (rows->size() != 1) return MakeError(Errc::kUnauthorized, "invalid or expired ticket");
    return RedeemedTicket{rows->Text(0, 0), rows->Text(0, 1), rows->Text(0, 2), rows->Int(0, 3)};
  });
}

}  // namespace herald::store
