// Several Herald instances sharing one PostgreSQL, live through Redis
// pub/sub or PostgreSQL LISTEN/NOTIFY: an update made through one instance
// reaches streams on the other at once, the notification feed is the same on
// both, and a client may resume on either. In-process servers on loopback;
// the cluster test (cluster_test.cc) does the same with processes and nginx.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/test_server.h"
#include "support/child_process.h"
#include "support/postgres_server.h"
#include "support/redis_server.h"

namespace herald::test {
namespace {

namespace json = boost::json;
using Millis = std::chrono::milliseconds;

Headers As(const std::string& user, auth::Role role = auth::Role::kUser) {
  return TestServer::Bearer(TestServer::Token(user, role));
}

struct Source {
  std::string name;
  config::SseSource source;
};

class ManyInstancesTest : public ::testing::TestWithParam<Source> {
 protected:
  void SetUp() override {
    database_ = PostgresServer::Shared().CreateDatabase("many");
    for (int i = 0; i < 2; ++i) {
      servers_.push_back(std::make_unique<TestServer>([this](config::Config& c) {
        c.database_url = database_;
        c.sse_source = GetParam().source;
        if (c.sse_source == config::SseSource::kRedis)
          c.redis_url = RedisServer::Shared().Url();
        else
          c.redis_url.reset();
        c.sse.fallback_db_interval = std::chrono::seconds(10);  // push must do the work
      }));
    }
    // Both push (Redis connected, LISTEN confirmed) before a test measures.
    for (auto& s : servers_) {
      auto deadline = SteadyClock::now() + 5s;
      bool pushing = false;
      while (!pushing && SteadyClock::now() < deadline) {
        auto res = Request(s->port(), "GET", "/metrics", As("root", auth::Role::kAdmin));
        pushing = res.body.find("herald_bus_fallback 0") != std::string::npos;
        if (!pushing) std::this_thread::sleep_for(20ms);
      }
      ASSERT_TRUE(pushing) << "instance on port " << s->port() << " never left the fallback";
    }
  }

  uint16_t port(int i) const { return servers_[i]->port(); }

  int64_t CreateJob(int on) {
    auto res = Request(port(on), "POST", "/api/v1/jobs", As("alice"),
                       R"({"type":"import","title":"shared"})");
    EXPECT_EQ(res.status, 201) << res.body;
    return res.status == 201 ? json::parse(res.body).at("id").as_int64() : 0;
  }
  int Progress(int on, int64_t id, int percent, const std::string& status = "running") {
    return Request(port(on), "POST", "/api/v1/jobs/" + std::to_string(id) + "/progress",
                   As("worker-1", auth::Role::kWorker),
                   R"({"status":")" + status + R"(","progress":)" + std::to_string(percent) + "}")
        .status;
  }
  std::unique_ptr<SseClient> Stream(int on, int64_t id, const Headers& extra = {}) {
    Headers h = As("alice");
    h.insert(h.end(), extra.begin(), extra.end());
    return SseClient::Open(port(on), "/api/v1/sse/jobs/" + std::to_string(id) + "/progress", h);
  }

  std::string database_;
  std::vector<std::unique_ptr<TestServer>> servers_;
};

TEST_P(ManyInstancesTest, AnUpdateThroughOneInstanceReachesStreamsOnTheOtherAtOnce) {
  int64_t id = CreateJob(0);
  auto on_b = Stream(1, id);
  ASSERT_EQ(on_b->status(), 200);
  auto first = on_b->NextEvent(5s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id, "1");
  for (int p = 1; p <= 20; ++p) {
    auto start = SteadyClock::now();
    ASSERT_EQ(Progress(p % 2, id, p * 5), 202);  // alternate instances
    auto e = on_b->NextEvent(2s);
    ASSERT_TRUE(e) << "update " << p;
    auto took = std::chrono::duration_cast<Millis>(SteadyClock::now() - start);
    EXPECT_EQ(e->id, std::to_string(p + 1)) << "one sequence per job across instances";
    EXPECT_LT(took.count(), 100) << "update " << p << " took " << took.count() << " ms";
  }
}

TEST_P(ManyInstancesTest, ConcurrentWritersOnBothInstancesKeepOneGaplessSequence) {
  int64_t id = CreateJob(0);
  auto a = Stream(0, id);
  auto b = Stream(1, id);
  ASSERT_TRUE(a->NextEvent(5s));
  ASSERT_TRUE(b->NextEvent(5s));
  // Progress may not go down, so some racing updates are refused (409):
  // count what was accepted.
  std::atomic<int> accepted{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w)
    writers.emplace_back([&, w] {
      for (int i = 0; i < 25; ++i)
        if (Progress(w, id, 1 + i * 3) == 202) ++accepted;
    });
  for (auto& t : writers) t.join();
  ASSERT_EQ(Progress(0, id, 100, "completed"), 202);
  const int64_t terminal = 1 + accepted.load() + 1;
  ASSERT_GT(accepted.load(), 20);
  // Both streams end with the terminal event; ids only go up.
  for (auto* s : {a.get(), b.get()}) {
    int64_t last = 1;
    std::string status;
    while (auto e = s->NextEvent(3s)) {
      int64_t seq = std::stoll(e->id);
      EXPECT_GT(seq, last);
      last = seq;
      status = std::string(json::parse(e->data).at("status").as_string());
    }
    EXPECT_EQ(last, terminal);
    EXPECT_EQ(status, "completed");
    EXPECT_TRUE(s->closed());
  }
}

TEST_P(ManyInstancesTest, ResumeOnTheOtherInstanceGetsExactlyWhatWasMissed) {
  int64_t id = CreateJob(0);
  auto a = Stream(0, id);
  ASSERT_TRUE(a->NextEvent(5s));
  for (int p = 1; p <= 3; ++p) Progress(0, id, p);
  std::string last_seen;
  for (int i = 0; i < 3; ++i) {
    auto e = a->NextEvent(2s);
    ASSERT_TRUE(e);
    last_seen = e->id;
  }
  ASSERT_EQ(last_seen, "4");
  a.reset();  // cut
  for (int p = 4; p <= 6; ++p) Progress(1, id, p);
  auto b = Stream(1, id, {{"Last-Event-ID", last_seen}});
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto e = b->NextEvent(2s);
    ASSERT_TRUE(e);
    ids.push_back(e->id);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"5", "6", "7"}));
  EXPECT_FALSE(b->NextEvent(300ms).has_value()) << "no duplicate, nothing else";
}

TEST_P(ManyInstancesTest, NotificationFeedIsTheSameOnBothInstancesInIdOrder) {
  auto na = SseClient::Open(port(0), "/notify/events?events=named", As("alice"));
  auto nb = SseClient::Open(port(1), "/notify/events?events=named", As("alice"));
  ASSERT_EQ(na->status(), 200);
  ASSERT_EQ(nb->status(), 200);
  std::this_thread::sleep_for(200ms);  // both joined
  std::vector<int64_t> jobs = {CreateJob(0), CreateJob(1)};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w)
    writers.emplace_back([&, w] {
      for (int i = 1; i <= 20; ++i) Progress(w, jobs[w], i);
    });
  for (auto& t : writers) t.join();
  auto collect = [](SseClient& s) {
    std::vector<std::string> ids;
    while (ids.size() < 42) {
      auto e = s.NextEvent(3s);
      if (!e) break;
      if (e->event == "job") ids.push_back(e->id);
    }
    return ids;
  };
  auto ia = collect(*na);
  auto ib = collect(*nb);
  ASSERT_EQ(ia.size(), 42u) << "2 creates + 40 updates";
  EXPECT_EQ(ia, ib);
  for (size_t i = 1; i < ia.size(); ++i)
    EXPECT_EQ(std::stoll(ia[i]), std::stoll(ia[i - 1]) + 1) << "gapless, in order";
}

INSTANTIATE_TEST_SUITE_P(Buses, ManyInstancesTest,
                         ::testing::Values(Source{"Redis", config::SseSource::kRedis},
                                           Source{"Postgres", config::SseSource::kPostgres}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace herald::test

namespace herald::test {
namespace {

// The contract: /healthz answers 503 with "db":"down" when the database
// cannot be reached, and 200 again once it is back. Its own PostgreSQL, so
// stopping it disturbs no other test.
TEST(HealthTest, DatabaseDownIs503AndBackIs200) {
  PostgresServer pg;
  std::string url = pg.CreateDatabase("health");
  TestServer server([&](config::Config& c) {
    c.database_url = url;
    c.sse_source = config::SseSource::kMemory;
    c.redis_url.reset();
  });
  auto up = Request(server.port(), "GET", "/healthz");
  ASSERT_EQ(up.status, 200) << up.body;
  // The test cluster commits asynchronously (synchronous_commit=off) and
  // Stop() is a crash: flush first, or the schema Herald just migrated
  // (its health table) may be gone when it comes back.
  pg.Exec("postgres", "CHECKPOINT");
  pg.Stop();
  auto down = Request(server.port(), "GET", "/healthz", {}, "", 15s);
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_NE(down.body.find(R"("db":"down")"), std::string::npos) << down.body;
  pg.Start();
  auto deadline = SteadyClock::now() + 10s;
  int status = 0;
  while (status != 200 && SteadyClock::now() < deadline) {
    status = Request(server.port(), "GET", "/healthz").status;
    if (status != 200) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status, 200) << "healthz did not recover after the database came back";
}

}  // namespace
}  // namespace herald::test
