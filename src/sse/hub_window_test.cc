// The per-job windows of the Hub: a stream of a live job starts from memory,
// atomically with the deliveries, so replay-then-live has no gap and no
// duplicate; anything the window cannot answer goes to the store.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fakes/fake_bus.h"
#include "fakes/fake_subscriber.h"
#include "sse/event_format.h"
#include "sse/hub.h"

namespace herald::sse {
namespace {

using test::FakeBus;
using test::FakeSubscriber;

const std::string kChannel = "job:progress:7";

std::string Payload(int64_t seq, const std::string& status = "running") {
  return R"({"job_id":7,"type":"t","status":")" + status + R"(","progress":)" +
         std::to_string(seq) + R"(,"seq":)" + std::to_string(seq) + "}";
}

std::vector<EventPtr> Events(int64_t from, int64_t to) {
  std::vector<EventPtr> out;
  for (int64_t s = from; s <= to; ++s) out.push_back(MakeProgressEvent(Payload(s)));
  return out;
}

std::vector<int64_t> Seqs(const std::vector<EventPtr>& events) {
  std::vector<int64_t> out;
  for (const auto& e : events) out.push_back(e->seq);
  return out;
}

JobInfo Info(int64_t last_seq) { return JobInfo{7, "alice", false, last_seq, false}; }

class HubWindowTest : public ::testing::Test {
 protected:
  // Joins a new subscriber; returns where it starts once the window says so.
  struct Joined {
    std::shared_ptr<FakeSubscriber> subscriber = std::make_shared<FakeSubscriber>();
    std::shared_ptr<std::optional<StartPoint>> start =
        std::make_shared<std::optional<StartPoint>>();
    bool load = false;
  };
  Joined Join(std::optional<int64_t> resume) {
    Joined j;
    j.load = hub_.JoinProgress(7, kChannel, resume, j.subscriber,
                               [start = j.start](StartPoint p) { *start = std::move(p); });
    return j;
  }

  FakeBus bus_;
  Hub hub_{bus_, HubOptions{8, 1 << 20, std::chrono::milliseconds(1000)}};
};

TEST_F(HubWindowTest, FirstJoinerLoadsAndEveryoneWaitingStartsFromTheSeed) {
  auto first = Join(std::nullopt);
  auto second = Join(3);
  EXPECT_TRUE(first.load);
  EXPECT_FALSE(second.load);  // one store read for the whole crowd
  EXPECT_FALSE(first.start->has_value());
  EXPECT_EQ(bus_.SubscribeCount(kChannel), 1);

  hub_.SeedWindow(Info(5), Events(1, 5));
  ASSERT_TRUE(first.start->has_value());
  EXPECT_EQ((*first.start)->from, StartPoint::From::kWindow);
  EXPECT_EQ(Seqs((*first.start)->frames), (std::vector<int64_t>{5}));  // the current state
  ASSERT_TRUE(second.start->has_value());
  EXPECT_EQ(Seqs((*second.start)->frames), (std::vector<int64_t>{4, 5}));  // after Last-Event-ID 3
  EXPECT_EQ((*second.start)->last_seq, 5);
}

TEST_F(HubWindowTest, EventsDeliveredWhileLoadingFollowTheSeedWithoutGapOrDuplicate) {
  auto first = Join(std::nullopt);
  bus_.Inject(kChannel, Payload(5));  // committed before the read: also in it
  bus_.Inject(kChannel, Payload(6));  // committed after the read
  hub_.SeedWindow(Info(5), Events(1, 5));
  auto late = Join(4);
  EXPECT_EQ(Seqs((*late.start)->frames), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(hub_.Info(7)->last_seq, 6);
  // The first joiner got both live events too; Stream::Start drops <= 5.
  EXPECT_EQ(first.subscriber->EventCount(), 2u);
}

TEST_F(HubWindowTest, LiveJoinIsServedAtOnceAndSeesEveryLaterEvent) {
  Join(std::nullopt);
  hub_.SeedWindow(Info(2), Events(1, 2));
  auto j = Join(1);
  ASSERT_TRUE(j.start->has_value());  // no store, no wait
  EXPECT_EQ(Seqs((*j.start)->frames), (std::vector<int64_t>{2}));
  bus_.Inject(kChannel, Payload(3));
  EXPECT_EQ(Seqs(j.subscriber->Events()), (std::vector<int64_t>{3}));
}

TEST_F(HubWindowTest, ResumeOutsideTheWindowGoesToTheStore) {
  Join(std::nullopt);
  hub_.SeedWindow(Info(20), Events(1, 20));                       // keeps 13..20 (8 events)
  EXPECT_EQ((*Join(12).start)->from, StartPoint::From::kWindow);  // 13.. is all there
  EXPECT_EQ((*Join(11).start)->from, StartPoint::From::kStore);   // 12 was trimmed
  // An id the window has not seen (another instance's, not polled yet).
  EXPECT_EQ((*Join(21).start)->from, StartPoint::From::kStore);
}

TEST_F(HubWindowTest, AGapDropsTheWindowSoTheNextStreamReadsTheStore) {
  Join(std::nullopt);
  hub_.SeedWindow(Info(2), Events(1, 2));
  bus_.Inject(kChannel, Payload(4));  // 3 never came over the bus
  EXPECT_FALSE(hub_.Info(7).has_value());
  EXPECT_TRUE(Join(std::nullopt).load);
}

TEST_F(HubWindowTest, TerminalEventIsKeptAsTheEnd) {
  Join(std::nullopt);
  hub_.SeedWindow(Info(2), Events(1, 2));
  bus_.Inject(kChannel, R"({"job_id":7,"status":"completed","progress":100,"seq":3})");
  auto info = hub_.Info(7);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->terminal);
  auto j = Join(std::nullopt);
  EXPECT_TRUE((*j.start)->finished);
}

TEST_F(HubWindowTest, WindowAndSubscriptionOutliveTheLastStreamUntilSwept) {
  auto j = Join(std::nullopt);
  hub_.SeedWindow(Info(2), Events(1, 2));
  hub_.Leave(kChannel, j.subscriber.get());
  EXPECT_TRUE(bus_.IsSubscribed(kChannel));  // a reconnect storm finds it
  bus_.Inject(kChannel, Payload(3));         // and it stays current
  EXPECT_EQ(hub_.Info(7)->last_seq, 3);
  hub_.Sweep(Hub::Clock::now());  // not yet
  EXPECT_EQ(hub_.WindowCountForTest(), 1u);
  hub_.Sweep(Hub::Clock::now() + std::chrono::seconds(2));
  EXPECT_EQ(hub_.WindowCountForTest(), 0u);
  EXPECT_FALSE(bus_.IsSubscribed(kChannel));
}

TEST_F(HubWindowTest, AFailedLoadSendsEveryWaiterToTheStore) {
  auto a = Join(std::nullopt);
  auto b = Join(2);
  hub_.DropWindow(7);
  EXPECT_EQ((*a.start)->from, StartPoint::From::kStore);
  EXPECT_EQ((*b.start)->from, StartPoint::From::kStore);
  EXPECT_TRUE(bus_.IsSubscribed(kChannel));  // the streams are still joined
}

TEST_F(HubWindowTest, LocalCommitsKeepTheWindowCurrentBeforeAPollingBusDelivers) {
  Join(std::nullopt);
  hub_.SeedWindow(Info(2), Events(1, 2));
  hub_.OnLocalCommit(kChannel, Payload(3));
  EXPECT_EQ(Seqs((*Join(std::nullopt).start)->frames), (std::vector<int64_t>{3}));
  bus_.Inject(kChannel, Payload(3));  // the bus's copy arrives later: no change
  EXPECT_EQ(hub_.Info(7)->last_seq, 3);
}

// The bus's copy of a local commit is not parsed again: the streams get the
// very event the commit framed, and events of other processes in between
// are framed as usual.
TEST_F(HubWindowTest, TheBusCopyOfALocalCommitIsTheEventTheCommitFramed) {
  auto watcher = Join(std::nullopt);
  hub_.SeedWindow(Info(2), Events(1, 2));
  hub_.OnLocalCommit(kChannel, Payload(3));
  hub_.OnLocalCommit(kChannel, Payload(4));
  const EventPtr framed3 = (*Join(2).start)->frames.front();  // from the window
  bus_.Inject(kChannel, Payload(3));
  bus_.Inject(kChannel, Payload(4));
  bus_.Inject(kChannel, Payload(5));  // another process's
  auto got = watcher.subscriber->Events();
  ASSERT_EQ(Seqs(got), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(got[0].get(), framed3.get());
  EXPECT_EQ(got[0]->wire, MakeProgressEvent(Payload(3))->wire);
  EXPECT_EQ(hub_.Info(7)->last_seq, 5);
}

}  // namespace
}  // namespace herald::sse
