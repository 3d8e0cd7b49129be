// The production shape, end to end: two `herald serve` behind the project's
// deploy/nginx.conf (round robin), two `herald worker` processes, one
// PostgreSQL, one Redis, all real processes on loopback. 200 clients watch
// 20 audits of the fixture site through nginx. Mid-run one serve instance
// is SIGKILLed (its clients reconnect through nginx with Last-Event-ID) and
// one worker is SIGKILLed mid-audit (the other takes over after the lease).
// Every client must see every event of its audit exactly once, in order, up
// to the terminal one.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/json.hpp>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "auth/jwt.h"
#include "support/child_process.h"
#include "support/fixture_site.h"
#include "support/http_client.h"
#include "support/nginx_server.h"
#include "support/postgres_server.h"
#include "support/redis_server.h"

namespace herald::test {
namespace {

namespace json = boost::json;

constexpr int kAudits = 20;
constexpr int kClientsPerAudit = 10;

// One browser tab: a stream through nginx, resumed with Last-Event-ID
// whenever it is cut, and every event id it was given.
struct Watcher {
  int64_t audit = 0;
  std::unique_ptr<SseClient> sse;
  std::vector<int64_t> ids;
  std::string final_status;
  int reconnects = 0;
  bool done = false;
  std::string problem;
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/herald-cluster-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);
    std::random_device rd;
    secret_ = "cluster-secret-" + std::to_string(rd());
    database_ = PostgresServer::Shared().CreateDatabase("cluster");
    ASSERT_TRUE(redis_.Start()) << "redis-server did not start";
    serve_ports_ = {FreePort(), FreePort()};
    while (serve_ports_[1] == serve_ports_[0]) serve_ports_[1] = FreePort();
  }

  void TearDown() override {
    nginx_.reset();
    children_.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Env Common() const {
    return {{"JWT_SECRET", secret_},
            {"DATABASE_URL", database_},
            {"REDIS_URL", redis_.Url()},
            {"SSE_SOURCE", "redis"},
            {"SSE_FALLBACK_DB_INTERVAL_SECONDS", "1"},
            {"AUDIT_ALLOW_PRIVATE", "1"},
            {"HERALD_LOG_LEVEL", "info"}};
  }

  Child& StartServe(int i) {
    Env env = Common();
    env["HERALD_LISTEN"] = "127.0.0.1:" + std::to_string(serve_ports_[i]);
    env["HERALD_WORKERS"] = "0";
    env["HERALD_THREADS"] = "2";
    children_.push_back(std::make_unique<Child>(std::vector<std::string>{"serve"}, env, dir_,
                                                "serve" + std::to_string(i)));
    Child& c = *children_.back();
    auto deadline = SteadyClock::now() + 15s;
    while (SteadyClock::now() < deadline && !c.Wait(0ms)) {
      if (Request(serve_ports_[i], "GET", "/healthz", {}, "", 500ms).status == 200) return c;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "serve " << i << " did not become healthy: " << c.Stderr();
    return c;
  }

  Child& StartWorker(int i) {
    Env env = Common();
    env["HERALD_WORKERS"] = "2";
    env["HERALD_AUDIT_LEASE_SECONDS"] = "2";
    children_.push_back(std::make_unique<Child>(std::vector<std::string>{"worker"}, env, dir_,
                                                "worker" + std::to_string(i)));
    return *children_.back();
  }

  Headers Alice() const {
    auth::MintOptions o;
    o.subject = "alice";
    return {{"Authorization",
             "Bearer " + auth::MintHs256(secret_, o, std::chrono::system_clock::now())}};
  }

  int64_t CreateAudit(const std::string& url) {
    auto res = Request(nginx_->port(), "POST", "/api/v1/audits", Alice(),
                       R"({"url":")" + url + R"(","max_pages":20})");
    EXPECT_EQ(res.status, 201) << res.body;
    return res.status == 201 ? json::parse(res.body).at("id").as_int64() : 0;
  }

  int Running() {
    auto res = Request(nginx_->port(), "GET", "/api/v1/audits?limit=100", Alice());
    if (res.status != 200) return 0;
    int n = 0;
    auto v = json::parse(res.body);
    const json::array& items = v.is_array() ? v.as_array() : v.at("items").as_array();
    for (const auto& a : items) n += a.at("status").as_string() == "running";
    return n;
  }

  void Connect(Watcher& w) {
    Headers h = Alice();
    if (!w.ids.empty()) h.emplace_back("Last-Event-ID", std::to_string(w.ids.back()));
    w.sse = SseClient::Open(nginx_->port(),
                            "/api/v1/sse/audits/" + std::to_string(w.audit) + "/progress", h, 5s);
    if (w.sse->status() != 200) w.sse.reset();
  }

  // Reads what has arrived for `w`; reconnects it when it was cut.
  void Pump(Watcher& w) {
    if (w.done) return;
    if (!w.sse || w.sse->closed()) {
      if (w.sse) ++w.reconnects;
      Connect(w);
      return;
    }
    while (auto e = w.sse->Next(2ms)) {
      if (e->comment || e->retry) continue;
      if (e->event == "error") {
        w.problem = "error event: " + e->data;
        w.sse.reset();
        return;
      }
      int64_t id = std::stoll(e->id);
      if (!w.ids.empty() && id != w.ids.back() + 1)
        w.problem = "after id " + std::to_string(w.ids.back()) + " came " + std::to_string(id);
      w.ids.push_back(id);
      std::string status(json::parse(e->data).at("status").as_string());
      if (status == "completed" || status == "failed") {
        w.final_status = status;
        w.done = true;
        return;
      }
    }
  }

  std::string dir_;
  std::string secret_;
  std::string database_;
  RedisServer redis_;
  std::vector<uint16_t> serve_ports_;
  std::vector<std::unique_ptr<Child>> children_;
  std::unique_ptr<NginxServer> nginx_;
};

TEST_F(ClusterTest, TwoServeTwoWorkers200ClientsThroughNginxSurviveKills) {
  FixtureSite site(HERALD_SOURCE_DIR "/tests/fixtures/site");
  Child& serve_a = StartServe(0);
  StartServe(1);
  ASSERT_FALSE(HasFailure());
  nginx_ = std::make_unique<NginxServer>(dir_, serve_ports_[0], serve_ports_[1]);
  ASSERT_TRUE(nginx_->Start()) << nginx_->Logs();

  std::vector<int64_t> audits;
  for (int i = 0; i < kAudits; ++i) audits.push_back(CreateAudit(site.url("/")));
  ASSERT_FALSE(HasFailure());

  // 200 clients, connected before any work starts (round robin spreads them).
  std::vector<Watcher> watchers(kAudits * kClientsPerAudit);
  for (size_t i = 0; i < watchers.size(); ++i) {
    watchers[i].audit = audits[i % kAudits];
    Connect(watchers[i]);
    ASSERT_TRUE(watchers[i].sse) << "client " << i << " could not connect" << nginx_->Logs();
  }

  Child& worker_a = StartWorker(0);
  Child& worker_b = StartWorker(1);

  // One reader thread per 20 clients.
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  constexpr size_t kPerThread = 20;
  for (size_t first = 0; first < watchers.size(); first += kPerThread) {
    readers.emplace_back([&, first] {
      auto deadline = SteadyClock::now() + 90s;
      while (!stop && SteadyClock::now() < deadline) {
        bool all = true;
        for (size_t i = first; i < std::min(first + kPerThread, watchers.size()); ++i) {
          Pump(watchers[i]);
          all = all && watchers[i].done;
        }
        if (all) return;
      }
    });
  }

  // Kill a worker once the other cannot be holding every running audit
  // (each runs two at a time), so the dead one surely held one.
  auto until = SteadyClock::now() + 30s;
  while (Running() < 3 && SteadyClock::now() < until) std::this_thread::sleep_for(50ms);
  worker_a.Signal(SIGKILL);
  ASSERT_TRUE(worker_a.Wait(5s));
  // Then cut every client of serve instance A.
  std::this_thread::sleep_for(500ms);
  serve_a.Signal(SIGKILL);
  ASSERT_TRUE(serve_a.Wait(5s));

  for (auto& t : readers) t.join();
  stop = true;

  int reconnected = 0;
  for (size_t i = 0; i < watchers.size(); ++i) {
    const Watcher& w = watchers[i];
    reconnected += w.reconnects > 0;
    EXPECT_TRUE(w.done) << "client " << i << " of audit " << w.audit
                        << " never saw the terminal event; ids " << w.ids.size();
    EXPECT_EQ(w.final_status, "completed") << "audit " << w.audit;
    EXPECT_TRUE(w.problem.empty())
        << "client " << i << " of audit " << w.audit << ": " << w.problem;
  }
  // Every client of an audit saw the same terminal event id.
  for (int a = 0; a < kAudits; ++a) {
    for (int c = 1; c < kClientsPerAudit; ++c) {
      const auto& first = watchers[a].ids;
      const auto& other = watchers[a + c * kAudits].ids;
      if (!first.empty() && !other.empty()) {
        EXPECT_EQ(first.back(), other.back());
      }
    }
  }
  EXPECT_GT(reconnected, 0) << "nobody was cut: the instance kill missed its clients";
  EXPECT_NE(worker_b.Stderr().find("attempt 2"), std::string::npos)
      << "the surviving worker never took over a dead worker's audit:\n"
      << worker_b.Stderr();
  RecordProperty("clients_reconnected", reconnected);
  std::printf("[ cluster  ] %d of %zu clients were cut and resumed\n", reconnected,
              watchers.size());
  if (HasFailure()) {
    ADD_FAILURE() << nginx_->Logs();
  }
}

}  // namespace
}  // namespace herald::test
