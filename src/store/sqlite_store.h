#pragma once
// SqliteStore: the embedded JobStore, one SQLite file in WAL mode. It is the
// default for a single Herald node (`DATABASE_URL=sqlite://PATH`); `herald
// worker` processes on the same machine may open the same file, since every
// write is a BEGIN IMMEDIATE transaction that SQLite serializes across
// processes.
//
// Its statements and behaviour are SqlStore's (store/sql_store.h). Writes
// go through one writer connection behind a mutex; reads use a small pool
// of reader connections, so readers never wait for a writer (WAL).

#include <chrono>
#include <memory>
#include <string>

#include "common/errors.h"
#include "store/sql_store.h"

namespace herald::store {

struct SqliteOptions : SqlStoreOptions {
  // The database file. Its parent directory is created when missing.
  std::string path;
  // Connections used for reads, each used by one thread at a time. Must be
  // >= 1; a couple cover a 2-core machine.
  int reader_connections = 2;
  // How long a statement waits for another connection's (or process's) lock
  // before the call fails with kUnavailable. Tests shorten it.
  std::chrono::milliseconds busy_timeout{5000};
};

class SqliteStore final : public SqlStore {
 public:
  // Opens (creating if needed) the database at options.path and brings its
  // schema (PRAGMA user_version) up to date. Fails with a message naming
  // the path when the file cannot be opened or its schema is newer than
  // this build knows.
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);

 private:
  using SqlStore::SqlStore;
};

}  // namespace herald::store
