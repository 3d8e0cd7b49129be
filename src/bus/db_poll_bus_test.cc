#include "bus/db_poll_bus.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/feed_message.h"
#include "jobs/job.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"

namespace herald::bus {
namespace {

namespace fs = std::filesystem;

const std::string kFeed(kFeedChannel);

using test::TempDir;

struct Message {
  std::string channel;
  std::string payload;
};

class DbPollBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions options;
    options.path = (dir_.path() / "herald.db").string();
    options.event_retention = 100000;  // nothing is pruned under the bus
    auto opened = store::SqliteStore::Open(options);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(*opened);
    // A long interval: the background thread never polls during a test, so
    // every delivery below comes from PollOnceForTest on this thread.
    bus_ = std::make_unique<DbPollBus>(*store_, std::chrono::hours(1));
    bus_->SetHandler([this](std::string_view channel, std::string_view payload) {
      std::lock_guard lock(mu_);
      received_.push_back({std::string(channel), std::string(payload)});
    });
  }
  void TearDown() override {
    if (bus_) bus_->Stop();
    bus_.reset();
    store_.reset();
  }

  store::Applied CreateJob(const std::string& type, const std::string& owner = "alice") {
    store::NewJob job;
    job.type = type;
    job.owner = owner;
    if (type == jobs::kAuditType) job.url = "https://example.com/";
    auto applied = store_->CreateJob(job);
    EXPECT_TRUE(applied.has_value()) << applied.error().message;
    return *applied;
  }

  store::Applied Update(int64_t id, int progress, const std::string& message = "") {
    jobs::ProgressUpdate u;
    u.progress = progress;
    if (!message.empty()) u.message = message;
    auto applied = store_->UpdateJob(id, u);
    EXPECT_TRUE(applied.has_value()) << applied.error().message;
    return *applied;
  }

  store::FeedEntry Notify(const std::string& user, const std::string& type = "maintenance") {
    auto entry = store_->AddNotice({user, type, R"({"text":"hi"})"});
    EXPECT_TRUE(entry.has_value()) << entry.error().message;
    return *entry;
  }

  std::vector<Message> Received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::vector<Message> ReceivedOn(const std::string& channel) {
    std::vector<Message> out;
    for (auto& m : Received())
      if (m.channel == channel) out.push_back(m);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<DbPollBus> bus_;
  std::mutex mu_;
  std::vector<Message> received_;
};

TEST_F(DbPollBusTest, DeliversJobEventsPublishedAfterStartOnTheJobChannelInOrder) {
  auto job = CreateJob("audit");
  const std::string channel = jobs::ChannelFor(job.job);
  ASSERT_EQ(channel, "audit:progress:" + std::to_string(job.job.id));
  bus_->Subscribe(channel);
  bus_->Start();

  auto e1 = Update(job.job.id, 10);
  auto e2 = Update(job.job.id, 20);
  auto e3 = Update(job.job.id, 30);
  bus_->PollOnceForTest();

  auto got = Received();
  ASSERT_EQ(got.size(), 3u);
  for (const auto& m : got) EXPECT_EQ(m.channel, channel);
  EXPECT_EQ(got[0].payload, e1.event.payload);
  EXPECT_EQ(got[1].payload, e2.event.payload);
  EXPECT_EQ(got[2].payload, e3.event.payload);
}

TEST_F(DbPollBusTest, UsesTheJobChannelForGenericJobs) {
  auto job = CreateJob("translation");
  const std::string channel = "job:progress:" + std::to_string(job.job.id);
  bus_->Subscribe(channel);
  bus_->Start();

  auto e = Update(job.job.id, 50);
  bus_->PollOnceForTest();

  auto got = Received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].channel, channel);
  EXPECT_EQ(got[0].payload, e.event.payload);
}

TEST_F(DbPollBusTest, DeliversNothingThatWasStoredBeforeStart) {
  auto job = CreateJob("audit");
  Update(job.job.id, 10);
  Notify("alice");
  bus_->Subscribe(jobs::ChannelFor(job.job));
  bus_->Subscribe(kFeed);
  bus_->Start();

  bus_->PollOnceForTest();
  EXPECT_TRUE(Received().empty());

  auto after = Update(job.job.id, 20);
  bus_->PollOnceForTest();
  auto on_job = ReceivedOn(jobs::ChannelFor(job.job));
  ASSERT_EQ(on_job.size(), 1u);
  EXPECT_EQ(on_job[0].payload, after.event.payload);
}

TEST_F(DbPollBusTest, SkipsJobsWhoseChannelIsNotSubscribed) {
  auto watched = CreateJob("audit");
  auto unwatched = CreateJob("audit");
  bus_->Subscribe(jobs::ChannelFor(watched.job));
  bus_->Start();

  Update(unwatched.job.id, 10);
  auto e = Update(watched.job.id, 10);
  Update(unwatched.job.id, 20);
  bus_->PollOnceForTest();

  auto got = Received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].channel, jobs::ChannelFor(watched.job));
  EXPECT_EQ(got[0].payload, e.event.payload);
}

TEST_F(DbPollBusTest, DeliversNothingWhenNothingIsSubscribed) {
  auto job = CreateJob("audit");
  bus_->Start();
  Update(job.job.id, 10);
  Notify("*");
  bus_->PollOnceForTest();
  EXPECT_TRUE(Received().empty());
}

TEST_F(DbPollBusTest, DoesNotPutNoticesOnAJobChannel) {
  auto job = CreateJob("audit");
  bus_->Subscribe(jobs::ChannelFor(job.job));
  bus_->Start();
  Notify("alice");
  bus_->PollOnceForTest();
  EXPECT_TRUE(Received().empty());
}

TEST_F(DbPollBusTest, StopsDeliveringAfterUnsubscribe) {
  auto job = CreateJob("audit");
  const std::string channel = jobs::ChannelFor(job.job);
  bus_->Subscribe(channel);
  bus_->Start();
  Update(job.job.id, 10);
  bus_->PollOnceForTest();
  ASSERT_EQ(Received().size(), 1u);

  bus_->Unsubscribe(channel);
  Update(job.job.id, 20);
  bus_->PollOnceForTest();
  EXPECT_EQ(Received().size(), 1u);
}

TEST_F(DbPollBusTest, DeliversEveryJobEventAndNoticeOnTheFeedInOrder) {
  auto audit = CreateJob("audit", "alice");
  auto other = CreateJob("translation", "bob");
  bus_->Subscribe(kFeed);
  bus_->Start();

  auto a1 = Update(audit.job.id, 10);
  auto n1 = Notify("*");
  auto o1 = Update(other.job.id, 60);
  auto n2 = Notify("bob", "billing");
  bus_->PollOnceForTest();

  auto got = Received();
  ASSERT_EQ(got.size(), 4u);
  std::vector<store::FeedEntry> want = {a1.feed, n1, o1.feed, n2};
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].channel, kFeed);
    auto decoded = DecodeFeedMessage(got[i].payload);
    ASSERT_TRUE(decoded.has_value()) << got[i].payload;
    EXPECT_EQ(decoded->id, want[i].id) << i;
    EXPECT_EQ(decoded->notice, want[i].notice) << i;
    EXPECT_EQ(decoded->audience, want[i].audience) << i;
    EXPECT_EQ(decoded->event, want[i].event) << i;
    EXPECT_EQ(decoded->job_id, want[i].job_id) << i;
    EXPECT_EQ(decoded->seq, want[i].seq) << i;
  }
  EXPECT_EQ(DecodeFeedMessage(got[0].payload)->event, "audit");
  EXPECT_EQ(DecodeFeedMessage(got[2].payload)->event, "job");
  EXPECT_EQ(DecodeFeedMessage(got[2].payload)->audience, "bob");
}

TEST_F(DbPollBusTest, DeliversAJobEventOnBothItsChannelAndTheFeed) {
  auto job = CreateJob("audit");
  const std::string channel = jobs::ChannelFor(job.job);
  bus_->Subscribe(channel);
  bus_->Subscribe(kFeed);
  bus_->Start();

  auto e = Update(job.job.id, 10);
  bus_->PollOnceForTest();

  auto got = Received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].channel, channel);
  EXPECT_EQ(got[0].payload, e.event.payload);
  EXPECT_EQ(got[1].channel, kFeed);
  EXPECT_EQ(DecodeFeedMessage(got[1].payload)->id, e.feed.id);
}

TEST_F(DbPollBusTest, DoesNotDeliverTheSameEntryTwice) {
  auto job = CreateJob("audit");
  bus_->Subscribe(kFeed);
  bus_->Start();
  Update(job.job.id, 10);
  bus_->PollOnceForTest();
  bus_->PollOnceForTest();
  EXPECT_EQ(Received().size(), 1u);
}

TEST_F(DbPollBusTest, DrainsABurstLargerThanOneBatchInOnePoll) {
  constexpr int kNotices = 1100;  // more than the bus's batch of 1000
  auto job = CreateJob("audit");
  const std::string channel = jobs::ChannelFor(job.job);
  bus_->Subscribe(channel);
  bus_->Subscribe(kFeed);
  bus_->Start();

  std::vector<int64_t> feed_ids;
  std::vector<std::string> job_payloads;
  for (int i = 0; i < kNotices; ++i) {
    feed_ids.push_back(Notify("*").id);
    if (i % 100 == 50) {  // a few job events in the middle and near the end
      auto e = Update(job.job.id, i / 100 + 1);
      feed_ids.push_back(e.feed.id);
      job_payloads.push_back(e.event.payload);
    }
  }
  ASSERT_EQ(job_payloads.size(), 11u);

  bus_->PollOnceForTest();

  auto feed = ReceivedOn(kFeed);
  ASSERT_EQ(feed.size(), feed_ids.size());
  for (size_t i = 0; i < feed.size(); ++i) {
    auto decoded = DecodeFeedMessage(feed[i].payload);
    ASSERT_TRUE(decoded.has_value());
    ASSERT_EQ(decoded->id, feed_ids[i]) << "feed message " << i;
  }
  auto on_job = ReceivedOn(channel);
  ASSERT_EQ(on_job.size(), job_payloads.size());
  for (size_t i = 0; i < on_job.size(); ++i) EXPECT_EQ(on_job[i].payload, job_payloads[i]);

  bus_->PollOnceForTest();
  EXPECT_EQ(Received().size(), feed_ids.size() + job_payloads.size());
}

TEST_F(DbPollBusTest, PollsOnItsOwnThreadAfterStart) {
  // A short interval this time: the bus must find the event without help.
  auto bus = std::make_unique<DbPollBus>(*store_, std::chrono::milliseconds(10));
  std::mutex mu;
  std::vector<std::string> got;
  bus->SetHandler([&](std::string_view channel, std::string_view payload) {
    std::lock_guard lock(mu);
    got.emplace_back(channel);
  });
  auto job = CreateJob("audit");
  bus->Subscribe(jobs::ChannelFor(job.job));
  bus->Start();
  Update(job.job.id, 10);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (!got.empty()) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the polling thread never delivered";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bus->Stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(got[0], jobs::ChannelFor(job.job));
}

}  // namespace
}  // namespace herald::bus

namespace herald::bus {
namespace {

// The polling half of the push buses (RedisFallbackBus, SSE_SOURCE=postgres).
// These call PollOnceForTest without Start(): no background thread polls.

TEST_F(DbPollBusTest, WithJobDeliveryOffOnlyTheFeedIsDelivered) {
  auto job = CreateJob("audit");
  const std::string channel = jobs::ChannelFor(job.job);
  bus_->Subscribe(channel);
  bus_->Subscribe(kFeed);
  bus_->SetDispatchJobs(false);
  bus_->PollOnceForTest();  // the last poll with job delivery on: the create event
  ASSERT_EQ(ReceivedOn(channel).size(), 1u);
  ASSERT_EQ(ReceivedOn(kFeed).size(), 1u);
  Update(job.job.id, 10);
  bus_->PollOnceForTest();
  EXPECT_EQ(ReceivedOn(channel).size(), 1u) << "push carries job events";
  EXPECT_EQ(ReceivedOn(kFeed).size(), 2u) << "the feed is always read from the store";
}

TEST_F(DbPollBusTest, TurningJobDeliveryOffStillDeliversWhatWasCommittedBefore) {
  auto job = CreateJob("audit");
  const std::string channel = jobs::ChannelFor(job.job);
  bus_->Subscribe(channel);
  Update(job.job.id, 10);  // committed while the broker was down
  bus_->SetDispatchJobs(false);
  bus_->PollOnceForTest();
  ASSERT_EQ(ReceivedOn(channel).size(), 2u);  // the create event and progress 10
  Update(job.job.id, 20);
  bus_->PollOnceForTest();
  EXPECT_EQ(ReceivedOn(channel).size(), 2u);
}

TEST_F(DbPollBusTest, WhileIdleThePositionStaysOneIntervalBehind) {
  auto job = CreateJob("audit");
  const std::string channel = jobs::ChannelFor(job.job);
  bus_->SetDispatchJobs(false);
  bus_->PollOnceForTest();  // final job poll
  bus_->Subscribe(channel);
  Update(job.job.id, 10);   // pushed by the broker, but maybe lost as it failed
  bus_->PollOnceForTest();  // idle: notes the newest id
  Update(job.job.id, 20);
  bus_->PollOnceForTest();  // idle: moves to the id noted one poll ago
  // The broker fails: polling resumes from a position that still includes
  // the updates of the last interval (streams drop what they already have;
  // progress 10 came two polls ago and is not read again).
  bus_->SetDispatchJobs(true);
  bus_->PollOnceForTest();
  auto got = ReceivedOn(channel);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].payload.find("\"progress\":20"), std::string::npos) << got[0].payload;
}

TEST_F(DbPollBusTest, WakePollsAtOnce) {
  // The fixture's bus polls hourly; a woken one does not wait for that.
  auto job = CreateJob("audit");
  bus_->Subscribe(kFeed);
  bus_->Start();
  Update(job.job.id, 10);
  bus_->Wake();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (ReceivedOn(kFeed).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(ReceivedOn(kFeed).size(), 1u);
}

}  // namespace
}  // namespace herald::bus
