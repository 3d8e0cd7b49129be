#include "sse/hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "fakes/fake_bus.h"
#include "fakes/fake_subscriber.h"
#include "sse/event_format.h"

namespace herald::sse {
namespace {

using test::FakeBus;
using test::FakeSubscriber;

const std::string kFeed(bus::kFeedChannel);
const std::string kChannel = "audit:progress:1";
const std::string kOtherChannel = "job:progress:2";
const std::string kPayload = R"({"audit_id":1,"status":"running","progress":10,"seq":2})";

std::shared_ptr<FakeSubscriber> NewSubscriber() { return std::make_shared<FakeSubscriber>(); }

// Feed messages are written by hand, so these tests do not depend on
// EncodeFeedMessage (which has its own tests).
std::string JobEventFeed(int64_t id, const std::string& owner,
                         const std::string& data = R"({"audit_id":1,"status":"running","seq":1})") {
  return R"({"id":)" + std::to_string(id) + R"(,"audience":")" + owner +
         R"(","notice":false,"event":"audit","job_id":1,"seq":1,"data":)" + data + "}";
}

std::string NoticeFeed(int64_t id, const std::string& audience,
                       const std::string& data = R"({"text":"maintenance at 5"})") {
  return R"({"id":)" + std::to_string(id) + R"(,"audience":")" + audience +
         R"(","notice":true,"event":"maintenance","job_id":0,"seq":0,"data":)" + data + "}";
}

class HubTest : public ::testing::Test {
 protected:
  FakeBus bus_;
  Hub hub_{bus_};
};

// ---------------------------------------------------------------------------
// Job channels: subscriptions

TEST_F(HubTest, InstallsItselfAsTheBusHandler) { EXPECT_TRUE(bus_.HasHandler()); }

TEST_F(HubTest, SubscribesOnceWhenTheFirstSubscriberJoinsAChannel) {
  auto a = NewSubscriber(), b = NewSubscriber();
  hub_.Join(kChannel, a);
  EXPECT_EQ(bus_.SubscribeCount(kChannel), 1);
  hub_.Join(kChannel, b);
  EXPECT_EQ(bus_.SubscribeCount(kChannel), 1);
  EXPECT_EQ(hub_.SubscriberCountForTest(kChannel), 2u);
  EXPECT_EQ(bus_.SubscribeCount(kOtherChannel), 0);
}

TEST_F(HubTest, SubscribesOncePerChannel) {
  hub_.Join(kChannel, NewSubscriber());
  hub_.Join(kOtherChannel, NewSubscriber());
  EXPECT_EQ(bus_.SubscribeCount(kChannel), 1);
  EXPECT_EQ(bus_.SubscribeCount(kOtherChannel), 1);
}

TEST_F(HubTest, UnsubscribesOnlyAfterTheLastSubscriberLeaves) {
  auto a = NewSubscriber(), b = NewSubscriber();
  hub_.Join(kChannel, a);
  hub_.Join(kChannel, b);

  hub_.Leave(kChannel, a.get());
  EXPECT_EQ(bus_.UnsubscribeCount(kChannel), 0);
  EXPECT_EQ(hub_.SubscriberCountForTest(kChannel), 1u);

  hub_.Leave(kChannel, b.get());
  EXPECT_EQ(bus_.UnsubscribeCount(kChannel), 1);
  EXPECT_EQ(hub_.SubscriberCountForTest(kChannel), 0u);
  EXPECT_FALSE(bus_.IsSubscribed(kChannel));
}

TEST_F(HubTest, SubscribesAgainWhenAChannelIsJoinedAfterItsLastLeave) {
  auto a = NewSubscriber();
  hub_.Join(kChannel, a);
  hub_.Leave(kChannel, a.get());
  hub_.Join(kChannel, a);
  EXPECT_EQ(bus_.SubscribeCount(kChannel), 2);
  EXPECT_EQ(bus_.UnsubscribeCount(kChannel), 1);
  EXPECT_TRUE(bus_.IsSubscribed(kChannel));
  EXPECT_TRUE(bus_.ProtocolViolations().empty());
}

TEST_F(HubTest, LeavingAChannelThatWasNeverJoinedDoesNothing) {
  auto a = NewSubscriber();
  hub_.Leave(kChannel, a.get());
  EXPECT_EQ(bus_.UnsubscribeCount(kChannel), 0);
}

TEST_F(HubTest, LeaveOfASubscriberThatIsNotAMemberKeepsTheChannel) {
  auto member = NewSubscriber(), stranger = NewSubscriber();
  hub_.Join(kChannel, member);
  hub_.Leave(kChannel, stranger.get());
  EXPECT_EQ(bus_.UnsubscribeCount(kChannel), 0);
  EXPECT_EQ(hub_.SubscriberCountForTest(kChannel), 1u);
  bus_.Inject(kChannel, kPayload);
  EXPECT_EQ(member->EventCount(), 1u);
}

TEST_F(HubTest, LeavingTwiceUnsubscribesOnce) {
  auto a = NewSubscriber();
  hub_.Join(kChannel, a);
  hub_.Leave(kChannel, a.get());
  hub_.Leave(kChannel, a.get());
  EXPECT_EQ(bus_.UnsubscribeCount(kChannel), 1);
}

// Two streams on one job, on two I/O threads: the last one leaves while a new
// one (say, the same browser reconnecting) joins. The Hub decides under its
// lock but calls the bus after releasing it, so the joiner's Subscribe can
// reach the bus before the leaver's Unsubscribe. FakeBus runs the join at the
// exact point of that window. Whatever the interleaving, a channel with a
// member must end up subscribed, or the new stream never sees a live event.
TEST_F(HubTest, AJoinRacingTheLastLeaveLeavesTheChannelSubscribed) {
  auto leaving = NewSubscriber(), joining = NewSubscriber();
  hub_.Join(kChannel, leaving);
  // Another thread joins at the moment the hub has decided to unsubscribe.
  // (It cannot finish before the Leave does: the hub holds its lock.)
  std::thread racer;
  bus_.BeforeNextUnsubscribe([&](const std::string&) {
    racer = std::thread([&] { hub_.Join(kChannel, joining); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });

  hub_.Leave(kChannel, leaving.get());
  racer.join();

  ASSERT_EQ(hub_.SubscriberCountForTest(kChannel), 1u);
  EXPECT_TRUE(bus_.IsSubscribed(kChannel))
      << "a stream is joined to " << kChannel << " but the bus was left unsubscribed";
  EXPECT_TRUE(bus_.ProtocolViolations().empty())
      << "bus saw: " << testing::PrintToString(bus_.ProtocolViolations());
}

TEST_F(HubTest, AJoinFeedRacingTheLastLeaveFeedLeavesTheFeedSubscribed) {
  auto leaving = NewSubscriber(), joining = NewSubscriber();
  hub_.JoinFeed("alice", false, leaving);
  std::thread racer;
  bus_.BeforeNextUnsubscribe([&](const std::string&) {
    racer = std::thread([&] { hub_.JoinFeed("bob", false, joining); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });

  hub_.LeaveFeed(leaving.get());
  racer.join();

  EXPECT_TRUE(bus_.IsSubscribed(kFeed))
      << "a feed stream is joined but the bus was left unsubscribed from " << kFeed;
  EXPECT_TRUE(bus_.ProtocolViolations().empty())
      << "bus saw: " << testing::PrintToString(bus_.ProtocolViolations());
}

// ---------------------------------------------------------------------------
// Job channels: delivery

TEST_F(HubTest, FansOutOneSharedEventToEverySubscriberOfTheChannel) {
  auto a = NewSubscriber(), b = NewSubscriber(), c = NewSubscriber();
  hub_.Join(kChannel, a);
  hub_.Join(kChannel, b);
  hub_.Join(kChannel, c);

  bus_.Inject(kChannel, kPayload);

  ASSERT_EQ(a->EventCount(), 1u);
  ASSERT_EQ(b->EventCount(), 1u);
  ASSERT_EQ(c->EventCount(), 1u);
  EventPtr event = a->Events()[0];
  // Encoded once: every subscriber holds the very same buffer.
  EXPECT_EQ(b->Events()[0].get(), event.get());
  EXPECT_EQ(c->Events()[0].get(), event.get());
  EXPECT_EQ(event->wire, MakeProgressEvent(kPayload)->wire);
  EXPECT_EQ(event->seq, 2);
  EXPECT_FALSE(event->terminal);
}

TEST_F(HubTest, MarksATerminalPayloadAsTerminal) {
  auto a = NewSubscriber();
  hub_.Join(kChannel, a);
  bus_.Inject(kChannel, R"({"audit_id":1,"status":"failed","seq":5})");
  ASSERT_EQ(a->EventCount(), 1u);
  EXPECT_TRUE(a->Events()[0]->terminal);
  EXPECT_TRUE(a->Events()[0]->failed);
  EXPECT_EQ(a->Events()[0]->seq, 5);
}

TEST_F(HubTest, DoesNotDeliverToSubscribersOfOtherChannels) {
  auto mine = NewSubscriber(), other = NewSubscriber();
  hub_.Join(kChannel, mine);
  hub_.Join(kOtherChannel, other);

  bus_.Inject(kChannel, kPayload);

  EXPECT_EQ(mine->EventCount(), 1u);
  EXPECT_EQ(other->EventCount(), 0u);
}

TEST_F(HubTest, DropsAMessageForAChannelNobodyWatches) {
  auto a = NewSubscriber();
  hub_.Join(kOtherChannel, a);
  bus_.Inject(kChannel, kPayload);
  EXPECT_EQ(a->EventCount(), 0u);
}

TEST_F(HubTest, StopsDeliveringToASubscriberThatLeft) {
  auto stays = NewSubscriber(), leaves = NewSubscriber();
  hub_.Join(kChannel, stays);
  hub_.Join(kChannel, leaves);
  hub_.Leave(kChannel, leaves.get());

  bus_.Inject(kChannel, kPayload);

  EXPECT_EQ(stays->EventCount(), 1u);
  EXPECT_EQ(leaves->EventCount(), 0u);
}

TEST_F(HubTest, SkipsSubscribersThatNoLongerExist) {
  auto alive = NewSubscriber();
  auto gone = NewSubscriber();
  std::weak_ptr<FakeSubscriber> gone_weak = gone;
  hub_.Join(kChannel, alive);
  hub_.Join(kChannel, gone);
  gone.reset();  // destroyed without leaving: the Hub holds it weakly
  ASSERT_TRUE(gone_weak.expired()) << "the Hub must not keep a subscriber alive";

  bus_.Inject(kChannel, kPayload);
  EXPECT_EQ(alive->EventCount(), 1u);
}

TEST_F(HubTest, DoesNotRouteJobChannelMessagesToFeedSubscribers) {
  auto feed = NewSubscriber();
  hub_.JoinFeed("alice", true, feed);
  bus_.Inject(kChannel, kPayload);
  EXPECT_EQ(feed->EventCount(), 0u);
}

// ---------------------------------------------------------------------------
// The feed: subscriptions

TEST_F(HubTest, SubscribesToTheFeedOnTheFirstJoinFeedOnly) {
  auto a = NewSubscriber(), b = NewSubscriber(), c = NewSubscriber();
  hub_.JoinFeed("alice", false, a);
  EXPECT_EQ(bus_.SubscribeCount(kFeed), 1);
  hub_.JoinFeed("alice", false, b);
  hub_.JoinFeed("root", true, c);
  EXPECT_EQ(bus_.SubscribeCount(kFeed), 1);
}

TEST_F(HubTest, UnsubscribesFromTheFeedAfterTheLastLeaveFeed) {
  auto a = NewSubscriber(), b = NewSubscriber();
  hub_.JoinFeed("alice", false, a);
  hub_.JoinFeed("root", true, b);

  hub_.LeaveFeed(a.get());
  EXPECT_EQ(bus_.UnsubscribeCount(kFeed), 0);
  hub_.LeaveFeed(b.get());
  EXPECT_EQ(bus_.UnsubscribeCount(kFeed), 1);
  EXPECT_FALSE(bus_.IsSubscribed(kFeed));

  hub_.JoinFeed("alice", false, a);
  EXPECT_EQ(bus_.SubscribeCount(kFeed), 2);
}

TEST_F(HubTest, LeaveFeedOfANonMemberDoesNothing) {
  auto member = NewSubscriber(), stranger = NewSubscriber();
  hub_.LeaveFeed(stranger.get());
  EXPECT_EQ(bus_.UnsubscribeCount(kFeed), 0);

  hub_.JoinFeed("alice", false, member);
  hub_.LeaveFeed(stranger.get());
  EXPECT_EQ(bus_.UnsubscribeCount(kFeed), 0);
  bus_.Inject(kFeed, JobEventFeed(1, "alice"));
  EXPECT_EQ(member->EventCount(), 1u);
}

TEST_F(HubTest, FeedAndJobChannelSubscriptionsAreIndependent) {
  auto a = NewSubscriber();
  hub_.Join(kChannel, a);
  hub_.JoinFeed("alice", false, a);
  hub_.Leave(kChannel, a.get());
  EXPECT_EQ(bus_.UnsubscribeCount(kChannel), 1);
  EXPECT_EQ(bus_.UnsubscribeCount(kFeed), 0);
  bus_.Inject(kFeed, JobEventFeed(1, "alice"));
  EXPECT_EQ(a->EventCount(), 1u);
}

// ---------------------------------------------------------------------------
// The feed: routing

TEST_F(HubTest, FramesAFeedMessageWithTheFeedIdAndEventName) {
  auto a = NewSubscriber();
  hub_.JoinFeed("alice", false, a);
  const std::string data = R"({"audit_id":1,"status":"running","seq":1})";
  bus_.Inject(kFeed, JobEventFeed(77, "alice", data));
  ASSERT_EQ(a->EventCount(), 1u);
  EXPECT_EQ(a->Events()[0]->wire, FormatEvent(77, "audit", data));
  EXPECT_EQ(a->Events()[0]->seq, 77);
  EXPECT_FALSE(a->Events()[0]->terminal);
}

TEST_F(HubTest, SendsAJobEventToTheOwnersFeedsAndToAdminsButNotToOtherUsers) {
  auto alice1 = NewSubscriber(), alice2 = NewSubscriber(), bob = NewSubscriber(),
       admin = NewSubscriber();
  hub_.JoinFeed("alice", false, alice1);
  hub_.JoinFeed("alice", false, alice2);
  hub_.JoinFeed("bob", false, bob);
  hub_.JoinFeed("root", true, admin);

  bus_.Inject(kFeed, JobEventFeed(10, "alice"));

  ASSERT_EQ(alice1->EventCount(), 1u);
  EXPECT_EQ(alice2->EventCount(), 1u);
  EXPECT_EQ(admin->EventCount(), 1u);
  EXPECT_EQ(bob->EventCount(), 0u);
  // One frame for all of them.
  EXPECT_EQ(alice2->Events()[0].get(), alice1->Events()[0].get());
  EXPECT_EQ(admin->Events()[0].get(), alice1->Events()[0].get());
}

TEST_F(HubTest, SendsAJobEventToAnAdminWhoOwnsTheJobOnce) {
  auto admin_owner = NewSubscriber(), other_admin = NewSubscriber();
  hub_.JoinFeed("root", true, admin_owner);
  hub_.JoinFeed("ops", true, other_admin);

  bus_.Inject(kFeed, JobEventFeed(11, "root"));

  EXPECT_EQ(admin_owner->EventCount(), 1u);
  EXPECT_EQ(other_admin->EventCount(), 1u);
}

TEST_F(HubTest, SendsAJobEventToAdminsEvenWhenTheOwnerHasNoFeed) {
  auto admin = NewSubscriber();
  hub_.JoinFeed("root", true, admin);
  bus_.Inject(kFeed, JobEventFeed(12, "nobody-listening"));
  EXPECT_EQ(admin->EventCount(), 1u);
}

TEST_F(HubTest, SendsANoticeForAUserToThatUserOnly) {
  auto alice = NewSubscriber(), bob = NewSubscriber(), admin = NewSubscriber();
  hub_.JoinFeed("alice", false, alice);
  hub_.JoinFeed("bob", false, bob);
  hub_.JoinFeed("root", true, admin);

  bus_.Inject(kFeed, NoticeFeed(20, "alice"));

  ASSERT_EQ(alice->EventCount(), 1u);
  EXPECT_EQ(bob->EventCount(), 0u);
  EXPECT_EQ(admin->EventCount(), 0u) << "a notice is addressed to a person, not to a role";
  EXPECT_EQ(alice->Events()[0]->wire,
            FormatEvent(20, "maintenance", R"({"text":"maintenance at 5"})"));
}

TEST_F(HubTest, SendsANoticeForAnAdminToThatAdminOnce) {
  auto admin = NewSubscriber(), other_admin = NewSubscriber();
  hub_.JoinFeed("root", true, admin);
  hub_.JoinFeed("ops", true, other_admin);

  bus_.Inject(kFeed, NoticeFeed(21, "root"));

  EXPECT_EQ(admin->EventCount(), 1u);
  EXPECT_EQ(other_admin->EventCount(), 0u);
}

TEST_F(HubTest, SendsABroadcastNoticeToEveryFeedOnce) {
  auto alice = NewSubscriber(), bob = NewSubscriber(), admin = NewSubscriber();
  hub_.JoinFeed("alice", false, alice);
  hub_.JoinFeed("bob", false, bob);
  hub_.JoinFeed("root", true, admin);

  bus_.Inject(kFeed, NoticeFeed(22, "*"));

  ASSERT_EQ(alice->EventCount(), 1u);
  EXPECT_EQ(bob->EventCount(), 1u);
  EXPECT_EQ(admin->EventCount(), 1u);
  EXPECT_EQ(bob->Events()[0].get(), alice->Events()[0].get());
}

TEST_F(HubTest, StopsRoutingToAFeedThatLeft) {
  auto alice = NewSubscriber(), admin = NewSubscriber();
  hub_.JoinFeed("alice", false, alice);
  hub_.JoinFeed("root", true, admin);
  hub_.LeaveFeed(alice.get());
  hub_.LeaveFeed(admin.get());
  hub_.JoinFeed("bob", false, NewSubscriber());  // keeps the feed subscribed

  bus_.Inject(kFeed, JobEventFeed(30, "alice"));
  bus_.Inject(kFeed, NoticeFeed(31, "*"));

  EXPECT_EQ(alice->EventCount(), 0u);
  EXPECT_EQ(admin->EventCount(), 0u);
}

TEST_F(HubTest, SkipsFeedSubscribersThatNoLongerExist) {
  auto alive = NewSubscriber();
  auto gone_user = NewSubscriber(), gone_admin = NewSubscriber();
  hub_.JoinFeed("alice", false, alive);
  hub_.JoinFeed("alice", false, gone_user);
  hub_.JoinFeed("root", true, gone_admin);
  gone_user.reset();
  gone_admin.reset();

  bus_.Inject(kFeed, JobEventFeed(40, "alice"));
  bus_.Inject(kFeed, NoticeFeed(41, "*"));
  EXPECT_EQ(alive->EventCount(), 2u);
}

TEST_F(HubTest, IgnoresAFeedMessageThatDoesNotParse) {
  auto alice = NewSubscriber(), admin = NewSubscriber();
  hub_.JoinFeed("alice", false, alice);
  hub_.JoinFeed("root", true, admin);

  bus_.Inject(kFeed, "not json");
  bus_.Inject(kFeed, R"({"audience":"alice","event":"audit","data":{}})");  // no id

  EXPECT_EQ(alice->EventCount(), 0u);
  EXPECT_EQ(admin->EventCount(), 0u);
}

// ---------------------------------------------------------------------------
// StopAll

TEST_F(HubTest, StopAllStopsEveryJoinedSubscriber) {
  auto on_channel = NewSubscriber(), on_other = NewSubscriber(), on_feed = NewSubscriber(),
       admin = NewSubscriber(), left = NewSubscriber();
  hub_.Join(kChannel, on_channel);
  hub_.Join(kOtherChannel, on_other);
  hub_.JoinFeed("alice", false, on_feed);
  hub_.JoinFeed("root", true, admin);
  hub_.Join(kChannel, left);
  hub_.Leave(kChannel, left.get());

  hub_.StopAll();

  EXPECT_EQ(on_channel->StopCount(), 1);
  EXPECT_EQ(on_other->StopCount(), 1);
  EXPECT_EQ(on_feed->StopCount(), 1);
  EXPECT_EQ(admin->StopCount(), 1);
  EXPECT_EQ(left->StopCount(), 0);
}

TEST_F(HubTest, StopAllSkipsSubscribersThatNoLongerExist) {
  auto alive = NewSubscriber();
  auto gone = NewSubscriber();
  hub_.Join(kChannel, alive);
  hub_.Join(kChannel, gone);
  hub_.JoinFeed("alice", false, gone);
  gone.reset();
  hub_.StopAll();
  EXPECT_EQ(alive->StopCount(), 1);
}

// ---------------------------------------------------------------------------
// Threads (this binary also runs under TSan)

TEST_F(HubTest, SurvivesConcurrentJoinLeaveAndDelivery) {
  constexpr int kThreads = 4;
  constexpr int kIterations = 1000;
  const std::vector<std::string> channels = {"audit:progress:1", "audit:progress:2",
                                             "job:progress:3"};
  std::atomic<int> failures{0};

  auto worker = [&](int t) {
    const std::string user = "user" + std::to_string(t);
    for (int i = 0; i < kIterations; ++i) {
      const std::string& channel = channels[(t + i) % channels.size()];
      auto sub = NewSubscriber();
      auto feed = NewSubscriber();
      hub_.Join(channel, sub);
      hub_.JoinFeed(user, t == 0, feed);

      const std::string payload = R"({"status":"running","seq":)" + std::to_string(i + 1) +
                                  R"(,"t":)" + std::to_string(t) + "}";
      bus_.Inject(channel, payload);
      bus_.Inject(kFeed, JobEventFeed(i + 1, user));

      // Joined before the inject on this thread: both must have arrived.
      bool got_own = false;
      for (const auto& e : sub->Events())
        got_own = got_own || e->wire == MakeProgressEvent(payload)->wire;
      if (!got_own) ++failures;
      if (feed->EventCount() == 0) ++failures;

      hub_.Leave(channel, sub.get());
      hub_.LeaveFeed(feed.get());
    }
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();

  EXPECT_EQ(failures.load(), 0);
  for (const auto& channel : channels) {
    EXPECT_EQ(hub_.SubscriberCountForTest(channel), 0u) << channel;
    EXPECT_EQ(bus_.SubscribeCount(channel), bus_.UnsubscribeCount(channel)) << channel;
    EXPECT_FALSE(bus_.IsSubscribed(channel)) << channel;
  }
  EXPECT_EQ(bus_.SubscribeCount(kFeed), bus_.UnsubscribeCount(kFeed));
  EXPECT_FALSE(bus_.IsSubscribed(kFeed));

  // Everything left: nothing is delivered any more.
  auto late = NewSubscriber();
  hub_.Join("audit:progress:9", late);
  hub_.Leave("audit:progress:9", late.get());
  bus_.Inject(channels[0], kPayload);
  EXPECT_EQ(late->EventCount(), 0u);
}

}  // namespace
}  // namespace herald::sse
