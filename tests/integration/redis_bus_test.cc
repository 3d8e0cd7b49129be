#include "bus/redis_bus.h"

#include "support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace herald::bus {
namespace {

using test::RedisServer;

using namespace std::chrono_literals;
using Message = std::pair<std::string, std::string>;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// URLs are parsed by config::ParseRedisUrl (src/config/service_url_test.cc).

TEST(RedisBusTest, CreateRefusesABadUrl) {
  boost::asio::io_context ioc;
  auto bus = RedisBus::Create(ioc, "http://nope");
  ASSERT_FALSE(bus);
  EXPECT_EQ(bus.error().code, Errc::kBadRequest);
  EXPECT_EQ(bus.error().message.rfind("REDIS_URL: ", 0), 0u) << bus.error().message;
}

// ---------------------------------------------------------------------------
// Against a real redis-server

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

// Collects what a bus hands its handler.
class Inbox {
 public:
  Bus::Handler Handler() {
    return [this](std::string_view channel, std::string_view payload) {
      std::lock_guard lock(mu_);
      messages_.emplace_back(std::string(channel), std::string(payload));
      cv_.notify_all();
    };
  }
  bool WaitForCount(size_t n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return messages_.size() >= n; });
  }
  std::vector<Message> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> messages_;
};

class RedisBusLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GT(server_.port(), 0);
    ASSERT_TRUE(server_.Start()) << "redis-server did not start";
    io_thread_ = std::thread([this] { ioc_.run(); });
  }

  void TearDown() override {
    for (auto& bus : buses_) bus->Stop();
    buses_.clear();
    work_.reset();
    ioc_.stop();
    if (io_thread_.joinable()) io_thread_.join();
    server_.Kill();
  }

  std::string Url() const { return "redis://127.0.0.1:" + std::to_string(server_.port()); }

  RedisBus& NewBus(Inbox* inbox, std::string url = {}) {
    buses_.push_back(RedisBus::Create(ioc_, url.empty() ? Url() : url).value());
    if (inbox) buses_.back()->SetHandler(inbox->Handler());
    return *buses_.back();
  }

  static bool WaitUp(const RedisBus& bus, std::chrono::milliseconds limit = 5000ms) {
    return WaitUntil([&] { return bus.RedisHealth() == "up"; }, limit);
  }

  bool WaitSubscribers(const std::string& channel, long long n,
                       std::chrono::milliseconds limit = 5000ms) {
    return WaitUntil([&] { return server_.Subscribers(channel) == n; }, limit);
  }

  RedisServer server_;
  boost::asio::io_context ioc_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      ioc_.get_executor()};
  std::thread io_thread_;
  std::vector<std::unique_ptr<RedisBus>> buses_;
};

TEST_F(RedisBusLiveTest, StartsDownAndComesUp) {
  Inbox inbox;
  RedisBus& bus = NewBus(&inbox);
  EXPECT_EQ(bus.RedisHealth(), "down");
  bus.Start();
  EXPECT_TRUE(WaitUp(bus));
}

TEST_F(RedisBusLiveTest, ExternalPublishReachesTheHandlerWithin100ms) {
  Inbox inbox;
  RedisBus& bus = NewBus(&inbox);
  bus.Start();
  bus.Subscribe("audit:progress:1");
  ASSERT_TRUE(WaitSubscribers("audit:progress:1", 1));

  const std::string payload = R"({"status":"running","progress":40})";
  auto sent = Clock::now();
  ASSERT_EQ(server_.Publish("audit:progress:1", payload), 1);
  ASSERT_TRUE(inbox.WaitForCount(1, 1000ms));
  auto elapsed = Clock::now() - sent;
  EXPECT_LT(elapsed, 100ms);
  EXPECT_EQ(inbox.messages(), (std::vector<Message>{{"audit:progress:1", payload}}));
}

TEST_F(RedisBusLiveTest, PublishFromOneBusReachesAnotherInOrder) {
  Inbox inbox;
  RedisBus& listener = NewBus(&inbox);
  RedisBus& publisher = NewBus(nullptr);
  listener.Start();
  publisher.Start();
  listener.Subscribe("job:progress:7");
  ASSERT_TRUE(WaitSubscribers("job:progress:7", 1));
  ASSERT_TRUE(WaitUp(publisher));

  std::vector<Message> want;
  for (int i = 0; i < 200; ++i) {
    std::string payload = "{\"n\":" + std::to_string(i) + "}";
    publisher.Publish("job:progress:7", payload);
    want.emplace_back("job:progress:7", payload);
  }
  ASSERT_TRUE(inbox.WaitForCount(want.size(), 3000ms));
  EXPECT_EQ(inbox.messages(), want);
}

TEST_F(RedisBusLiveTest, PublishBeforeTheConnectionIsUpIsNotLost) {
  Inbox inbox;
  RedisBus& listener = NewBus(&inbox);
  listener.Start();
  listener.Subscribe("audit:progress:3");
  ASSERT_TRUE(WaitSubscribers("audit:progress:3", 1));

  RedisBus& publisher = NewBus(nullptr);
  publisher.Publish("audit:progress:3", "early-1");  // queued: not started yet
  publisher.Start();
  publisher.Publish("audit:progress:3", "early-2");
  ASSERT_TRUE(inbox.WaitForCount(2, 3000ms));
  EXPECT_EQ(inbox.messages(), (std::vector<Message>{{"audit:progress:3", "early-1"},
                                                    {"audit:progress:3", "early-2"}}));
}

TEST_F(RedisBusLiveTest, UnsubscribeStopsDelivery) {
  Inbox inbox;
  RedisBus& bus = NewBus(&inbox);
  bus.Start();
  bus.Subscribe("audit:progress:1");
  bus.Subscribe("audit:progress:2");
  ASSERT_TRUE(WaitSubscribers("audit:progress:1", 1));
  ASSERT_TRUE(WaitSubscribers("audit:progress:2", 1));

  bus.Unsubscribe("audit:progress:1");
  ASSERT_TRUE(WaitSubscribers("audit:progress:1", 0));
  EXPECT_EQ(server_.Publish("audit:progress:1", "gone"), 0);
  ASSERT_EQ(server_.Publish("audit:progress:2", "still here"), 1);
  ASSERT_TRUE(inbox.WaitForCount(1, 1000ms));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(inbox.messages(), (std::vector<Message>{{"audit:progress:2", "still here"}}));
}

TEST_F(RedisBusLiveTest, UnsubscribeThenSubscribeAgainKeepsDelivering) {
  Inbox inbox;
  RedisBus& bus = NewBus(&inbox);
  bus.Start();
  bus.Subscribe("audit:progress:9");
  ASSERT_TRUE(WaitSubscribers("audit:progress:9", 1));
  // Back to back: the SUBSCRIBE must survive the UNSUBSCRIBE's confirmation.
  for (int i = 0; i < 5; ++i) {
    bus.Unsubscribe("audit:progress:9");
    bus.Subscribe("audit:progress:9");
  }
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(WaitSubscribers("audit:progress:9", 1));
  ASSERT_EQ(server_.Publish("audit:progress:9", "after"), 1);
  ASSERT_TRUE(inbox.WaitForCount(1, 1000ms));
  EXPECT_EQ(inbox.messages(), (std::vector<Message>{{"audit:progress:9", "after"}}));
}

TEST_F(RedisBusLiveTest, SurvivesARedisRestartAndResubscribes) {
  Inbox inbox;
  RedisBus& bus = NewBus(&inbox);
  bus.Start();
  bus.Subscribe("audit:progress:5");
  ASSERT_TRUE(WaitSubscribers("audit:progress:5", 1));
  ASSERT_TRUE(WaitUp(bus));

  server_.Kill();
  EXPECT_TRUE(WaitUntil([&] { return bus.RedisHealth() == "down"; }, 2000ms));
  // Published while Redis is away: queued and sent after the reconnect.
  bus.Publish("audit:progress:5", "while-down");
  std::this_thread::sleep_for(300ms);  // a few failed reconnects (backoff)

  ASSERT_TRUE(server_.Start()) << "redis-server did not restart on the same port";
  EXPECT_TRUE(WaitUp(bus, 10000ms));
  ASSERT_TRUE(WaitSubscribers("audit:progress:5", 1, 10000ms));
  ASSERT_EQ(server_.Publish("audit:progress:5", "after-restart"), 1);
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const auto& m : inbox.messages()) {
          if (m.second == "after-restart") return true;
        }
        return false;
      },
      1000ms));
}

TEST_F(RedisBusLiveTest, StaysDownWhileNothingListens) {
  Inbox inbox;
  server_.Kill();
  RedisBus& bus = NewBus(&inbox);
  bus.Start();
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(bus.RedisHealth(), "down");
  ASSERT_TRUE(server_.Start());
  EXPECT_TRUE(WaitUp(bus, 10000ms));
}

// A server that wants a password, and a non-zero database in the URL.

TEST(RedisBusAuth, AuthenticatesAndSelectsFromTheUrl) {
  RedisServer server({"--requirepass", "s3cret"});
  server.set_password("s3cret");
  ASSERT_TRUE(server.Start());
  boost::asio::io_context ioc;
  auto work = boost::asio::make_work_guard(ioc);
  std::thread io([&] { ioc.run(); });
  {
    Inbox inbox;
    std::string base = "127.0.0.1:" + std::to_string(server.port());
    auto good_bus = RedisBus::Create(ioc, "redis://:s3cret@" + base + "/3").value();
    auto bad_bus = RedisBus::Create(ioc, "redis://:wrong@" + base).value();
    RedisBus& good = *good_bus;
    RedisBus& bad = *bad_bus;
    good.SetHandler(inbox.Handler());
    good.Start();
    bad.Start();
    good.Subscribe("herald:feed");
    EXPECT_TRUE(WaitUntil([&] { return good.RedisHealth() == "up"; }, 5000ms));
    ASSERT_TRUE(WaitUntil([&] { return server.Subscribers("herald:feed") == 1; }, 5000ms));
    ASSERT_EQ(server.Publish("herald:feed", "{}"), 1);
    EXPECT_TRUE(inbox.WaitForCount(1, 1000ms));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(bad.RedisHealth(), "down");
    good.Stop();
    bad.Stop();
  }
  work.reset();
  ioc.stop();
  io.join();
}

}  // namespace
}  // namespace herald::bus
