#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/job_store_test_suite.h"
#include "support/temp_dir.h"

namespace herald::store {
namespace {

namespace fs = std::filesystem;

using test::TempDir;

class SqliteBackend final : public StoreBackend {
 public:
  explicit SqliteBackend(int reader_connections) : readers_(reader_connections) {}

  Result<std::unique_ptr<JobStore>> Open(const StoreTestOptions& options) override {
    SqliteOptions o;
    o.path = (dir_.path() / "herald.db").string();
    o.event_retention = options.event_retention;
    o.clock = options.clock;
    o.reader_connections = readers_;
    auto store = SqliteStore::Open(o);
    if (!store) return store.error();
    return std::unique_ptr<JobStore>(std::move(*store));
  }

 private:
  TempDir dir_;
  int readers_;
};

INSTANTIATE_TEST_SUITE_P(
    Sqlite, JobStoreTest,
    ::testing::Values(
        StoreBackendParam{"Sqlite", [] { return std::make_unique<SqliteBackend>(2); }},
        // One reader makes every concurrent read wait for the same connection.
        StoreBackendParam{"SqliteOneReader", [] { return std::make_unique<SqliteBackend>(1); }}),
    StoreBackendName);

// ---------------------------------------------------------------------------
// SQLite specifics: files, pragmas, migrations, locking.

// A raw connection to inspect or tamper with a database behind the store.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) ADD_FAILURE() << sqlite3_errmsg(db_);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (err ? err : "?");
    }
    sqlite3_free(err);
  }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      out = text ? reinterpret_cast<const char*>(text) : "";
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return (dir_.path() / "herald.db").string(); }
  SqliteOptions Options() const {
    SqliteOptions o;
    o.path = DbPath();
    return o;
  }

  TempDir dir_;
};

TEST_F(SqliteStoreTest, CreatesMissingParentDirectories) {
  SqliteOptions o = Options();
  o.path = (dir_.path() / "var" / "deep" / "herald.db").string();
  auto store = SqliteStore::Open(o);
  ASSERT_TRUE(IsOk(store));
  EXPECT_TRUE(fs::exists(o.path));
}

TEST_F(SqliteStoreTest, UsesWalAndRecordsSchemaVersion) {
  ASSERT_TRUE(IsOk(SqliteStore::Open(Options())));
  RawDb raw(DbPath());
  EXPECT_EQ(raw.Text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.Text("PRAGMA user_version"), std::to_string(SqliteStore::SchemaVersion()));
  for (const char* index : {"jobs_owner_id", "jobs_type_id", "events_audience_id"}) {
    EXPECT_EQ(raw.Text(std::string("SELECT name FROM sqlite_master WHERE name = '") + index + "'"),
              index);
  }
}

TEST_F(SqliteStoreTest, ReopenAppliesNoStepTwice) {
  {
    auto store = SqliteStore::Open(Options()).value();
    store->CreateJob(NewJob{"translation", "alice", "", "", 0}).value();
  }
  // A second open finds the schema current; re-running step 1 would fail on
  // CREATE TABLE jobs, so success shows it was skipped.
  auto store = SqliteStore::Open(Options());
  ASSERT_TRUE(IsOk(store));
  EXPECT_EQ((*store)->ListJobs({}).value().size(), 1u);
  RawDb raw(DbPath());
  EXPECT_EQ(raw.Text("PRAGMA user_version"), std::to_string(SqliteStore::SchemaVersion()));
}

TEST_F(SqliteStoreTest, MigratesAnExistingEmptyDatabase) {
  {
    RawDb raw(DbPath());
    raw.Exec("CREATE TABLE unrelated (x)");
  }
  auto store = SqliteStore::Open(Options());
  ASSERT_TRUE(IsOk(store));
  EXPECT_TRUE(IsOk((*store)->CreateJob(NewJob{"translation", "alice", "", "", 0})));
}

TEST_F(SqliteStoreTest, RefusesANewerSchemaNamingThePath) {
  ASSERT_TRUE(IsOk(SqliteStore::Open(Options())));
  {
    RawDb raw(DbPath());
    raw.Exec("PRAGMA user_version = 999");
  }

  auto store = SqliteStore::Open(Options());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find(DbPath()), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("999"), std::string::npos) << store.error().message;
}

TEST_F(SqliteStoreTest, UnusablePathFailsNamingIt) {
  // The parent "directory" is a regular file, so it cannot be created.
  const fs::path blocker = dir_.path() / "not_a_dir";
  std::ofstream(blocker) << "x";
  SqliteOptions o = Options();
  o.path = (blocker / "herald.db").string();
  auto store = SqliteStore::Open(o);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find(o.path), std::string::npos) << store.error().message;
}

TEST_F(SqliteStoreTest, RefusesBadOptions) {
  SqliteOptions o = Options();
  o.event_retention = 0;
  EXPECT_FALSE(SqliteStore::Open(o));
  o = Options();
  o.reader_connections = 0;
  EXPECT_FALSE(SqliteStore::Open(o));
  o = Options();
  o.path.clear();
  EXPECT_FALSE(SqliteStore::Open(o));
}

// Another process holding the write lock past busy_timeout makes writes
// unavailable (503), while WAL readers carry on.
TEST_F(SqliteStoreTest, LockedDatabaseIsUnavailableForWrites) {
  SqliteOptions o = Options();
  o.busy_timeout = std::chrono::milliseconds(50);
  auto store = SqliteStore::Open(o).value();
  const int64_t id = store->CreateJob(NewJob{"translation", "alice", "", "", 0}).value().job.id;

  RawDb other(DbPath());
  other.Exec("BEGIN IMMEDIATE");
  jobs::ProgressUpdate u;
  u.progress = 10;
  EXPECT_TRUE(IsError(store->UpdateJob(id, u), Errc::kUnavailable));
  EXPECT_TRUE(
      IsError(store->CreateJob(NewJob{"translation", "alice", "", "", 0}), Errc::kUnavailable));
  EXPECT_TRUE(IsError(store->AddNotice({"alice", "n", "{}"}), Errc::kUnavailable));
  EXPECT_TRUE(IsOk(store->GetJob(id)));
  // Nothing can be written, so /healthz reports the database down.
  EXPECT_TRUE(IsError(store->Ping(), Errc::kUnavailable));
  other.Exec("ROLLBACK");
  EXPECT_TRUE(IsOk(store->Ping()));

  auto applied = store->UpdateJob(id, u);
  ASSERT_TRUE(IsOk(applied));
  EXPECT_EQ(applied->event.seq, 2);
}

// A second store on the same file stands in for a `herald worker` process:
// both write, and numbering stays shared.
TEST_F(SqliteStoreTest, TwoStoresOnOneFileShareNumbering) {
  auto a = SqliteStore::Open(Options()).value();
  auto b = SqliteStore::Open(Options()).value();
  const int64_t id = a->CreateJob(NewJob{"translation", "alice", "", "", 0}).value().job.id;
  jobs::ProgressUpdate u;
  u.message = "x";
  EXPECT_EQ(b->UpdateJob(id, u).value().event.seq, 2);
  EXPECT_EQ(a->UpdateJob(id, u).value().event.seq, 3);
  EXPECT_EQ(a->GetJob(id).value().last_seq, 3);
}

}  // namespace
}  // namespace herald::store
