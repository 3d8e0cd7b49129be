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
//    TakeFeedLock in the .cc for how and why);
//  - audit claims are exclusive (FOR UPDATE SKIP LOCKED).
//
// Its statements and behaviour are SqlStore's (store/sql_store.h). Each
// call borrows one connection of a small pool for its duration. A
// connection the server dropped is reset on next use; a read that fails
// because its connection broke is retried once, a write is not (it may have
// committed) and fails with kUnavailable.

#include <chrono>
#include <memory>
#include <string>

#include "common/errors.h"
#include "store/sql_store.h"

namespace herald::store {

struct PostgresOptions : SqlStoreOptions {
  // postgresql://user:pass@host:port/db or postgres://... (checked by
  // config::ParsePostgresUrl; keyword/value strings are refused), then
  // handed to libpq as is. Messages never show the password.
  std::string url;
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

class PostgresStore final : public SqlStore {
 public:
  // Connects, brings the schema (table herald_schema_version) up to date
  // (one transaction under an advisory lock, so processes starting
  // together do not race) and fills the pool. kUnavailable when the server
  // cannot be reached; kInternal when the URL does not parse or the schema
  // is newer than this build knows.
  static Result<std::unique_ptr<PostgresStore>> Open(const PostgresOptions& options);

 private:
  using SqlStore::SqlStore;
};

}  // namespace herald::store
