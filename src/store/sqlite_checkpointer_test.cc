#include "store/sqlite_checkpointer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace herald::store {
namespace {

class SqliteCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/herald-checkpoint-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/c.db";
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db_), SQLITE_OK);
    Exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
        "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)");
  }
  void TearDown() override {
    sqlite3_close(db_);
    std::filesystem::remove_all(dir_);
  }
  void Exec(const std::string& sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
  }
  void InsertRows(int n) {
    for (int i = 0; i < n; ++i) Exec("INSERT INTO t (body) VALUES (zeroblob(4000))");
  }
  std::uintmax_t DatabaseBytes() { return std::filesystem::file_size(path_); }
  bool WaitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 100; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  }

  std::string dir_;
  std::string path_;
  sqlite3* db_ = nullptr;
};

TEST_F(SqliteCheckpointerTest, CommitsLeaveTheCheckpointToTheThread) {
  // No round due during the test, however slow the machine.
  auto checkpointer =
      SqliteCheckpointer::Start(path_, db_, /*wal_pages=*/1'000'000, std::chrono::hours(1));
  ASSERT_TRUE(checkpointer) << checkpointer.error().message;
  const auto before = DatabaseBytes();
  // Far past SQLite's automatic 1,000 pages: a commit would have copied
  // them into the database file itself. The hook left that to the thread.
  InsertRows(1500);
  EXPECT_EQ(DatabaseBytes(), before);
  EXPECT_EQ((*checkpointer)->CheckpointsForTest(), 0);
}

TEST_F(SqliteCheckpointerTest, ThePeriodicRoundCopiesWhatWasWritten) {
  auto checkpointer =
      SqliteCheckpointer::Start(path_, db_, /*wal_pages=*/1'000'000, std::chrono::milliseconds(50));
  ASSERT_TRUE(checkpointer) << checkpointer.error().message;
  const auto before = DatabaseBytes();
  InsertRows(1500);
  EXPECT_TRUE(WaitFor([&] { return (*checkpointer)->CheckpointsForTest() >= 1; }))
      << "the periodic checkpoint never ran";
  EXPECT_TRUE(WaitFor([&] { return DatabaseBytes() > before + 1000 * 4000; }));
}

TEST_F(SqliteCheckpointerTest, AGrownWalWakesItAtOnceAndNothingIsLost) {
  auto checkpointer = SqliteCheckpointer::Start(path_, db_, /*wal_pages=*/50);
  ASSERT_TRUE(checkpointer) << checkpointer.error().message;
  const auto before = DatabaseBytes();
  InsertRows(300);
  EXPECT_TRUE(WaitFor([&] { return (*checkpointer)->CheckpointsForTest() >= 1; }));
  EXPECT_GT(DatabaseBytes(), before);  // pages were copied into the file
  checkpointer->reset();
  // Another connection sees every row.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  sqlite3_stmt* count = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(other, "SELECT count(*) FROM t", -1, &count, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(count, 0), 300);
  sqlite3_finalize(count);
  sqlite3_close(other);
}

TEST(SqliteCheckpointerStartTest, AMissingDirectoryIsAClearError) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  auto checkpointer = SqliteCheckpointer::Start("/nonexistent-dir/x.db", db);
  ASSERT_FALSE(checkpointer);
  EXPECT_NE(checkpointer.error().message.find("/nonexistent-dir/x.db"), std::string::npos);
  sqlite3_close(db);
}

}  // namespace
}  // namespace herald::store
