// Pruning in ApplyUpdates (store/job_store.cc), on SQLite: each job keeps
// its newest `event_retention` events, and no prune that runs before a
// batch's append deletes a job's newest event. PostgreSQL numbers feed rows
// MAX(id) + 1, so deleting the row that holds MAX(id) there would hand its
// id out again (tests/integration/postgres_store_test.cc shows that side);
// here a trigger makes such a delete fail the batch.

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/sqlite_store.h"

namespace herald::store {
namespace {

namespace fs = std::filesystem;

constexpr int kRetention = 3;

class JobStorePruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("herald_prune_" + std::to_string(getpid()) + "_" + test->name());
    fs::remove_all(dir_);
    SqliteOptions o;
    o.path = (dir_ / "herald.db").string();
    o.event_retention = kRetention;
    store_ = SqliteStore::Open(o).value();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // Makes any DELETE of the row holding the highest feed id fail.
  void ForbidDeletingTheNewestRow() {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "herald.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db,
                                "CREATE TRIGGER keep_newest BEFORE DELETE ON events "
                                "WHEN OLD.id = (SELECT MAX(id) FROM events) "
                                "BEGIN SELECT RAISE(ABORT, 'deleted the newest feed row'); END",
                                nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  // `count` updates to job `id`, in one batch; the feed ids they got.
  std::vector<int64_t> UpdateInOneBatch(int64_t id, int count) {
    std::vector<JobUpdate> batch(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
      batch[static_cast<size_t>(i)].job_id = id;
      batch[static_cast<size_t>(i)].update.message = "update " + std::to_string(i);
    }
    auto outcomes = store_->UpdateJobs(batch);
    EXPECT_TRUE(outcomes) << (outcomes ? "" : outcomes.error().message);
    std::vector<int64_t> feed_ids;
    if (!outcomes) return feed_ids;
    for (const auto& o : *outcomes) {
      EXPECT_TRUE(o) << (o ? "" : o.error().message);
      if (o) feed_ids.push_back(o->feed.id);
    }
    return feed_ids;
  }

  std::vector<int64_t> RetainedSeqs(int64_t id) {
    std::vector<int64_t> seqs;
    for (const StoredEvent& e : store_->EventsAfter(id, 0, 100).value()) seqs.push_back(e.seq);
    return seqs;
  }

  int64_t NewJob() {
    return store_->CreateJob(store::NewJob{"translation", "alice", "", "", 0}).value().job.id;
  }

  fs::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(JobStorePruneTest, BatchOfRetentionEventsKeepsTheNewestRowUntilAfterTheAppend) {
  const int64_t id = NewJob();  // event 1, the newest feed row
  ForbidDeletingTheNewestRow();
  const std::vector<int64_t> feed_ids = UpdateInOneBatch(id, kRetention);
  ASSERT_EQ(feed_ids.size(), static_cast<size_t>(kRetention));
  EXPECT_EQ(RetainedSeqs(id), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(store_->FeedAll(feed_ids.front() - 1, 100).value().size(), feed_ids.size());
}

TEST_F(JobStorePruneTest, BatchLargerThanTheRetentionKeepsOnlyTheNewest) {
  const int64_t id = NewJob();
  UpdateInOneBatch(id, 4);  // events 2..5: 3, 4, 5 kept
  ForbidDeletingTheNewestRow();
  UpdateInOneBatch(id, kRetention + 2);  // events 6..10
  EXPECT_EQ(RetainedSeqs(id), (std::vector<int64_t>{8, 9, 10}));
}

TEST_F(JobStorePruneTest, SmallBatchesPruneTheOldestOnly) {
  const int64_t id = NewJob();
  const int64_t other = NewJob();
  ForbidDeletingTheNewestRow();
  UpdateInOneBatch(id, 2);  // 1, 2, 3
  EXPECT_EQ(RetainedSeqs(id), (std::vector<int64_t>{1, 2, 3}));
  UpdateInOneBatch(id, 1);
  UpdateInOneBatch(other, 1);
  EXPECT_EQ(RetainedSeqs(id), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(RetainedSeqs(other), (std::vector<int64_t>{1, 2}));
}

}  // namespace
}  // namespace herald::store
