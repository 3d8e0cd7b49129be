#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "store/sql_backend.h"
#include "store/sql_schema.h"
#include "store/sqlite_checkpointer.h"

namespace herald::store {
namespace {

// The schema's types and the statements SQLite spells its own way.
constexpr SqlDialect kSqliteDialect{
    .job_id_key = "INTEGER PRIMARY KEY AUTOINCREMENT",
    .feed_id_key = "INTEGER PRIMARY KEY AUTOINCREMENT",
    .int64 = "INTEGER",
    .real = "REAL",
    .boolean = "INTEGER",
    .health_table = "health",
    // Case-insensitive for ASCII in SQLite.
    .like = "LIKE",
    // BEGIN IMMEDIATE already serializes writers, across processes too.
    .claim_lock = "",
    .look_before_claiming = true,
    // A bare SELECT 1 SQLite answers without touching the file.
    .ping_read = "SELECT 1 FROM sqlite_master LIMIT 1",
    // AUTOINCREMENT: ids are never reused, even after a delete.
    .insert_feed_row =
        "INSERT INTO events (job_id, seq, notice, audience, event, payload, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
};

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

Error SqliteError(sqlite3* db, int rc, std::string_view doing) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return SqlError("sqlite", IsUnavailable(rc), doing, detail);
}

// ---------------------------------------------------------------------------
// RAII wrappers.

using DbHandle = std::unique_ptr<sqlite3, FreeWith<sqlite3_close_v2>>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, FreeWith<sqlite3_finalize>>;

// A cached prepared statement borrowed for one use, and its current row. It
// resets on destruction so the next borrower starts clean and no read
// transaction is left open (an open one would pin the WAL and block
// checkpoints). Bind errors are remembered and reported by the first Step().
class Stmt final : public SqlRow {
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

  // Binds $1, $2, ... Text is not copied: `params` must outlive the use.
  void Bind(const SqlParams& params) {
    int index = 0;
    for (const SqlParams::Value& value : params.values()) Bind(++index, value);
  }

  // True with a row to read, false when the statement is done.
  Result<bool> Step(std::string_view doing) {
    if (bind_rc_ != SQLITE_OK) return SqliteError(db_, bind_rc_, doing);
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc, doing);
  }

  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const override { return sqlite3_column_double(stmt_, col); }
  bool Bool(int col) const override { return Int(col) != 0; }
  std::string Text(int col) const override {
    const auto* text = sqlite3_column_text(stmt_, col);
    if (text == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(text),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }

 private:
  void Bind(int index, const SqlParams::Value& value) {
    int rc = SQLITE_OK;
    if (const auto* i = std::get_if<int64_t>(&value)) {
      rc = sqlite3_bind_int64(stmt_, index, *i);
    } else if (const auto* d = std::get_if<double>(&value)) {
      rc = sqlite3_bind_double(stmt_, index, *d);
    } else if (const auto* b = std::get_if<bool>(&value)) {
      rc = sqlite3_bind_int64(stmt_, index, *b ? 1 : 0);  // booleans are 0 and 1
    } else if (const auto* t = std::get_if<std::string>(&value)) {
      rc = sqlite3_bind_text64(stmt_, index, t->data(), t->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else {
      rc = sqlite3_bind_null(stmt_, index);
    }
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = SQLITE_OK;
};

// The shared SQL names its values $1, $2, ...; SQLite reads "$1" as a named
// parameter numbered by first appearance, so they become ?1, ?2, ... (which
// SQLite numbers as written). String literals are left alone.
std::string PositionalParams(std::string_view sql) {
  std::string out(sql);
  bool quoted = false;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\'') quoted = !quoted;
    const bool digit_follows = i + 1 < out.size() && out[i + 1] >= '0' && out[i + 1] <= '9';
    if (!quoted && out[i] == '$' && digit_follows) out[i] = '?';
  }
  return out;
}

// One sqlite3 connection and its statement cache. Not thread-safe: the owner
// serializes use (SqliteBackend holds a mutex per connection).
class Connection final : public SqlSession {
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

  Result<int64_t> Exec(std::string_view sql, const SqlParams& params, std::string_view doing,
                       const SqlRowReader& read) override {
    auto stmt = Prepare(sql);
    if (!stmt) return stmt.error();
    stmt->Bind(params);
    for (;;) {
      auto row = stmt->Step(doing);
      if (!row) return row.error();
      if (!*row) return sqlite3_changes64(db_.get());
      if (read)
        if (auto r = read(*stmt); !r) return r.error();
    }
  }
  using SqlSession::Exec;

  // Runs one or more statements without results (pragmas, DDL).
  Result<void> ExecScript(const char* sql, std::string_view doing) override {
    const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, doing);
    return {};
  }

  // The first column of a one-row pragma or query, as text.
  Result<std::string> QueryText(std::string_view sql, std::string_view doing) {
    std::string text;
    auto r = Exec(sql, SqlParams(), doing, [&](const SqlRow& row) -> Result<void> {
      text = row.Text(0);
      return {};
    });
    if (!r) return r.error();
    return text;
  }

 private:
  explicit Connection(DbHandle db) : db_(std::move(db)) {}

  // A statement from the cache, prepared on first use.
  Result<Stmt> Prepare(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it == cache_.end()) {
      const std::string positional = PositionalParams(sql);
      sqlite3_stmt* raw = nullptr;
      const int rc =
          sqlite3_prepare_v3(db_.get(), positional.data(), static_cast<int>(positional.size()),
                             SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      StmtHandle stmt(raw);
      if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, "preparing a statement");
      it = cache_.emplace(std::string(sql), std::move(stmt)).first;
    }
    return Stmt(db_.get(), it->second.get());
  }

  // BEGIN IMMEDIATE takes the write lock up front, so two writers never
  // deadlock upgrading a read lock.
  Result<void> Begin() override {
    return Run("BEGIN IMMEDIATE", SqlParams(), "starting a write transaction");
  }
  Result<void> Commit() override { return Run("COMMIT", SqlParams(), "committing"); }
  void Rollback() override {
    // Failing to roll back leaves nothing better to do; autocommit resumes
    // once SQLite itself gives up the transaction.
    (void)Exec("ROLLBACK", SqlParams(), "rolling back");
  }

  DbHandle db_;
  // Declared after db_ so statements are finalized before the handle closes.
  std::unordered_map<std::string, StmtHandle> cache_;
};

// The batch steps of ApplyUpdates on the writer connection: SQLite is in
// process, so one cached statement per row costs no round trip.
class SqliteBatchRows final : public SqlBatchRows {
 public:
  SqliteBatchRows(SqlBackend& backend, SqlSession& session)
      : SqlBatchRows(session), backend_(backend) {}

  Result<std::vector<jobs::Job>> LockJobs(std::span<const int64_t> ids) override {
    std::vector<jobs::Job> out;
    out.reserve(ids.size());
    for (int64_t id : ids) {
      auto job = LoadJob(session_, id);  // the transaction already holds the write lock
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
      if (auto r = WriteJob(*job); !r) return r.error();
    return {};
  }
  Result<void> PruneEvents(std::span<const std::pair<int64_t, int64_t>> cutoffs) override {
    for (const auto& [job_id, cutoff] : cutoffs) {
      if (auto r = session_.Exec("DELETE FROM events WHERE job_id = $1 AND seq <= $2",
                                 SqlParams().Int(job_id).Int(cutoff), "pruning old events");
          !r) {
        return r.error();
      }
    }
    return {};
  }
  Result<void> AppendEvents(std::span<Applied* const> events) override {
    for (Applied* applied : events) {
      auto id = AppendFeedRow(backend_, session_, applied->feed, applied->event.created_at_ms);
      if (!id) return id.error();
      applied->feed.id = *id;
    }
    return {};
  }

 private:
  Result<void> WriteJob(const jobs::Job& job) {
    auto r = session_.Exec(
        "UPDATE jobs SET status = $2, progress = $3, message = $4, step = $5, "
        "total_pages = $6, geo_score = $7, critical_issues = $8, high_issues = $9, "
        "medium_issues = $10, low_issues = $11, error_message = $12, data = $13, "
        "report = $14, updated_at = $15, last_seq = $16 WHERE id = $1",
        SqlParams()
            .Int(job.id)
            .Text(jobs::ToString(job.status))
            .Int(job.progress)
            .OptText(job.message)
            .OptText(job.step)
            .OptInt(job.total_pages)
            .OptDouble(job.geo_score)
            .OptInt(job.critical_issues)
            .OptInt(job.high_issues)
            .OptInt(job.medium_issues)
            .OptInt(job.low_issues)
            .OptText(job.error_message)
            .OptText(job.data_json)
            .OptText(job.report_json)
            .Int(job.updated_at_ms)
            .Int(job.last_seq),
        "writing a job");
    if (!r) return r.error();
    return {};
  }

  SqlBackend& backend_;
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
  if (auto r = conn.ExecScript("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                               "configuring the connection");
      !r) {
    return fail(r.error());
  }
  // Readers must never write; query_only turns a slip into an error.
  if (!writer) {
    if (auto r = conn.ExecScript("PRAGMA query_only = ON", "configuring a reader"); !r) {
      return fail(r.error());
    }
  }
  return {};
}

// PRAGMA user_version holds the schema version.
class UserVersion final : public SchemaVersionRecord {
 public:
  Result<int> Read(SqlSession& session) override {
    int version = 0;
    auto r = session.Exec("PRAGMA user_version", SqlParams(), "reading the schema version",
                          [&](const SqlRow& row) -> Result<void> {
                            version = static_cast<int>(row.Int(0));
                            return {};
                          });
    if (!r) return r.error();
    return version;
  }
  Result<void> Write(SqlSession& session, int version) override {
    // PRAGMA takes no bound parameters; the value is our own constant.
    const std::string set = "PRAGMA user_version = " + std::to_string(version);
    return session.ExecScript(set.c_str(), "recording the schema version");
  }
};

// One writer connection behind a mutex and a small pool of readers, so
// readers never wait for a writer (WAL).
class SqliteBackend final : public SqlBackend {
 public:
  // A connection and the mutex that gives one thread at a time its use.
  struct Slot {
    std::mutex mu;
    std::unique_ptr<Connection> conn;
  };

  explicit SqliteBackend(const std::string& path) : path_(path) {}

  ~SqliteBackend() override {
    checkpointer_.reset();  // before the writer it hooks
    // Lets SQLite refresh its planner statistics for the next run; cheap.
    if (writer_.conn) (void)writer_.conn->ExecScript("PRAGMA optimize", "optimizing");
  }

  Result<void> Open(const SqliteOptions& options) {
    if (auto r = CreateParentDirectory(path_); !r) return r.error();
    auto writer = Connection::Open(path_, options.busy_timeout);
    if (!writer) return writer.error();
    writer_.conn = std::move(*writer);
    if (auto r = Configure(*writer_.conn, path_, /*writer=*/true); !r) return r.error();
    UserVersion version;
    if (auto r = Migrate(*writer_.conn, kSqliteDialect, version, path_); !r) return r.error();
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

  const SqlDialect& dialect() const override { return kSqliteDialect; }

  // Writes on the writer, one caller at a time; reads on an idle reader.
  Result<void> Run(SqlAccess access, const std::function<Result<void>(SqlSession&)>& fn) override {
    if (access != SqlAccess::kRead) {
      std::lock_guard lock(writer_.mu);
      return fn(*writer_.conn);
    }
    // Starting the search at a rotating index spreads the load when all
    // readers are busy; then it waits for one.
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

  std::unique_ptr<BatchRows> BatchRowsFor(SqlSession& session) override {
    return std::make_unique<SqliteBatchRows>(*this, session);
  }

 private:
  const std::string path_;
  Slot writer_;
  std::unique_ptr<SqliteCheckpointer> checkpointer_;
  std::vector<Slot> readers_;
  std::atomic<size_t> next_reader_{0};
};

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  if (options.path.empty()) return MakeError(Errc::kInternal, "sqlite store: empty database path");
  if (options.event_retention < 1 || options.reader_connections < 1 ||
      options.busy_timeout.count() < 0) {
    return MakeError(Errc::kInternal,
                     "sqlite store " + options.path +
                         ": event_retention and reader_connections must be at least 1 "
                         "and busy_timeout not negative");
  }
  auto backend = std::make_unique<SqliteBackend>(options.path);
  if (auto r = backend->Open(options); !r) return r.error();
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(backend), options));
}

}  // namespace herald::store
