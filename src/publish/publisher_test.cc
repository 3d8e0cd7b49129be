// The Publisher on fakes: a real SQLite store behind a decorator that can
// fail, hold and count calls (FakeJobStore), and a bus that records what was
// published.
#include "publish/publisher.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "bus/feed_message.h"
#include "common/metrics.h"
#include "fakes/fake_job_store.h"
#include "fakes/fake_bus.h"

namespace herald::publish {
namespace {

using test::FakeJobStore;
using Method = FakeJobStore::Method;
using Failure = FakeJobStore::Failure;
using test::FakeBus;

class PublisherTest : public ::testing::Test {
 protected:
  int64_t NewJob() {
    auto applied = store_.CreateJob(store::NewJob{"t", "alice", "", "", 0});
    EXPECT_TRUE(applied);
    return applied->job.id;
  }
  static jobs::ProgressUpdate Progress(int p) {
    jobs::ProgressUpdate u;
    u.progress = p;
    u.message = "step " + std::to_string(p);
    return u;
  }

  FakeJobStore store_;
  FakeBus bus_;
  Metrics metrics_;
};

// Many callers at once: their updates share transactions, each job's keep
// the order they were submitted in, and every answer comes once durable.
TEST_F(PublisherTest, GroupCommitKeepsPerJobOrderAndAnswersOnlyWhenDurable) {
  const int jobs = 4, per_job = 100;
  std::vector<int64_t> ids;
  for (int j = 0; j < jobs; ++j) ids.push_back(NewJob());
  Publisher publisher(store_, bus_, metrics_);
  bus_.Subscribe("job:progress:" + std::to_string(ids[0]));

  std::mutex mu;
  std::condition_variable cv;
  int answered = 0;
  bool all_durable = true;
  std::vector<std::vector<int64_t>> seqs(jobs);
  std::vector<std::thread> callers;
  for (int j = 0; j < jobs; ++j) {
    callers.emplace_back([&, j] {
      for (int p = 1; p <= per_job; ++p) {
        publisher.SubmitUpdates({store::JobUpdate{ids[j], Progress(p), false}},
                                [&, j](Result<std::vector<store::UpdateOutcome>> r) {
                                  std::lock_guard lock(mu);
                                  ASSERT_TRUE(r);
                                  ASSERT_TRUE(r->front()) << r->front().error().message;
                                  const auto& applied = *r->front();
                                  // Durable before the answer: the store already returns the event.
                                  auto stored =
                                      store_.real().EventsAfter(ids[j], applied.event.seq - 1, 1);
                                  all_durable = all_durable && stored && !stored->empty() &&
                                                stored->front().seq == applied.event.seq;
                                  seqs[j].push_back(applied.event.seq);
                                  ++answered;
                                  cv.notify_all();
                                });
      }
    });
  }
  for (auto& t : callers) t.join();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(20), [&] { return answered == jobs * per_job; }));
  }
  EXPECT_TRUE(all_durable);
  for (int j = 0; j < jobs; ++j) {
    ASSERT_EQ(seqs[j].size(), static_cast<size_t>(per_job));
    for (int i = 0; i < per_job; ++i) EXPECT_EQ(seqs[j][i], i + 2) << "job " << j;  // 1 is creation
    auto job = store_.real().GetJob(ids[j]);
    EXPECT_EQ(job->progress, per_job);  // the last submitted is the last applied
  }
  // Fewer transactions than updates: callers shared them.
  EXPECT_LT(store_.Calls(Method::kUpdateJobs), jobs * per_job);
  publisher.Stop();
  // Published in commit order: the watched job's events are 2..101 in order.
  std::vector<int64_t> published;
  for (const auto& m : bus_.PublishedMessages()) {
    if (m.channel != "job:progress:" + std::to_string(ids[0])) continue;
    auto at = m.payload.find("\"seq\":");
    published.push_back(std::stoll(m.payload.substr(at + 6)));
  }
  ASSERT_EQ(published.size(), static_cast<size_t>(per_job));
  for (int i = 0; i < per_job; ++i) EXPECT_EQ(published[i], i + 2);
}

TEST_F(PublisherTest, AFailedTransactionAnswersEveryCallerInItAndPublishesNothing) {
  int64_t id = NewJob();
  Publisher publisher(store_, bus_, metrics_);
  store_.FailNext(Method::kUpdateJobs, Failure::kDown);
  auto failed = publisher.Update(id, Progress(10));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::kUnavailable);
  EXPECT_EQ(store_.real().GetJob(id)->last_seq, 1);  // nothing half-applied
  auto ok = publisher.Update(id, Progress(10));      // recovers on the next call
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->event.seq, 2);
  publisher.Stop();
  int job_messages = 0;
  for (const auto& m : bus_.PublishedMessages()) job_messages += m.channel.starts_with("job:");
  EXPECT_EQ(job_messages, 1);
}

TEST_F(PublisherTest, ARefusedUpdateInABatchLeavesTheOthersApplied) {
  int64_t id = NewJob();
  Publisher publisher(store_, bus_, metrics_);
  jobs::ProgressUpdate done;
  done.status = jobs::JobStatus::kCompleted;
  std::promise<Result<std::vector<store::UpdateOutcome>>> promise;
  publisher.SubmitUpdates({{id, Progress(10), false},
                           {id + 1000, Progress(10), false},  // no such job
                           {id, Progress(5), false},          // progress may not decrease
                           {id, done, false},
                           {id, Progress(20), false},  // terminal: no more changes
                           {id, Progress(10), true}},  // not an audit
                          [&](auto r) { promise.set_value(std::move(r)); });
  auto r = promise.get_future().get();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 6u);
  EXPECT_TRUE((*r)[0]);
  EXPECT_EQ((*r)[1].error().code, Errc::kNotFound);
  EXPECT_EQ((*r)[2].error().code, Errc::kConflict);
  ASSERT_TRUE((*r)[3]);
  EXPECT_EQ((*r)[3]->event.seq, 3);
  EXPECT_EQ((*r)[4].error().code, Errc::kConflict);
  EXPECT_EQ((*r)[5].error().code, Errc::kNotFound);
  auto events = store_.real().EventsAfter(id, 0, 10);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->size(), 3u);  // created, 10, completed
}

TEST_F(PublisherTest, AfterStopEverySubmitIsRefusedAsUnavailable) {
  int64_t id = NewJob();
  Publisher publisher(store_, bus_, metrics_);
  publisher.Stop();
  auto r = publisher.Update(id, Progress(10));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
}

// The server's hub windows hear of a commit before its 202 leaves: a stream
// opened right after the answer must not start from an older state.
TEST_F(PublisherTest, TheObserverHearsOfEachCommitBeforeItsCallerIsAnswered) {
  const int64_t id = NewJob();
  std::mutex mu;
  std::vector<std::string> observed;
  PublisherOptions options;
  options.on_commit = [&](std::string_view channel, std::string_view payload) {
    std::lock_guard lock(mu);
    observed.emplace_back(std::string(channel) + " " + std::string(payload));
  };
  Publisher publisher(store_, bus_, metrics_, options);
  for (int p = 1; p <= 20; ++p) {
    auto applied = publisher.Update(id, Progress(p));
    ASSERT_TRUE(applied) << applied.error().message;
    std::lock_guard lock(mu);
    ASSERT_FALSE(observed.empty());
    // The last thing observed is this very update.
    EXPECT_NE(observed.back().find("\"step " + std::to_string(p) + "\""), std::string::npos)
        << observed.back();
    EXPECT_EQ(observed.back().rfind("job:progress:" + std::to_string(id) + " ", 0), 0u)
        << observed.back();
  }
}

// A transaction the store fails answers every caller whose updates were in
// it with the store's error, and nothing of it is published. The committer
// is held inside a CreateJob while three callers queue, so their updates
// share the next transaction.
class PublisherFailedBatchTest : public PublisherTest,
                                 public ::testing::WithParamInterface<Failure> {};

TEST_P(PublisherFailedBatchTest, EveryCallerOfTheBatchGetsTheErrorAndNothingIsPublished) {
  const int64_t id = NewJob();
  Publisher publisher(store_, bus_, metrics_);
  store_.Hold(Method::kCreateJob);
  std::promise<Result<store::Applied>> created;
  publisher.SubmitCreate(store::NewJob{"t", "bob", "", "", 0},
                         [&](Result<store::Applied> r) { created.set_value(std::move(r)); });
  ASSERT_TRUE(store_.WaitUntilHeld(Method::kCreateJob));
  store_.Fail(Method::kUpdateJobs, GetParam());
  std::vector<std::promise<Result<std::vector<store::UpdateOutcome>>>> answers(3);
  for (int caller = 0; caller < 3; ++caller) {
    publisher.SubmitUpdates({{id, Progress(10 * (caller + 1)), false}}, [&answers, caller](auto r) {
      answers[caller].set_value(std::move(r));
    });
  }
  store_.Release(Method::kCreateJob);

  ASSERT_TRUE(created.get_future().get());
  const Error want = FakeJobStore::ErrorFor(GetParam(), Method::kUpdateJobs);
  for (int caller = 0; caller < 3; ++caller) {
    auto r = answers[caller].get_future().get();
    ASSERT_FALSE(r) << "caller " << caller;
    EXPECT_EQ(r.error().code, want.code) << "caller " << caller;
    EXPECT_EQ(r.error().message, want.message) << "caller " << caller;
  }
  EXPECT_EQ(store_.Calls(Method::kUpdateJobs), 1) << "the three updates shared one transaction";
  EXPECT_EQ(store_.real().GetJob(id)->last_seq, 1);
  publisher.Stop();
  for (const auto& m : bus_.PublishedMessages()) {
    EXPECT_NE(m.channel, jobs::ChannelFor("job", id)) << m.payload;
  }
}

INSTANTIATE_TEST_SUITE_P(Failures, PublisherFailedBatchTest,
                         ::testing::Values(Failure::kDown, Failure::kBusy, Failure::kConflict),
                         [](const auto& info) {
                           switch (info.param) {
                             case Failure::kDown:
                               return "Down";
                             case Failure::kBusy:
                               return "Busy";
                             case Failure::kConflict:
                               return "Conflict";
                           }
                           return "Unknown";
                         });

// SQLite busy past its timeout is a passing state: the caller gets 503's
// words (SQLite's own stay in the detail, for the log) and the next update
// commits as if nothing happened.
TEST_F(PublisherTest, ABusyStoreIsUnavailableForThatCallOnly) {
  const int64_t id = NewJob();
  Publisher publisher(store_, bus_, metrics_);
  store_.FailNext(Method::kUpdateJobs, Failure::kBusy);
  auto busy = publisher.Update(id, Progress(10));
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, Errc::kUnavailable);
  EXPECT_EQ(busy.error().message, "database unavailable");
  EXPECT_NE(busy.error().detail.find("database is locked"), std::string::npos);
  auto next = publisher.Update(id, Progress(10));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->event.seq, 2);
  EXPECT_EQ(store_.Calls(Method::kUpdateJobs), 2);
}

// Fan-out follows commit order across jobs, not only within one: what the
// bus carries on the job channels is exactly what the committer observed,
// in the same order, and the feed ids it carries only go up.
TEST_F(PublisherTest, FanOutIsInCommitOrderAcrossJobs) {
  const int jobs = 3, per_job = 40;
  std::vector<int64_t> ids;
  for (int j = 0; j < jobs; ++j) ids.push_back(NewJob());
  std::mutex mu;
  std::vector<std::string> committed;
  PublisherOptions options;
  options.max_batch = 7;  // several transactions, several fan-out batches
  options.on_commit = [&](std::string_view channel, std::string_view payload) {
    std::lock_guard lock(mu);
    committed.push_back(std::string(channel) + " " + std::string(payload));
  };
  Publisher publisher(store_, bus_, metrics_, options);
  std::vector<std::thread> callers;
  for (int j = 0; j < jobs; ++j) {
    callers.emplace_back([&, j] {
      for (int p = 1; p <= per_job; ++p) ASSERT_TRUE(publisher.Update(ids[j], Progress(p)));
    });
  }
  for (auto& t : callers) t.join();
  publisher.Stop();

  std::vector<std::string> published;
  std::vector<int64_t> feed_ids;
  for (const auto& m : bus_.PublishedMessages()) {
    if (m.channel == bus::kFeedChannel) {
      auto entry = bus::DecodeFeedMessage(m.payload);
      ASSERT_TRUE(entry) << m.payload;
      feed_ids.push_back(entry->id);
    } else {
      published.push_back(m.channel + " " + m.payload);
    }
  }
  EXPECT_EQ(published.size(), static_cast<size_t>(jobs * per_job));
  EXPECT_EQ(published, committed);
  ASSERT_EQ(feed_ids.size(), static_cast<size_t>(jobs * per_job));
  for (size_t i = 1; i < feed_ids.size(); ++i) EXPECT_LT(feed_ids[i - 1], feed_ids[i]) << i;
}

}  // namespace
}  // namespace herald::publish
