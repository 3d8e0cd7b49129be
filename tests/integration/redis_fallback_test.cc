// SSE_SOURCE=redis against a real redis-server, and the fallback when it
// dies: the contract's "Redis, fallback, many instances" section.
//
// Each test runs its own redis-server (killed and restarted on the same port
// by the chaos test) and an in-process Herald with a 1 s fallback interval.
// Every wait is bounded.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/test_server.h"
#include "support/child_process.h"
#include "support/log_capture.h"
#include "support/redis_server.h"

namespace herald::test {
namespace {

namespace json = boost::json;
using Millis = std::chrono::milliseconds;

class RedisFallbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start()) << "redis-server did not start";
    server_ = std::make_unique<TestServer>([this](config::Config& c) {
      c.redis_url = redis_.Url();
      c.sse_source = config::SseSource::kRedis;
      c.sse.fallback_db_interval = std::chrono::seconds(1);
      c.sse.redis_timeout = std::chrono::milliseconds(500);
      c.sse.heartbeat = std::chrono::seconds(30);
      c.log_level = "info";  // the contract's lifecycle lines are info
    });
  }
  void TearDown() override { server_.reset(); }

  uint16_t port() const { return server_->port(); }
  static Headers As(const std::string& user, auth::Role role = auth::Role::kUser) {
    return TestServer::Bearer(TestServer::Token(user, role));
  }

  json::object Health() {
    auto res = Request(port(), "GET", "/healthz", {}, "", 2s);
    if (res.status == 0) return {};
    return json::parse(res.body).as_object();
  }
  bool WaitRedis(const std::string& state, Millis limit) {
    auto deadline = SteadyClock::now() + limit;
    while (SteadyClock::now() < deadline) {
      auto h = Health();
      if (auto* r = h.if_contains("redis"); r && r->is_string() && r->as_string() == state)
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  int64_t CreateAudit() {
    auto res =
        Request(port(), "POST", "/api/v1/audits", As("alice"), R"({"url":"https://example.com/"})");
    EXPECT_EQ(res.status, 201) << res.body;
    return res.status == 201 ? json::parse(res.body).at("id").as_int64() : 0;
  }

  // A progress stream past its initial state event.
  std::unique_ptr<SseClient> OpenStream(int64_t id) {
    auto sse = SseClient::Open(port(), "/api/v1/sse/audits/" + std::to_string(id) + "/progress",
                               As("alice"));
    EXPECT_EQ(sse->status(), 200);
    auto first = sse->NextEvent(5s);
    EXPECT_TRUE(first.has_value()) << "no initial state for audit " << id;
    return sse;
  }

  int Progress(int64_t id, int percent) {
    std::string body = R"({"status":"running","progress":)" + std::to_string(percent) +
                       R"(,"message":"step )" + std::to_string(percent) + R"("})";
    return Request(port(), "POST", "/api/v1/audits/" + std::to_string(id) + "/progress",
                   As("worker-1", auth::Role::kWorker), body)
        .status;
  }

  // The next data event's progress value and how long it took to come.
  static std::pair<int, Millis> NextProgress(SseClient& sse, Millis limit) {
    auto start = SteadyClock::now();
    auto e = sse.NextEvent(limit);
    auto took = std::chrono::duration_cast<Millis>(SteadyClock::now() - start);
    if (!e) return {-1, took};
    auto v = json::parse(e->data);
    auto* p = v.as_object().if_contains("progress");
    return {p && p->is_number() ? static_cast<int>(p->to_number<double>()) : -2, took};
  }

  LogCapture logs_;  // before the server starts, gone after it stops
  RedisServer redis_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(RedisFallbackTest, HealthSaysRedisUpAndMetricsSayNoFallback) {
  ASSERT_TRUE(WaitRedis("up", 5s));
  EXPECT_EQ(Health().at("sse_source").as_string(), "redis");
  auto metrics = Request(port(), "GET", "/metrics", As("root", auth::Role::kAdmin));
  EXPECT_NE(metrics.body.find("herald_bus_fallback 0"), std::string::npos) << metrics.body;
}

// The seed's worker snippet: any program PUBLISHes on audit:progress:{id}.
TEST_F(RedisFallbackTest, OutsidePublishReachesOpenStreamsWithin100ms) {
  ASSERT_TRUE(WaitRedis("up", 5s));
  int64_t id = CreateAudit();
  auto a = OpenStream(id);
  auto b = OpenStream(id);
  std::string channel = "audit:progress:" + std::to_string(id);
  ASSERT_EQ(redis_.Subscribers(channel), 1) << "one subscription per job, shared by its streams";
  EXPECT_EQ(logs_.Count("SSE Redis subscribed: " + channel), 1) << logs_.All();
  for (int i = 1; i <= 5; ++i) {
    std::string payload = R"({"audit_id":)" + std::to_string(id) +
                          R"(,"status":"running","progress":)" + std::to_string(i * 10) + "}";
    ASSERT_EQ(redis_.Publish(channel, payload), 1);
    for (auto* s : {a.get(), b.get()}) {
      auto [progress, took] = NextProgress(*s, 2s);
      EXPECT_EQ(progress, i * 10);
      EXPECT_LT(took.count(), 100) << "push took " << took.count() << " ms";
    }
  }
  // The seed's own tool: redis-cli, a separate program (time includes its start).
  {
    std::string payload =
        R"({"audit_id":)" + std::to_string(id) + R"(,"status":"running","progress":77})";
    std::string cmd = "redis-cli -h 127.0.0.1 -p " + std::to_string(redis_.port()) + " PUBLISH " +
                      channel + " '" + payload + "' > /dev/null";
    auto start = SteadyClock::now();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    for (auto* s : {a.get(), b.get()}) {
      auto [progress, took] = NextProgress(*s, 2s);
      EXPECT_EQ(progress, 77);
      auto since = std::chrono::duration_cast<Millis>(SteadyClock::now() - start);
      EXPECT_LT(since.count(), 100)
          << "redis-cli PUBLISH reached the stream after " << since.count() << " ms";
    }
  }
  // The last stream of a job gone: the subscription goes too.
  a.reset();
  b.reset();
  auto deadline = SteadyClock::now() + 5s;
  while (redis_.Subscribers(channel) != 0 && SteadyClock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(redis_.Subscribers(channel), 0);
}

// Events committed between a stream's store read and its SUBSCRIBE are not
// lost: many streams open while updates race them.
TEST_F(RedisFallbackTest, StreamsOpenedDuringUpdatesMissNothing) {
  ASSERT_TRUE(WaitRedis("up", 5s));
  constexpr int kJobs = 10;
  std::vector<int64_t> ids;
  for (int i = 0; i < kJobs; ++i) ids.push_back(CreateAudit());
  std::thread writer([&] {
    for (int p = 1; p <= 20; ++p)
      for (int64_t id : ids) Progress(id, p);
  });
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int64_t id : ids) {
    streams.push_back(SseClient::Open(
        port(), "/api/v1/sse/audits/" + std::to_string(id) + "/progress", As("alice")));
  }
  writer.join();
  // Every stream sees progress 20 in the end (each event carries the full
  // state; the last one must arrive).
  for (size_t i = 0; i < streams.size(); ++i) {
    int last = -1;
    auto deadline = SteadyClock::now() + 5s;
    while (last != 20 && SteadyClock::now() < deadline) {
      auto e = streams[i]->NextEvent(2s);
      if (!e) break;
      auto o = json::parse(e->data).as_object();
      if (auto* p = o.if_contains("progress")) last = static_cast<int>(p->to_number<double>());
    }
    EXPECT_EQ(last, 20) << "stream of audit " << ids[i];
  }
}

// The acceptance's chaos test.
TEST_F(RedisFallbackTest, KillRedisStreamsPollThenPushAgainAndNoStreamCloses) {
  ASSERT_TRUE(WaitRedis("up", 5s));
  std::vector<int64_t> ids = {CreateAudit(), CreateAudit(), CreateAudit()};
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int64_t id : ids) streams.push_back(OpenStream(id));
  auto notify = SseClient::Open(port(), "/notify/events?events=named", As("alice"));
  ASSERT_EQ(notify->status(), 200);

  // Push works.
  ASSERT_EQ(Progress(ids[0], 10), 202);
  auto [p0, t0] = NextProgress(*streams[0], 2s);
  EXPECT_EQ(p0, 10);
  EXPECT_LT(t0.count(), 100);

  redis_.Kill();
  ASSERT_TRUE(WaitRedis("down", 3s)) << "healthz never said redis down";
  for (int64_t id : ids)  // the seed's warning, per audit being watched
    EXPECT_EQ(logs_.Count("SSE Redis read failed for audit " + std::to_string(id) + ": "), 1)
        << logs_.All();
  auto metrics = Request(port(), "GET", "/metrics", As("root", auth::Role::kAdmin));
  EXPECT_NE(metrics.body.find("herald_bus_fallback 1"), std::string::npos);

  // Updates through the API keep arriving, within the interval plus a second.
  for (int round = 1; round <= 3; ++round) {
    for (size_t i = 0; i < ids.size(); ++i) {
      int percent = 20 + round * 10 + static_cast<int>(i);
      ASSERT_EQ(Progress(ids[i], percent), 202);
      auto [p, took] = NextProgress(*streams[i], 2s + 500ms);
      EXPECT_EQ(p, percent) << "round " << round << " audit " << ids[i];
      EXPECT_LE(took.count(), 2000) << "fallback delivery took " << took.count() << " ms";
    }
  }

  // Redis returns on the same port: push is back under 100 ms within 10 s.
  ASSERT_TRUE(redis_.Start()) << "redis-server did not restart";
  auto back_by = SteadyClock::now() + 10s;
  bool fast = false;
  int percent = 60;
  while (!fast && SteadyClock::now() < back_by) {
    ++percent;
    ASSERT_EQ(Progress(ids[0], percent), 202);
    auto [p, took] = NextProgress(*streams[0], 2s + 500ms);
    ASSERT_EQ(p, percent);
    fast = took.count() < 100;
    if (!fast) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(fast) << "push latency did not come back under 100 ms within 10 s";
  EXPECT_TRUE(WaitRedis("up", 1s));
  // An outside publisher reaches the stream again, too.
  std::string channel = "audit:progress:" + std::to_string(ids[1]);
  auto deadline = SteadyClock::now() + 5s;
  while (redis_.Subscribers(channel) != 1 && SteadyClock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(redis_.Publish(channel, R"({"status":"running","progress":99})"), 1);
  // streams[1] may first see the polled duplicates of its own last update.
  int seen = -1;
  for (int i = 0; i < 3 && seen != 99; ++i) seen = NextProgress(*streams[1], 1s).first;
  EXPECT_EQ(seen, 99);

  // No stream was closed at any point; the notification stream saw every
  // update of every audit (3 rounds x 3 + the push ones), in id order.
  for (auto& s : streams) EXPECT_FALSE(s->closed());
  int64_t last_id = 0;
  int events = 0;
  while (auto e = notify->NextEvent(1500ms)) {
    if (e->event != "audit") continue;
    int64_t id = std::stoll(e->id);
    EXPECT_GT(id, last_id) << "notification ids go up";
    last_id = id;
    ++events;
  }
  EXPECT_FALSE(notify->closed());
  EXPECT_GE(events, 1 + 9 + (percent - 60));
}

// A Redis that hangs (SIGSTOP: its connections stay open, nothing is
// answered) is down as surely as a dead one: /healthz says so within the
// timeout, streams poll the database, and push returns when it answers.
TEST_F(RedisFallbackTest, HungRedisCountsAsDownStreamsPollThenPushAgain) {
  ASSERT_TRUE(WaitRedis("up", 5s));
  const int64_t id = CreateAudit();
  auto stream = OpenStream(id);
  ASSERT_EQ(Progress(id, 10), 202);
  ASSERT_EQ(NextProgress(*stream, 2s).first, 10);

  redis_.Pause();
  const auto paused = SteadyClock::now();
  ASSERT_TRUE(WaitRedis("down", 3s)) << "a hung Redis still counted as up";
  const auto noticed = std::chrono::duration_cast<Millis>(SteadyClock::now() - paused);
  EXPECT_LE(noticed.count(), 2000) << "took " << noticed.count() << " ms to notice";
  // The log lines follow the health change on the bus's strand: wait for them.
  const std::string warned = "SSE Redis read failed for audit " + std::to_string(id) + ": ";
  for (int i = 0; i < 100 && logs_.Count(warned) == 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(logs_.Count(warned), 1) << logs_.All();
  EXPECT_NE(logs_.All().find("no answer to PING within 500 ms"), std::string::npos) << logs_.All();
  auto metrics = Request(port(), "GET", "/metrics", As("root", auth::Role::kAdmin));
  EXPECT_NE(metrics.body.find("herald_bus_fallback 1"), std::string::npos);

  // Updates are answered at once and reach the stream by polling.
  for (int percent : {20, 30}) {
    const auto start = SteadyClock::now();
    ASSERT_EQ(Progress(id, percent), 202);
    EXPECT_LT(SteadyClock::now() - start, 1s) << "a publish waited for the hung Redis";
    auto [p, took] = NextProgress(*stream, 2s + 500ms);
    EXPECT_EQ(p, percent);
  }

  redis_.Resume();
  ASSERT_TRUE(WaitRedis("up", 10s)) << "Redis answered again but stayed down";
  auto back_by = SteadyClock::now() + 10s;
  bool fast = false;
  int percent = 40;
  while (!fast && SteadyClock::now() < back_by) {
    ++percent;
    ASSERT_EQ(Progress(id, percent), 202);
    auto [p, took] = NextProgress(*stream, 2s + 500ms);
    // After the return, a poll may still repeat the last state once.
    while (p != -1 && p < percent) std::tie(p, took) = NextProgress(*stream, 2s + 500ms);
    ASSERT_EQ(p, percent);
    fast = took.count() < 100;
    if (!fast) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(fast) << "push latency did not come back under 100 ms";
  EXPECT_FALSE(stream->closed());
}

}  // namespace
}  // namespace herald::test
