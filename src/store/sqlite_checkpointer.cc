#include "store/sqlite_checkpointer.h"

#include <sqlite3.h>

#include <chrono>

#include "common/log.h"

namespace herald::store {

Result<std::unique_ptr<SqliteCheckpointer>> SqliteCheckpointer::Start(
    const std::string& path, sqlite3* writer, int wal_pages, std::chrono::milliseconds period) {
  sqlite3* own = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  // A connection learns that the file is in WAL mode when it first reads
  // it; until then a checkpoint call does nothing.
  if (rc == SQLITE_OK) rc = sqlite3_exec(own, "PRAGMA schema_version", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = own ? sqlite3_errmsg(own) : sqlite3_errstr(rc);
    sqlite3_close(own);
    return MakeError(Errc::kUnavailable,
                     "database " + path + ": cannot open the checkpoint connection: " + message);
  }
  return std::unique_ptr<SqliteCheckpointer>(
      new SqliteCheckpointer(writer, own, wal_pages, period));
}

SqliteCheckpointer::SqliteCheckpointer(sqlite3* writer, sqlite3* own, int wal_pages,
                                       std::chrono::milliseconds period)
    : writer_(writer), own_(own), wal_pages_(wal_pages), period_(period) {
  // Replaces SQLite's automatic checkpoint, which is itself a WAL hook.
  sqlite3_wal_hook(writer_, &SqliteCheckpointer::OnCommit, this);
  thread_ = std::thread([this] { Run(); });
}

SqliteCheckpointer::~SqliteCheckpointer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  sqlite3_wal_autocheckpoint(writer_, 1000);  // the default again, for the writer's last commits
  sqlite3_close(own_);
}

int SqliteCheckpointer::OnCommit(void* self, sqlite3*, const char*, int pages) {
  auto* checkpointer = static_cast<SqliteCheckpointer*>(self);
  bool due = false;
  {
    std::lock_guard lock(checkpointer->mu_);
    checkpointer->pages_ = pages;
    checkpointer->written_ = true;
    due = pages >= checkpointer->wal_pages_;
  }
  if (due) checkpointer->wake_.notify_one();
  return SQLITE_OK;
}

void SqliteCheckpointer::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, period_, [this] { return stop_ || pages_ >= wal_pages_; });
    if (stop_) break;
    if (!written_) continue;
    written_ = false;
    pages_ = 0;
    lock.unlock();
    int log_pages = 0;
    int done_pages = 0;
    int rc = sqlite3_wal_checkpoint_v2(own_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_pages,
                                       &done_pages);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      log::Warn("SQLite checkpoint failed: {}", sqlite3_errmsg(own_));
    }
    lock.lock();
    ++checkpoints_;
  }
}

int SqliteCheckpointer::CheckpointsForTest() {
  std::lock_guard lock(mu_);
  return checkpoints_;
}

}  // namespace herald::store
