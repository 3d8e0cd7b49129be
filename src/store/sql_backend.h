#pragma once
// What a SQL database supplies to SqlStore (store/sql_store.h), which writes
// every statement and every JobStore method once: a connection to run
// statements on (SqlSession), its transactions, the few words its SQL
// spells differently (SqlDialect), and the batch row steps of UpdateJobs.
// Included by the store's own files only; no database header comes with it.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/errors.h"
#include "store/job_store.h"

namespace herald::store {

// The values of one statement, which names them $1, $2, ... in the order
// they are added. The SQL text never holds a value.
class SqlParams {
 public:
  using Value = std::variant<std::monostate, int64_t, double, bool, std::string>;

  SqlParams& Int(int64_t value) { return Add<int64_t>(value); }
  SqlParams& Double(double value) { return Add<double>(value); }
  SqlParams& Bool(bool value) { return Add<bool>(value); }
  SqlParams& Text(std::string_view value) { return Add<std::string>(value); }
  SqlParams& Null() { return Add<std::monostate>(); }
  SqlParams& OptText(const std::optional<std::string>& value) {
    return value ? Text(*value) : Null();
  }
  SqlParams& OptInt(const std::optional<int64_t>& value) { return value ? Int(*value) : Null(); }
  SqlParams& OptDouble(const std::optional<double>& value) {
    return value ? Double(*value) : Null();
  }

  const std::vector<Value>& values() const { return values_; }
  int size() const { return static_cast<int>(values_.size()); }

 private:
  // Built in place: a Value moved in makes g++ 12 warn -Wmaybe-uninitialized.
  template <class T, class... Args>
  SqlParams& Add(Args&&... args) {
    values_.emplace_back(std::in_place_type<T>, std::forward<Args>(args)...);
    return *this;
  }

  std::vector<Value> values_;
};

// One row of a result, read by column (0 first).
class SqlRow {
 public:
  virtual bool IsNull(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual double Double(int col) const = 0;
  virtual bool Bool(int col) const = 0;
  virtual std::string Text(int col) const = 0;

  std::optional<std::string> OptText(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Text(col);
  }
  std::optional<int64_t> OptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Int(col);
  }
  std::optional<double> OptDouble(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Double(col);
  }

 protected:
  ~SqlRow() = default;
};

// Called once per row of a result; an error stops the statement's reading.
using SqlRowReader = std::function<Result<void>(const SqlRow&)>;

// One connection, used by one call at a time.
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  // Runs one statement and hands each row it returns to `read` (if any).
  // `doing` names it in errors ("reading a job"). Returns the rows an
  // INSERT, UPDATE or DELETE changed.
  virtual Result<int64_t> Exec(std::string_view sql, const SqlParams& params,
                               std::string_view doing, const SqlRowReader& read) = 0;
  Result<int64_t> Exec(std::string_view sql, const SqlParams& params, std::string_view doing) {
    return Exec(sql, params, doing, nullptr);
  }
  // Runs a statement for its effect alone (BEGIN, a lock, a DELETE).
  Result<void> Run(std::string_view sql, const SqlParams& params, std::string_view doing) {
    auto r = Exec(sql, params, doing, nullptr);
    if (!r) return r.error();
    return {};
  }
  // Several statements without values (the migrations' DDL).
  virtual Result<void> ExecScript(const char* sql, std::string_view doing) = 0;

 private:
  friend class SqlTransaction;
  // A write transaction: SQLite takes its write lock at once (BEGIN
  // IMMEDIATE), so two writers never deadlock upgrading a read lock.
  virtual Result<void> Begin() = 0;
  virtual Result<void> Commit() = 0;
  // Must leave the session usable whatever happened (an error is ignored).
  virtual void Rollback() = 0;
};

// A transaction on a session; rolls back unless committed.
class SqlTransaction {
 public:
  static Result<SqlTransaction> Begin(SqlSession& session);
  SqlTransaction(SqlTransaction&& other) noexcept;
  SqlTransaction& operator=(SqlTransaction&&) = delete;
  ~SqlTransaction();

  // On failure the transaction still rolls back.
  Result<void> Commit();

 private:
  explicit SqlTransaction(SqlSession& session) : session_(&session) {}
  SqlSession* session_;
};

// What a database spells its own way. Everything else of the SQL, and of
// the schema, is written once (store/sql_store.cc, store/sql_schema.cc).
struct SqlDialect {
  // Column types of the schema: a job's id key, the events table's id key
  // (the feed id), 64-bit integers, doubles and booleans.
  std::string_view job_id_key;
  std::string_view feed_id_key;
  std::string_view int64;
  std::string_view real;
  std::string_view boolean;
  // The table /healthz rewrites (named before the two schemas were one).
  std::string_view health_table;
  // The case-insensitive LIKE of a job search.
  std::string_view like;
  // Appended to the claim's choice of an audit, e.g. " FOR UPDATE SKIP LOCKED".
  std::string_view claim_lock;
  // Answer "no audit to run" from a read first, without the write lock (a
  // database with one writer at a time).
  bool look_before_claiming = false;
  // A read Ping runs before its write (empty: none).
  std::string_view ping_read;
  // Inserts one feed row: $1 job_id, $2 seq, $3 notice, $4 audience,
  // $5 event, $6 payload, $7 created_at; RETURNING id.
  std::string_view insert_feed_row;
};

// How a call uses its connection.
enum class SqlAccess {
  kRead,
  kWrite,
  // A write that may safely run twice (Ping's health row): retried like a
  // read when its connection broke.
  kRepeatableWrite,
};

class SqlBackend {
 public:
  virtual ~SqlBackend() = default;
  virtual const SqlDialect& dialect() const = 0;
  // Runs `fn` on a connection suited to `access`, one call at a time on it.
  // A read (or repeatable write) may run `fn` twice.
  virtual Result<void> Run(SqlAccess access,
                           const std::function<Result<void>(SqlSession&)>& fn) = 0;
  // The batch steps of ApplyUpdates on `session`, inside its transaction.
  virtual std::unique_ptr<BatchRows> BatchRowsFor(SqlSession& session) = 0;
  // Runs before feed rows are inserted, in their transaction (PostgreSQL
  // takes its feed lock here).
  virtual Result<void> BeforeFeedAppend(SqlSession& session) {
    (void)session;
    return {};
  }
};

// What a database said went wrong while `doing`, as the caller sees it:
// kUnavailable (503 "database unavailable", worth a retry once it is fixed)
// when it cannot answer now, else kInternal (a bug: 500). `database` is
// "sqlite" or "postgres".
Error SqlError(std::string_view database, bool unavailable, std::string_view doing,
               std::string_view detail);

// A unique_ptr deleter that hands the pointer to a C library's `Free`.
template <auto Free>
struct FreeWith {
  template <class T>
  void operator()(T* p) const {
    (void)Free(p);
  }
};

// The columns JobFromRow reads, in its order.
inline constexpr std::string_view kJobColumns =
    "id, type, owner, title, url, max_pages, status, progress, message, step, "
    "total_pages, geo_score, critical_issues, high_issues, medium_issues, "
    "low_issues, error_message, data, report, created_at, updated_at, last_seq";
inline constexpr int kJobColumnCount = 22;

// Row conversions and statements both backends' batch steps use
// (store/sql_store.cc).
Result<jobs::Job> JobFromRow(const SqlRow& row);
Result<jobs::Job> LoadJob(SqlSession& session, int64_t id);
// Inserts a feed row (a job event or a notice) and returns its id.
Result<int64_t> AppendFeedRow(SqlBackend& backend, SqlSession& session, const FeedEntry& entry,
                              int64_t now_ms);

// BatchRows' AuditLeaseHolder, written once.
class SqlBatchRows : public BatchRows {
 public:
  explicit SqlBatchRows(SqlSession& session) : session_(session) {}
  Result<std::optional<std::string>> AuditLeaseHolder(int64_t job_id, int64_t now_ms) override;

 protected:
  SqlSession& session_;
};

}  // namespace herald::store
