#pragma once
// WAL checkpoints off the commit path. SQLite's automatic checkpoint runs
// inside the commit that crosses 1,000 WAL pages, and a checkpoint ends in
// an fsync of the database file: that commit (and every update waiting on
// it) stalls for the disk. Here the writer's WAL hook only counts pages and
// a thread of its own, on a connection of its own, runs PASSIVE checkpoints
// (which never block the writer or readers) when the WAL has grown past
// `wal_pages`, or every `period` (a second) when anything was written.
//
// Durability is unchanged: commits are in the WAL before they are
// answered; checkpoints only copy them into the database file.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/errors.h"

struct sqlite3;

namespace herald::store {

class SqliteCheckpointer {
 public:
  // Hooks `writer` (which must outlive this object, and is used by one
  // thread at a time) and starts the thread.
  static Result<std::unique_ptr<SqliteCheckpointer>> Start(
      const std::string& path, sqlite3* writer, int wal_pages = 1000,
      std::chrono::milliseconds period = std::chrono::seconds(1));
  ~SqliteCheckpointer();  // stops the thread and unhooks the writer

  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // Checkpoints done so far (for tests).
  int CheckpointsForTest();

 private:
  SqliteCheckpointer(sqlite3* writer, sqlite3* own, int wal_pages,
                     std::chrono::milliseconds period);
  static int OnCommit(void* self, sqlite3* db, const char* schema, int pages);
  void Run();

  sqlite3* writer_;
  sqlite3* own_;
  const int wal_pages_;
  const std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable wake_;
  int pages_ = 0;         // WAL pages at the last commit; guarded by mu_
  bool written_ = false;  // a commit since the last checkpoint; guarded by mu_
  bool stop_ = false;     // guarded by mu_
  int checkpoints_ = 0;   // guarded by mu_
  std::thread thread_;
};

}  // namespace herald::store
