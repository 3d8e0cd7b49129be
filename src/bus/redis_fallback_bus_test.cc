#include "bus/redis_fallback_bus.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bus/feed_message.h"
#include "common/metrics.h"
#include "jobs/job.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"

namespace herald::bus {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kFeed(kFeedChannel);

using test::TempDir;

// A loopback port that refuses connections: bound (so nobody else gets it
// while the test runs) but never listening, so a connect is reset at once.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot bind a loopback port");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

struct Message {
  std::string channel;
  std::string payload;
};

// Collects what the bus hands its handler (from the polling thread).
class Inbox {
 public:
  Bus::Handler Handler() {
    return [this](std::string_view channel, std::string_view payload) {
      std::lock_guard lock(mu_);
      messages_.push_back({std::string(channel), std::string(payload)});
      cv_.notify_all();
    };
  }
  // Waits, at most `limit`, until `done` holds for what came so far.
  bool WaitFor(const std::function<bool(const std::vector<Message>&)>& done,
               std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return done(messages_); });
  }
  std::vector<Message> All() {
    std::lock_guard lock(mu_);
    return messages_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> messages_;
};

bool Has(const std::vector<Message>& messages, const std::string& channel,
         const std::function<bool(const std::string&)>& payload_ok) {
  for (const auto& m : messages)
    if (m.channel == channel && payload_ok(m.payload)) return true;
  return false;
}

class RedisFallbackBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions options;
    options.path = (dir_.path() / "herald.db").string();
    auto opened = store::SqliteStore::Open(options);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(*opened);
    io_ = std::thread([this] { ioc_.run(); });
  }

  void TearDown() override {
    if (bus_) bus_->Stop();
    bus_.reset();
    work_.reset();
    ioc_.stop();
    if (io_.joinable()) io_.join();
    store_.reset();
  }

  // Redis on a port that refuses; the store polled every 50 ms.
  void MakeBus() {
    auto created = RedisFallbackBus::Create(
        ioc_, "redis://127.0.0.1:" + std::to_string(refusing_.port()), *store_, 50ms, metrics_,
        /*redis_timeout=*/200ms);
    ASSERT_TRUE(created.has_value()) << created.error().message;
    bus_ = std::move(*created);
    bus_->SetHandler(inbox_.Handler());
  }

  store::Applied CreateJob() {
    store::NewJob job;
    job.type = jobs::kAuditType;
    job.owner = "alice";
    job.url = "https://example.com/";
    auto applied = store_->CreateJob(job);
    EXPECT_TRUE(applied.has_value()) << applied.error().message;
    return *applied;
  }

  store::Applied Update(int64_t id, int progress) {
    jobs::ProgressUpdate u;
    u.progress = progress;
    auto applied = store_->UpdateJob(id, u);
    EXPECT_TRUE(applied.has_value()) << applied.error().message;
    return *applied;
  }

  TempDir dir_;
  RefusingPort refusing_;
  std::unique_ptr<store::SqliteStore> store_;
  Metrics metrics_;
  boost::asio::io_context ioc_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      ioc_.get_executor()};
  std::thread io_;
  Inbox inbox_;
  std::unique_ptr<RedisFallbackBus> bus_;
};

TEST_F(RedisFallbackBusTest, WithRedisUnreachableJobEventsAndTheFeedComeFromTheStore) {
  MakeBus();
  auto job = CreateJob();
  const std::string channel = jobs::ChannelFor(job.job);
  bus_->Subscribe(channel);
  bus_->Subscribe(kFeed);
  bus_->Start();

  // Nothing to wait for: with no Redis subscriber, a stream that opens now
  // reads the store and relies on the polling.
  std::promise<void> subscribed;
  bus_->WhenSubscribed(channel, [&] { subscribed.set_value(); });
  ASSERT_EQ(subscribed.get_future().wait_for(2s), std::future_status::ready);

  auto e1 = Update(job.job.id, 10);
  auto e2 = Update(job.job.id, 20);
  auto notice = store_->AddNotice({"alice", "maintenance", R"({"text":"hi"})"});
  ASSERT_TRUE(notice.has_value()) << notice.error().message;

  const auto is = [](const std::string& want) {
    return [want](const std::string& payload) { return payload == want; };
  };
  const auto feed_id = [](int64_t id) {
    return [id](const std::string& payload) {
      auto decoded = DecodeFeedMessage(payload);
      return decoded.has_value() && decoded->id == id;
    };
  };
  EXPECT_TRUE(inbox_.WaitFor(
      [&](const std::vector<Message>& got) {
        return Has(got, channel, is(e1.event.payload)) && Has(got, channel, is(e2.event.payload)) &&
               Has(got, kFeed, feed_id(notice->id));
      },
      5s))
      << "got " << inbox_.All().size() << " messages";

  // The job's events in order, each once.
  std::vector<std::string> on_job;
  for (const auto& m : inbox_.All())
    if (m.channel == channel) on_job.push_back(m.payload);
  EXPECT_EQ(on_job, (std::vector<std::string>{e1.event.payload, e2.event.payload}));

  // Health and metrics say the store is the source.
  EXPECT_EQ(bus_->RedisHealth(), "down");
  EXPECT_EQ(metrics_.bus_fallback.load(), 1);
  const std::string rendered = metrics_.Render("redis", bus_->RedisHealth());
  EXPECT_NE(rendered.find("herald_bus_fallback 1"), std::string::npos) << rendered;
}

TEST_F(RedisFallbackBusTest, PublishWhileRedisIsDownNeitherBlocksNorDelivers) {
  MakeBus();
  auto job = CreateJob();
  const std::string channel = jobs::ChannelFor(job.job);
  bus_->Subscribe(channel);
  bus_->Start();
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) bus_->Publish(channel, "not in the store");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  // The poller delivers what the store has, and only that.
  auto e = Update(job.job.id, 30);
  EXPECT_TRUE(inbox_.WaitFor(
      [&](const std::vector<Message>& got) {
        return Has(got, channel, [&](const std::string& p) { return p == e.event.payload; });
      },
      5s));
  for (const auto& m : inbox_.All()) EXPECT_NE(m.payload, "not in the store");
  EXPECT_EQ(metrics_.bus_fallback.load(), 1);
}

TEST(RedisFallbackBusCreate, ABadUrlIsAnErrorNotAnException) {
  boost::asio::io_context ioc;
  Metrics metrics;
  TempDir dir;
  store::SqliteOptions options;
  options.path = (dir.path() / "herald.db").string();
  auto store = store::SqliteStore::Open(options);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto bus = RedisFallbackBus::Create(ioc, "redis://host:notaport", **store, 1s, metrics);
  ASSERT_FALSE(bus.has_value());
  EXPECT_EQ(bus.error().code, Errc::kBadRequest);
  EXPECT_EQ(bus.error().message.rfind("REDIS_URL: ", 0), 0u) << bus.error().message;
}

}  // namespace
}  // namespace herald::bus
