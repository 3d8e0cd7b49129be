#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "common/clock.h"
#include "store/sqlite_checkpointer.h"

namespace herald::store {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------------------
// Schema. Steps are applied in order, each once; PRAGMA user_version records
// the last one applied. Never edit a released step: append a new one.

struct Migration {
  int version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE jobs (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  type            TEXT    NOT NULL,
  owner           TEXT    NOT NULL,
  title           TEXT    NOT NULL DEFAULT '',
  url             TEXT    NOT NULL DEFAULT '',
  max_pages       INTEGER NOT NULL DEFAULT 0,
  status          TEXT    NOT NULL,
  progress        INTEGER NOT NULL DEFAULT 0,
  message         TEXT,
  step            TEXT,
  total_pages     INTEGER,
  geo_score       REAL,
  critical_issues INTEGER,
  high_issues     INTEGER,
  medium_issues   INTEGER,
  low_issues      INTEGER,
  error_message   TEXT,
  data            TEXT,
  report          TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  last_seq        INTEGER NOT NULL
);
CREATE INDEX jobs_owner_id ON jobs (owner, id DESC);
CREATE INDEX jobs_type_id ON jobs (type, id DESC);

-- One table for both logs: a job's event history (job_id, seq) and the
-- notification feed (id). Sharing the AUTOINCREMENT id gives every job event
-- and notice one global order, which /notify/events resumes from.
CREATE TABLE events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id     INTEGER REFERENCES jobs (id),
  seq        INTEGER,
  notice     INTEGER NOT NULL,
  audience   TEXT    NOT NULL,
  event      TEXT    NOT NULL,
  payload    TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (job_id, seq)
);
CREATE INDEX events_audience_id ON events (audience, id);
)sql"},
    {2, R"sql(
-- Audit work queue: who holds a running audit, until when, and how often it
-- was claimed (a claim after the first means a worker died).
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at INTEGER;
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_claim ON jobs (type, status, id);
)sql"},
    {3, R"sql(
-- One row /healthz rewrites: a database that cannot take a write (disk
-- full, read-only) is down even while reads still work.
CREATE TABLE health (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  checked_at INTEGER NOT NULL
);
-- Stream tickets: single use, short-lived; only their hash is kept.
CREATE TABLE stream_tickets (
  hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  stream TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  credentials_expire_at INTEGER NOT NULL
);
CREATE INDEX stream_tickets_expiry ON stream_tickets (expires_at);
)sql"},
};

constexpr int kLatestVersion = kMigrations[std::size(kMigrations) - 1].version;

// ListJobs' limit is clamped so one request cannot load the whole table.
constexpr int kMaxListLimit = 501;  // the API's 500, plus one: is there a next page?

constexpr std::string_view kJobColumns =
    "id, type, owner, title, url, max_pages, status, progress, message, step, "
    "total_pages, geo_score, critical_issues, high_issues, medium_issues, "
    "low_issues, error_message, data, report, created_at, updated_at, last_seq";

constexpr std::string_view kFeedColumns =
    "id, notice, COALESCE(job_id, 0), COALESCE(seq, 0), audience, event, payload";

// ---------------------------------------------------------------------------
// Errors.

// The database cannot answer now: a lock held past busy_timeout (another
// process wedged it), a full disk, a file gone read-only or failing I/O.
// The caller sees 503 "database unavailable" and can retry once it is
// fixed (nothing was half-applied: the transaction rolled back); the log
// has SQLite's words. Everything else is unexpected (a bug: 500).
bool IsUnavailable(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

Error SqlError(sqlite3* db, int rc, std::string_view doing) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (IsUnavailable(rc)) {
    return DatabaseUnavailable("sqlite, while " + std::string(doing) + ": " + detail);
  }
  return MakeError(Errc::kInternal, "sqlite error while " + std::string(doing) + ": " + detail);
}

// ---------------------------------------------------------------------------
// RAII wrappers.

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// A cached prepared statement borrowed for one use. It resets on
// destruction so the next borrower starts clean and no read transaction is
// left open (an open one would pin the WAL and block checkpoints).
// Bind errors are remembered and reported by the first Step().
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_rc_(other.bind_rc_) {}
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  Stmt& Int(int index, int64_t value) { return Check(sqlite3_bind_int64(stmt_, index, value)); }
  Stmt& Double(int index, double value) { return Check(sqlite3_bind_double(stmt_, index, value)); }
  Stmt& Text(int index, std::string_view value) {
    return Check(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8));
  }
  Stmt& Null(int index) { return Check(sqlite3_bind_null(stmt_, index)); }
  Stmt& OptText(int index, const std::optional<std::string>& value) {
    return value ? Text(index, *value) : Null(index);
  }
  Stmt& OptInt(int index, const std::optional<int64_t>& value) {
    return value ? Int(index, *value) : Null(index);
  }
  Stmt& OptDouble(int index, const std::optional<double>& value) {
    return value ? Double(index, *value) : Null(index);
  }

  // True with a row to read, false when the statement is done.
  Result<bool> Step(std::string_view doing) {
    if (bind_rc_ != SQLITE_OK) return SqlError(db_, bind_rc_, doing);
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqlError(db_, rc, doing);
  }

  // Runs a statement that returns no rows.
  Result<void> Run(std::string_view doing) {
    auto row = Step(doing);
    if (!row) return row.error();
    return {};
  }

  int64_t ColInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string ColText(int col) const {
    const auto* text = sqlite3_column_text(stmt_, col);
    if (text == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(text),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  std::optional<std::string> ColOptText(int col) const {
    if (IsNull(col)) return std::nullopt;
    return ColText(col);
  }
  std::optional<int64_t> ColOptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return ColInt(col);
  }
  std::optional<double> ColOptDouble(int col) const {
    if (IsNull(col)) return std::nullopt;
    return sqlite3_column_double(stmt_, col);
  }

 private:
  Stmt& Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = SQLITE_OK;
};

// One sqlite3 connection and its statement cache. Not thread-safe: the owner
// serializes use (SqliteStore::Impl holds a mutex per connection).
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                  std::chrono::milliseconds busy_timeout) {
    sqlite3* raw = nullptr;
    // NOMUTEX: each connection is used by one thread at a time under our own
    // mutex, so SQLite's per-connection lock would only cost time.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    DbHandle db(raw);  // sqlite3_open_v2 allocates a handle even on failure.
    if (rc != SQLITE_OK) {
      return MakeError(Errc::kInternal, "cannot open database " + path + ": " +
                                            (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    sqlite3_busy_timeout(db.get(), static_cast<int>(busy_timeout.count()));
    return std::unique_ptr<Connection>(new Connection(std::move(db)));
  }

  sqlite3* get() const { return db_.get(); }

  // A statement from the cache, prepared on first use.
  Result<Stmt> Prepare(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it == cache_.end()) {
      sqlite3_stmt* raw = nullptr;
      const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                        SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      StmtHandle stmt(raw);
      if (rc != SQLITE_OK) return SqlError(db_.get(), rc, "preparing a statement");
      it = cache_.emplace(std::string(sql), std::move(stmt)).first;
    }
    return Stmt(db_.get(), it->second.get());
  }

  // Runs one or more statements without results (pragmas, DDL).
  Result<void> Exec(const char* sql, std::string_view doing) {
    const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqlError(db_.get(), rc, doing);
    return {};
  }

  // The first column of a one-row pragma or query, as text.
  Result<std::string> QueryText(std::string_view sql, std::string_view doing) {
    auto stmt = Prepare(sql);
    if (!stmt) return stmt.error();
    auto row = stmt->Step(doing);
    if (!row) return row.error();
    if (!*row) return std::string();
    return stmt->ColText(0);
  }

 private:
  explicit Connection(DbHandle db) : db_(std::move(db)) {}

  DbHandle db_;
  // Declared after db_ so statements are finalized before the handle closes.
  std::unordered_map<std::string, StmtHandle> cache_;
};

// A BEGIN IMMEDIATE transaction: takes the write lock up front, so two
// writers never deadlock upgrading a read lock. Rolls back unless committed.
class WriteTransaction {
 public:
  static Result<WriteTransaction> Begin(Connection& conn) {
    auto begin = conn.Prepare("BEGIN IMMEDIATE");
    if (!begin) return begin.error();
    if (auto r = begin->Run("starting a write transaction"); !r) return r.error();
    return WriteTransaction(conn);
  }
  WriteTransaction(WriteTransaction&& other) noexcept
      : conn_(std::exchange(other.conn_, nullptr)) {}
  WriteTransaction& operator=(WriteTransaction&&) = delete;
  ~WriteTransaction() {
    if (conn_ == nullptr) return;
    // Failing to roll back leaves nothing better to do; autocommit resumes
    // once SQLite itself gives up the transaction.
    if (auto stmt = conn_->Prepare("ROLLBACK")) (void)stmt->Run("rolling back");
  }

  Result<void> Commit() {
    auto commit = conn_->Prepare("COMMIT");
    if (!commit) return commit.error();
    if (auto r = commit->Run("committing"); !r) return r.error();  // still rolls back
    conn_ = nullptr;
    return {};
  }

 private:
  explicit WriteTransaction(Connection& conn) : conn_(&conn) {}
  Connection* conn_;
};

// ---------------------------------------------------------------------------
// Rows.

Result<jobs::Job> JobFromRow(const Stmt& row) {
  jobs::Job job;
  job.id = row.ColInt(0);
  job.type = row.ColText(1);
  job.owner = row.ColText(2);
  job.title = row.ColText(3);
  job.url = row.ColText(4);
  job.max_pages = static_cast<int>(row.ColInt(5));
  const std::string status = row.ColText(6);
  auto parsed = jobs::ParseJobStatus(status);
  if (!parsed) {
    return MakeError(Errc::kInternal, "job " + std::to_string(job.id) +
                                          " has unknown status in the database: " + status);
  }
  job.status = *parsed;
  job.progress = static_cast<int>(row.ColInt(7));
  job.message = row.ColOptText(8);
  job.step = row.ColOptText(9);
  job.total_pages = row.ColOptInt(10);
  job.geo_score = row.ColOptDouble(11);
  job.critical_issues = row.ColOptInt(12);
  job.high_issues = row.ColOptInt(13);
  job.medium_issues = row.ColOptInt(14);
  job.low_issues = row.ColOptInt(15);
  job.error_message = row.ColOptText(16);
  job.data_json = row.ColOptText(17);
  job.report_json = row.ColOptText(18);
  job.created_at_ms = row.ColInt(19);
  job.updated_at_ms = row.ColInt(20);
  job.last_seq = row.ColInt(21);
  return job;
}

FeedEntry FeedFromRow(const Stmt& row) {
  FeedEntry entry;
  entry.id = row.ColInt(0);
  entry.notice = row.ColInt(1) != 0;
  entry.job_id = row.ColInt(2);
  entry.seq = row.ColInt(3);
  entry.audience = row.ColText(4);
  entry.event = row.ColText(5);
  entry.data = row.ColText(6);
  return entry;
}

Result<jobs::Job> LoadJob(Connection& conn, int64_t id) {
  static const std::string kSql = "SELECT " + std::string(kJobColumns) + " FROM jobs WHERE id = ?1";
  auto stmt = conn.Prepare(kSql);
  if (!stmt) return stmt.error();
  stmt->Int(1, id);
  auto row = stmt->Step("reading a job");
  if (!row) return row.error();
  if (!*row) return MakeError(Errc::kNotFound, "job " + std::to_string(id) + " not found");
  return JobFromRow(*stmt);
}

Result<std::vector<FeedEntry>> CollectFeed(Stmt& stmt) {
  std::vector<FeedEntry> out;
  for (;;) {
    auto row = stmt.Step("reading the feed");
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(FeedFromRow(stmt));
  }
}

// Records `applied` as the job's event `applied.event.seq`; the same row is
// the job's entry in the notification feed, whose id it sets.
Result<void> InsertJobEvent(Connection& conn, Applied& applied) {
  auto stmt = conn.Prepare(
      "INSERT INTO events (job_id, seq, notice, audience, event, payload, created_at) "
      "VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6)");
  if (!stmt) return stmt.error();
  stmt->Int(1, applied.job.id)
      .Int(2, applied.event.seq)
      .Text(3, applied.feed.audience)
      .Text(4, applied.feed.event)
      .Text(5, applied.event.payload)
      .Int(6, applied.event.created_at_ms);
  if (auto r = stmt->Run("recording a job event"); !r) return r.error();
  applied.feed.id = sqlite3_last_insert_rowid(conn.get());
  return {};
}

// Appends a job's latest state as its event `job.last_seq`.
Result<Applied> AppendJobEvent(Connection& conn, const jobs::Job& job, int64_t now_ms) {
  Applied applied = AppliedFor(job, now_ms);
  if (auto r = InsertJobEvent(conn, applied); !r) return r.error();
  return applied;
}

Result<void> WriteJobState(Connection& conn, const jobs::Job& job) {
  auto stmt = conn.Prepare(
      "UPDATE jobs SET status = ?2, progress = ?3, message = ?4, step = ?5, "
      "total_pages = ?6, geo_score = ?7, critical_issues = ?8, high_issues = ?9, "
      "medium_issues = ?10, low_issues = ?11, error_message = ?12, data = ?13, "
      "report = ?14, updated_at = ?15, last_seq = ?16 WHERE id = ?1");
  if (!stmt) return stmt.error();
  stmt->Int(1, job.id)
      .Text(2, jobs::ToString(job.status))
      .Int(3, job.progress)
      .OptText(4, job.message)
      .OptText(5, job.step)
      .OptInt(6, job.total_pages)
      .OptDouble(7, job.geo_score)
      .OptInt(8, job.critical_issues)
      .OptInt(9, job.high_issues)
      .OptInt(10, job.medium_issues)
      .OptInt(11, job.low_issues)
      .OptText(12, job.error_message)
      .OptText(13, job.data_json)
      .OptText(14, job.report_json)
      .Int(15, job.updated_at_ms)
      .Int(16, job.last_seq);
  return stmt->Run("writing a job");
}

// The batch steps of ApplyUpdates on the writer connection: SQLite is in
// process, so one cached statement per row costs no round trip.
class SqliteBatchRows final : public BatchRows {
 public:
  explicit SqliteBatchRows(Connection& conn) : conn_(conn) {}

  Result<std::vector<jobs::Job>> LockJobs(std::span<const int64_t> ids) override {
    std::vector<jobs::Job> out;
    out.reserve(ids.size());
    for (int64_t id : ids) {
      auto job = LoadJob(conn_, id);  // the transaction already holds the write lock
      if (job) {
        out.push_back(std::move(*job));
      } else if (job.error().code != Errc::kNotFound) {
        return job.error();
      }
    }
    return out;
  }
  Result<void> WriteJobs(std::span<const jobs::Job* const> jobs) override {
    for (const jobs::Job* job : jobs)
      if (auto r = WriteJobState(conn_, *job); !r) return r.error();
    return {};
  }
  Result<std::optional<std::string>> AuditLeaseHolder(int64_t job_id, int64_t now_ms) override {
    auto stmt = conn_.Prepare(
        "SELECT lease_owner FROM jobs WHERE id = ?1 AND status IN ('pending', 'running') AND "
        "lease_owner IS NOT NULL AND COALESCE(lease_expires_at, 0) >= ?2");
    if (!stmt) return stmt.error();
    stmt->Int(1, job_id).Int(2, now_ms);
    auto row = stmt->Step("reading an audit's lease");
    if (!row) return row.error();
    if (!*row) return std::optional<std::string>{};
    return std::optional<std::string>{stmt->ColText(0)};
  }
  Result<void> PruneEvents(std::span<const std::pair<int64_t, int64_t>> cutoffs) override {
    auto stmt = conn_.Prepare("DELETE FROM events WHERE job_id = ?1 AND seq <= ?2");
    if (!stmt) return stmt.error();
    for (const auto& [job_id, cutoff] : cutoffs) {
      stmt->Int(1, job_id).Int(2, cutoff);
      if (auto r = stmt->Run("pruning old events"); !r) return r.error();
    }
    return {};
  }
  Result<void> AppendEvents(std::span<Applied* const> events) override {
    for (Applied* applied : events)
      if (auto r = InsertJobEvent(conn_, *applied); !r) return r.error();
    return {};
  }

 private:
  Connection& conn_;
};

// ---------------------------------------------------------------------------
// Opening.

Result<void> CreateParentDirectory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return {};
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    return MakeError(Errc::kInternal, "cannot create directory " + parent.string() +
                                          " for database " + path + ": " + ec.message());
  }
  return {};
}

// Per-connection settings. journal_mode is stored in the file, the rest are
// per connection. synchronous=NORMAL is durable against application crashes
// and only loses the last commits on power loss, which WAL makes safe.
Result<void> Configure(Connection& conn, const std::string& path, bool writer) {
  auto fail = [&](const Error& e) {
    return MakeError(e.code, "database " + path + ": " + e.message);
  };
  if (writer) {
    auto mode = conn.QueryText("PRAGMA journal_mode = WAL", "enabling WAL");
    if (!mode) return fail(mode.error());
    if (*mode != "wal") {
      return MakeError(Errc::kInternal,
                       "database " + path + ": cannot enable WAL (journal_mode is " + *mode + ")");
    }
  }
  if (auto r = conn.Exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                         "configuring the connection");
      !r) {
    return fail(r.error());
  }
  // Readers must never write; query_only turns a slip into an error.
  if (!writer) {
    if (auto r = conn.Exec("PRAGMA query_only = ON", "configuring a reader"); !r) {
      return fail(r.error());
    }
  }
  return {};
}

// Applies the steps newer than the file's user_version in one transaction,
// so a crash mid-migration leaves the previous version intact.
Result<void> Migrate(Connection& conn, const std::string& path) {
  auto fail = [&](const Error& e) {
    return MakeError(e.code, "migrating database " + path + ": " + e.message);
  };
  auto txn = WriteTransaction::Begin(conn);
  if (!txn) return fail(txn.error());
  auto version_text = conn.QueryText("PRAGMA user_version", "reading the schema version");
  if (!version_text) return fail(version_text.error());
  const int version = std::stoi(*version_text);
  if (version > kLatestVersion) {
    return MakeError(Errc::kInternal, "database " + path + " has schema version " +
                                          std::to_string(version) +
                                          ", newer than this build knows (" +
                                          std::to_string(kLatestVersion) + "); upgrade Herald");
  }
  if (version == kLatestVersion) return {};  // rolls back the empty transaction
  for (const Migration& m : kMigrations) {
    if (m.version <= version) continue;
    const std::string doing = "applying migration " + std::to_string(m.version);
    if (auto r = conn.Exec(m.sql, doing); !r) return fail(r.error());
  }
  // PRAGMA takes no bound parameters; the value is our own constant.
  const std::string set = "PRAGMA user_version = " + std::to_string(kLatestVersion);
  if (auto r = conn.Exec(set.c_str(), "recording the schema version"); !r) return fail(r.error());
  if (auto r = txn->Commit(); !r) return fail(r.error());
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------

class SqliteStore::Impl {
 public:
  // A connection and the mutex that gives one thread at a time its use.
  struct Slot {
    std::mutex mu;
    std::unique_ptr<Connection> conn;
  };

  explicit Impl(const SqliteOptions& options)
      : path_(options.path),
        retention_(options.event_retention),
        clock_(options.clock != nullptr ? options.clock : &system_clock_) {}

  ~Impl() {
    checkpointer_.reset();  // before the writer it hooks
    // Lets SQLite refresh its planner statistics for the next run; cheap.
    if (writer_.conn) (void)writer_.conn->Exec("PRAGMA optimize", "optimizing");
  }

  Result<void> Open(const SqliteOptions& options) {
    if (auto r = CreateParentDirectory(path_); !r) return r.error();
    auto writer = Connection::Open(path_, options.busy_timeout);
    if (!writer) return writer.error();
    writer_.conn = std::move(*writer);
    if (auto r = Configure(*writer_.conn, path_, /*writer=*/true); !r) return r.error();
    if (auto r = Migrate(*writer_.conn, path_); !r) return r.error();
    auto checkpointer = SqliteCheckpointer::Start(path_, writer_.conn->get());
    if (!checkpointer) return checkpointer.error();
    checkpointer_ = std::move(*checkpointer);
    // Readers open after the migration so they never see an older schema.
    readers_ = std::vector<Slot>(static_cast<size_t>(options.reader_connections));
    for (Slot& slot : readers_) {
      auto reader = Connection::Open(path_, options.busy_timeout);
      if (!reader) return reader.error();
      slot.conn = std::move(*reader);
      if (auto r = Configure(*slot.conn, path_, /*writer=*/false); !r) return r.error();
    }
    return {};
  }

  // Runs `fn(Connection&)` on the writer, one caller at a time.
  template <class Fn>
  auto WithWriter(Fn&& fn) {
    std::lock_guard lock(writer_.mu);
    return fn(*writer_.conn);
  }

  // Runs `fn(Connection&)` on an idle reader, or waits for one. Starting the
  // search at a rotating index spreads the load when all are busy.
  template <class Fn>
  auto WithReader(Fn&& fn) {
    const size_t n = readers_.size();
    const size_t start = next_reader_.fetch_add(1, std::memory_order_relaxed) % n;
    for (size_t i = 0; i < n; ++i) {
      Slot& slot = readers_[(start + i) % n];
      std::unique_lock lock(slot.mu, std::try_to_lock);
      if (lock.owns_lock()) return fn(*slot.conn);
    }
    Slot& slot = readers_[start];
    std::lock_guard lock(slot.mu);
    return fn(*slot.conn);
  }

  int64_t NowMs() const { return clock_->NowMs(); }
  int retention() const { return retention_; }

 private:
  const std::string path_;
  const int retention_;
  SystemClock system_clock_;
  const Clock* clock_;
  Slot writer_;
  std::unique_ptr<SqliteCheckpointer> checkpointer_;
  std::vector<Slot> readers_;
  std::atomic<size_t> next_reader_{0};
};

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

int SqliteStore::SchemaVersion() { return kLatestVersion; }

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  if (options.path.empty()) return MakeError(Errc::kInternal, "sqlite store: empty database path");
  if (options.event_retention < 1 || options.reader_connections < 1 ||
      options.busy_timeout.count() < 0) {
    return MakeError(Errc::kInternal,
                     "sqlite store " + options.path +
                         ": event_retention and reader_connections must be at least 1 "
                         "and busy_timeout not negative");
  }
  auto impl = std::make_unique<Impl>(options);
  if (auto r = impl->Open(options); !r) return r.error();
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

Result<Applied> SqliteStore::CreateJob(const NewJob& in) {
  if (in.type.empty()) return MakeError(Errc::kBadRequest, "job type must not be empty");
  return impl_->WithWriter([&](Connection& conn) -> Result<Applied> {
    auto txn = WriteTransaction::Begin(conn);
    if (!txn) return txn.error();
    jobs::Job job = NewPendingJob(in, impl_->NowMs());
    {
      auto stmt = conn.Prepare(
          "INSERT INTO jobs (type, owner, title, url, max_pages, status, progress, "
          "created_at, updated_at, last_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?7, 1)");
      if (!stmt) return stmt.error();
      stmt->Text(1, job.type)
          .Text(2, job.owner)
          .Text(3, job.title)
          .Text(4, job.url)
          .Int(5, job.max_pages)
          .Text(6, jobs::ToString(job.status))
          .Int(7, job.created_at_ms);
      if (auto r = stmt->Run("creating a job"); !r) return r.error();
    }
    job.id = sqlite3_last_insert_rowid(conn.get());
    auto applied = AppendJobEvent(conn, job, job.created_at_ms);
    if (!applied) return applied.error();
    if (auto r = txn->Commit(); !r) return r.error();
    return applied;
  });
}

Result<jobs::Job> SqliteStore::GetJob(int64_t id) {
  return impl_->WithReader([&](Connection& conn) { return LoadJob(conn, id); });
}

Result<std::vector<jobs::Job>> SqliteStore::ListJobs(const JobQuery& query) {
  // Few enough shapes that each gets its own cached statement; a literal
  // WHERE lets SQLite pick the (owner, id) or (type, id) index.
  std::string sql = "SELECT " + std::string(kJobColumns) + " FROM jobs WHERE 1";
  int next_param = 1;
  const int owner_param = query.owner ? next_param++ : 0;
  if (owner_param) sql += " AND owner = ?" + std::to_string(owner_param);
  // Both flags together ask for nothing, which the two conditions express.
  if (query.audits_only) sql += " AND type = 'audit'";
  if (query.exclude_audits) sql += " AND type <> 'audit'";
  const int status_param = query.status ? next_param++ : 0;
  if (status_param) sql += " AND status = ?" + std::to_string(status_param);
  // LIKE is case-insensitive for ASCII in SQLite. A search scans the
  // caller's rows (a dashboard's list, not a hot path).
  const int search_param = query.search.empty() ? 0 : next_param++;
  const int id_param = query.search.empty() ? 0 : next_param++;
  if (search_param) {
    const std::string s = "?" + std::to_string(search_param);
    sql += " AND (url LIKE " + s + " ESCAPE '\\' OR title LIKE " + s +
           " ESCAPE '\\' OR type LIKE " + s + " ESCAPE '\\' OR CAST(id AS TEXT) = ?" +
           std::to_string(id_param) + ")";
  }
  const int limit_param = next_param++;
  const int offset_param = next_param++;
  sql += " ORDER BY id DESC LIMIT ?" + std::to_string(limit_param) + " OFFSET ?" +
         std::to_string(offset_param);
  const int limit = std::clamp(query.limit, 1, kMaxListLimit);
  const int offset = std::max(query.offset, 0);

  return impl_->WithReader([&](Connection& conn) -> Result<std::vector<jobs::Job>> {
    auto stmt = conn.Prepare(sql);
    if (!stmt) return stmt.error();
    if (owner_param) stmt->Text(owner_param, *query.owner);
    if (status_param) stmt->Text(status_param, std::string(jobs::ToString(*query.status)));
    if (search_param) {
      stmt->Text(search_param, SearchPattern(query.search));
      stmt->Text(id_param, query.search);
    }
    stmt->Int(limit_param, limit).Int(offset_param, offset);
    std::vector<jobs::Job> out;
    for (;;) {
      auto row = stmt->Step("listing jobs");
      if (!row) return row.error();
      if (!*row) return out;
      auto job = JobFromRow(*stmt);
      if (!job) return job.error();
      out.push_back(std::move(*job));
    }
  });
}

Result<std::vector<UpdateOutcome>> SqliteStore::UpdateJobs(std::span<const JobUpdate> updates) {
  if (updates.empty()) return std::vector<UpdateOutcome>{};
  return impl_->WithWriter([&](Connection& conn) -> Result<std::vector<UpdateOutcome>> {
    // One IMMEDIATE transaction for the batch: a concurrent writer (another
    // `herald worker` process) can neither slip an update between our read
    // and write nor take the same seq, and the batch is one commit.
    auto txn = WriteTransaction::Begin(conn);
    if (!txn) return txn.error();
    SqliteBatchRows rows(conn);
    auto outcomes = ApplyUpdates(rows, updates, impl_->NowMs(), impl_->retention());
    if (!outcomes) return outcomes.error();
    if (auto r = txn->Commit(); !r) return r.error();
    return outcomes;
  });
}

Result<std::optional<AuditClaim>> SqliteStore::ClaimAudit(const std::string& worker,
                                                          int64_t lease_ms) {
  // Idle workers ask several times a second: answer "nothing to do" from a
  // reader, without taking the write lock the publishers need.
  auto any = impl_->WithReader([&](Connection& conn) -> Result<bool> {
    auto stmt = conn.Prepare(
        "SELECT 1 FROM jobs WHERE type = 'audit' AND status IN ('pending', 'running') AND "
        "COALESCE(lease_expires_at, 0) < ?1 LIMIT 1");
    if (!stmt) return stmt.error();
    stmt->Int(1, impl_->NowMs());
    return stmt->Step("looking for audits to run");
  });
  if (!any) return any.error();
  if (!*any) return std::optional<AuditClaim>{};
  return impl_->WithWriter([&](Connection& conn) -> Result<std::optional<AuditClaim>> {
    auto txn = WriteTransaction::Begin(conn);
    if (!txn) return txn.error();
    const int64_t now = impl_->NowMs();
    int64_t id = 0;
    int attempts = 0;
    {
      // Oldest first. Unleased pending audits, and any whose lease ran out:
      // its worker died (running) or never got to say "running" (pending).
      auto stmt = conn.Prepare(
          "SELECT id, attempts FROM jobs WHERE type = 'audit' AND status IN ('pending', "
          "'running') AND COALESCE(lease_expires_at, 0) < ?1 ORDER BY id LIMIT 1");
      if (!stmt) return stmt.error();
      stmt->Int(1, now);
      auto row = stmt->Step("finding an audit to run");
      if (!row) return row.error();
      if (!*row) return std::optional<AuditClaim>{};
      id = stmt->ColInt(0);
      attempts = static_cast<int>(stmt->ColInt(1));
    }
    {
      auto stmt = conn.Prepare(
          "UPDATE jobs SET lease_owner = ?1, lease_expires_at = ?2, attempts = attempts + 1 "
          "WHERE id = ?3");
      if (!stmt) return stmt.error();
      stmt->Text(1, worker).Int(2, now + lease_ms).Int(3, id);
      if (auto r = stmt->Run("claiming an audit"); !r) return r.error();
    }
    auto job = LoadJob(conn, id);
    if (!job) return job.error();
    if (auto r = txn->Commit(); !r) return r.error();
    return std::optional<AuditClaim>{AuditClaim{std::move(*job), attempts + 1}};
  });
}

Result<bool> SqliteStore::RenewLease(int64_t job_id, const std::string& worker, int64_t lease_ms) {
  return impl_->WithWriter([&](Connection& conn) -> Result<bool> {
    auto stmt = conn.Prepare(
        "UPDATE jobs SET lease_expires_at = ?1 WHERE id = ?2 AND lease_owner = ?3 AND "
        "status NOT IN ('completed', 'failed')");
    if (!stmt) return stmt.error();
    stmt->Int(1, impl_->NowMs() + lease_ms).Int(2, job_id).Text(3, worker);
    if (auto r = stmt->Run("renewing an audit lease"); !r) return r.error();
    return sqlite3_changes(conn.get()) == 1;
  });
}

Result<std::vector<StoredEvent>> SqliteStore::EventsAfter(int64_t job_id, int64_t after_seq,
                                                          int limit) {
  if (limit <= 0) return std::vector<StoredEvent>{};
  return impl_->WithReader([&](Connection& conn) -> Result<std::vector<StoredEvent>> {
    auto stmt = conn.Prepare(
        "SELECT seq, payload, created_at FROM events WHERE job_id = ?1 AND seq > ?2 "
        "ORDER BY seq LIMIT ?3");
    if (!stmt) return stmt.error();
    stmt->Int(1, job_id).Int(2, after_seq).Int(3, limit);
    std::vector<StoredEvent> out;
    for (;;) {
      auto row = stmt->Step("reading job events");
      if (!row) return row.error();
      if (!*row) return out;
      out.push_back(StoredEvent{job_id, stmt->ColInt(0), stmt->ColText(1), stmt->ColInt(2)});
    }
  });
}

Result<FeedEntry> SqliteStore::AddNotice(const NewNotice& notice) {
  if (notice.user.empty()) return MakeError(Errc::kBadRequest, "notice user must not be empty");
  if (notice.type.empty()) return MakeError(Errc::kBadRequest, "notice type must not be empty");
  const int64_t now = impl_->NowMs();
  auto payload = NoticePayload(notice, now);
  if (!payload) return payload.error();
  return impl_->WithWriter([&](Connection& conn) -> Result<FeedEntry> {
    auto stmt = conn.Prepare(
        "INSERT INTO events (job_id, seq, notice, audience, event, payload, created_at) "
        "VALUES (NULL, NULL, 1, ?1, ?2, ?3, ?4)");
    if (!stmt) return stmt.error();
    stmt->Text(1, notice.user).Text(2, notice.type).Text(3, *payload).Int(4, now);
    if (auto r = stmt->Run("recording a notice"); !r) return r.error();
    return FeedEntry{
        sqlite3_last_insert_rowid(conn.get()), true, 0, 0, notice.user, notice.type, *payload};
  });
}

Result<std::vector<FeedEntry>> SqliteStore::FeedFor(const std::string& user, bool admin,
                                                    int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<FeedEntry>{};
  return impl_->WithReader([&](Connection& conn) -> Result<std::vector<FeedEntry>> {
    // Admins see every job event but only their own and broadcast notices:
    // a notice is addressed to a person, not to a role.
    static const std::string kSql =
        "SELECT " + std::string(kFeedColumns) +
        " FROM events WHERE id > ?1 AND ((notice = 0 AND (?3 OR audience = ?2)) OR "
        "(notice = 1 AND audience IN (?2, '*'))) ORDER BY id LIMIT ?4";
    auto stmt = conn.Prepare(kSql);
    if (!stmt) return stmt.error();
    stmt->Int(1, after_id).Text(2, user).Int(3, admin ? 1 : 0).Int(4, limit);
    return CollectFeed(*stmt);
  });
}

Result<std::vector<FeedEntry>> SqliteStore::FeedAll(int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<FeedEntry>{};
  return impl_->WithReader([&](Connection& conn) -> Result<std::vector<FeedEntry>> {
    static const std::string kSql =
        "SELECT " + std::string(kFeedColumns) + " FROM events WHERE id > ?1 ORDER BY id LIMIT ?2";
    auto stmt = conn.Prepare(kSql);
    if (!stmt) return stmt.error();
    stmt->Int(1, after_id).Int(2, limit);
    return CollectFeed(*stmt);
  });
}

Result<int64_t> SqliteStore::LatestFeedId() {
  return impl_->WithReader([&](Connection& conn) -> Result<int64_t> {
    // Pruning never removes a job's newest event and notices are kept, so
    // the highest id still present is the highest ever issued.
    auto stmt = conn.Prepare("SELECT COALESCE(MAX(id), 0) FROM events");
    if (!stmt) return stmt.error();
    auto row = stmt->Step("reading the latest feed id");
    if (!row) return row.error();
    return *row ? stmt->ColInt(0) : 0;
  });
}

Result<void> SqliteStore::Ping() {
  auto unavailable = [](const Error& e) {
    return e.code == Errc::kUnavailable ? e : DatabaseUnavailable(Describe(e));
  };
  auto read = impl_->WithReader([&](Connection& conn) -> Result<void> {
    // Reads the schema rather than a bare SELECT 1, which SQLite answers
    // without touching the file.
    auto stmt = conn.Prepare("SELECT 1 FROM sqlite_master LIMIT 1");
    if (!stmt) return unavailable(stmt.error());
    if (auto row = stmt->Step("pinging the database"); !row) return unavailable(row.error());
    return {};
  });
  if (!read) return read;
  // And a write, committed: a full disk or a read-only file fails here
  // (the WAL append), not only at the next update.
  return impl_->WithWriter([&](Connection& conn) -> Result<void> {
    auto txn = WriteTransaction::Begin(conn);
    if (!txn) return unavailable(txn.error());
    auto stmt = conn.Prepare("INSERT OR REPLACE INTO health (id, checked_at) VALUES (1, ?)");
    if (!stmt) return unavailable(stmt.error());
    stmt->Int(1, impl_->NowMs());
    if (auto row = stmt->Step("writing the health row"); !row) return unavailable(row.error());
    if (auto r = txn->Commit(); !r) return unavailable(r.error());
    return {};
  });
}

Result<void> SqliteStore::AddTicket(const NewTicket& ticket) {
  const int64_t now = impl_->NowMs();
  return impl_->WithWriter([&](Connection& conn) -> Result<void> {
    auto txn = WriteTransaction::Begin(conn);
    if (!txn) return txn.error();
    auto expired = conn.Prepare("DELETE FROM stream_tickets WHERE expires_at <= ?1");
    if (!expired) return expired.error();
    expired->Int(1, now);
    if (auto r = expired->Run("forgetting expired tickets"); !r) return r.error();
    auto stmt = conn.Prepare(
        "INSERT INTO stream_tickets (hash, user_id, role, stream, expires_at, "
        "credentials_expire_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!stmt) return stmt.error();
    stmt->Text(1, ticket.hash)
        .Text(2, ticket.user)
        .Text(3, ticket.role)
        .Text(4, ticket.stream)
        .Int(5, now + ticket.ttl_ms)
        .Int(6, ticket.credentials_expire_at_ms);
    if (auto r = stmt->Run("storing a ticket"); !r) return r.error();
    return txn->Commit();
  });
}

Result<RedeemedTicket> SqliteStore::RedeemTicket(const std::string& hash) {
  const int64_t now = impl_->NowMs();
  return impl_->WithWriter([&](Connection& conn) -> Result<RedeemedTicket> {
    // One statement: taking the ticket and reading it cannot be split by
    // another redemption.
    auto stmt = conn.Prepare(
        "DELETE FROM stream_tickets WHERE hash = ?1 AND expires_at > ?2 "
        "RETURNING user_id, role, stream, credentials_expire_at");
    if (!stmt) return stmt.error();
    stmt->Text(1, hash).Int(2, now);
    auto row = stmt->Step("redeeming a ticket");
    if (!row) return row.error();
    if (!*row) return MakeError(Errc::kUnauthorized, "invalid or expired ticket");
    RedeemedTicket t{stmt->ColText(0), stmt->ColText(1), stmt->ColText(2), stmt->ColInt(3)};
    // Step to the end, so the statement completes before it is reset.
    if (auto done = stmt->Step("redeeming a ticket"); !done) return done.error();
    return t;
  });
}

}  // namespace herald::store
