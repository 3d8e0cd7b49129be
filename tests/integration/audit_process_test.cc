// The audit with the real binaries: `herald serve` (no worker threads,
// SSE_SOURCE=db) plus separate `herald worker` processes on one SQLite
// database. A worker SIGKILLed mid-audit is taken over by another once its
// lease (2 s) runs out; a plain audit completes and its stream ends with the
// terminal event; `herald audit` prints the GEO score. Every child is killed
// in teardown; every wait is bounded.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth/jwt.h"
#include "support/backend_env.h"
#include "support/fixture_site.h"
#include "support/child_process.h"
#include "support/http_client.h"

#ifndef HERALD_BINARY
#error "HERALD_BINARY must name the herald executable"
#endif
#ifndef HERALD_SOURCE_DIR
#error "HERALD_SOURCE_DIR must name the source tree"
#endif

namespace herald::test {
namespace {

namespace json = boost::json;

const std::string kSiteRoot = HERALD_SOURCE_DIR "/tests/fixtures/site";

class AuditProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/herald-audit-process-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::random_device rd;
    secret_ = "audit-process-secret-" + std::to_string(rd());
    port_ = FreePort();
    backend_ = BackendFromEnvironment(dir_ + "/h.db");
  }

  void TearDown() override {
    children_.clear();  // SIGKILLs whatever still runs
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Env Common() const {
    return {{"JWT_SECRET", secret_},
            {"DATABASE_URL", backend_.database_url},
            {"AUDIT_ALLOW_PRIVATE", "1"},
            {"HERALD_LOG_LEVEL", "info"}};
  }
  Env ServeEnv() const {
    Env e = Common();
    e["HERALD_LISTEN"] = "127.0.0.1:" + std::to_string(port_);
    e["HERALD_WORKERS"] = "0";
    e["SSE_SOURCE"] = "db";
    if (backend_.redis_url) {
      e["SSE_SOURCE"] = "redis";
      e["REDIS_URL"] = *backend_.redis_url;
    }
    e["SSE_FALLBACK_DB_INTERVAL_SECONDS"] = "1";
    return e;
  }
  Env WorkerEnv() const {
    Env e = Common();
    if (backend_.redis_url) e["REDIS_URL"] = *backend_.redis_url;
    e["HERALD_WORKERS"] = "1";
    e["HERALD_AUDIT_LEASE_SECONDS"] = "2";
    return e;
  }

  Child& Start(const std::vector<std::string>& args, const Env& env) {
    std::string name = "run" + std::to_string(children_.size());
    children_.push_back(std::make_unique<Child>(args, env, dir_, name));
    return *children_.back();
  }

  Child& StartServe() {
    Child& serve = Start({"serve"}, ServeEnv());
    auto deadline = SteadyClock::now() + 10s;
    while (SteadyClock::now() < deadline) {
      if (serve.Wait(0ms)) break;
      if (Request(port_, "GET", "/healthz", {}, "", 500ms).status == 200) return serve;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "herald serve did not become healthy: " << serve.Stderr();
    return serve;
  }

  std::string Mint(const std::string& sub, auth::Role role = auth::Role::kUser) const {
    auth::MintOptions o;
    o.subject = sub;
    o.role = role;
    return auth::MintHs256(secret_, o, std::chrono::system_clock::now());
  }
  Headers Alice() const { return {{"Authorization", "Bearer " + Mint("alice")}}; }

  int64_t CreateAudit(const std::string& url, int max_pages) {
    json::object body;
    body["url"] = url;
    body["max_pages"] = max_pages;
    auto res = Request(port_, "POST", "/api/v1/audits", Alice(), json::serialize(body));
    if (res.status != 201) {
      ADD_FAILURE() << "create audit: " << res.status << " " << res.body;
      return 0;
    }
    return json::parse(res.body).at("id").as_int64();
  }

  json::object Status(int64_t id) {
    auto res = Request(port_, "GET", "/api/v1/audits/" + std::to_string(id) + "/status", Alice());
    EXPECT_EQ(res.status, 200) << res.body;
    if (res.status != 200) return {};
    return json::parse(res.body).as_object();
  }

  static std::string StatusOf(const json::object& o) {
    auto* s = o.if_contains("status");
    return s && s->is_string() ? std::string(s->as_string()) : "";
  }
  static bool Terminal(const json::object& o) {
    return StatusOf(o) == "completed" || StatusOf(o) == "failed";
  }

  // Polls /status until `pred` holds (at most `timeout`); returns the last status.
  template <class Pred>
  json::object PollUntil(int64_t id, std::chrono::milliseconds timeout, Pred pred) {
    auto deadline = SteadyClock::now() + timeout;
    json::object last;
    while (SteadyClock::now() < deadline) {
      last = Status(id);
      if (pred(last)) return last;
      std::this_thread::sleep_for(50ms);
    }
    return last;
  }

  // Data events of `sse` until a terminal one, at most `timeout` overall.
  static std::vector<json::object> ReadUntilTerminal(SseClient& sse,
                                                     std::chrono::milliseconds timeout) {
    std::vector<json::object> out;
    auto deadline = SteadyClock::now() + timeout;
    while (SteadyClock::now() < deadline) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      auto e = sse.NextEvent(std::max(left, std::chrono::milliseconds(1)));
      if (!e || e->event == "error") break;
      boost::system::error_code ec;
      auto v = json::parse(e->data, ec);
      if (ec || !v.is_object()) continue;
      out.push_back(v.as_object());
      if (Terminal(out.back())) break;
    }
    return out;
  }

  std::string dir_;
  std::string secret_;
  uint16_t port_ = 0;
  Backend backend_;
  std::vector<std::unique_ptr<Child>> children_;
};

TEST_F(AuditProcessTest, KilledWorkerIsTakenOverAndTheAuditEnds) {
  FixtureSite site(kSiteRoot);
  StartServe();
  Child& first = Start({"worker"}, WorkerEnv());
  // /slow trickles for ~5 s: the worker is mid-fetch when it dies.
  int64_t id = CreateAudit(site.url("/slow"), 1);
  ASSERT_GT(id, 0);
  auto running = PollUntil(id, 10s, [](const json::object& o) { return StatusOf(o) == "running"; });
  ASSERT_EQ(StatusOf(running), "running") << json::serialize(running) << first.Stderr();
  auto deadline = SteadyClock::now() + 5s;
  auto asked = [&] {
    auto t = site.RequestedTargetsForTest();
    return std::find(t.begin(), t.end(), "/slow") != t.end();
  };
  while (!asked() && SteadyClock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(asked()) << "the first worker never fetched /slow";

  first.Signal(SIGKILL);
  ASSERT_TRUE(first.Wait(5s));
  // Still running (nobody finished it), its lease held by the dead worker.
  EXPECT_EQ(StatusOf(Status(id)), "running");

  Child& second = Start({"worker"}, WorkerEnv());
  auto done = PollUntil(id, 15s, [](const json::object& o) { return Terminal(o); });
  ASSERT_TRUE(Terminal(done)) << "the audit is stuck after its worker died: "
                              << json::serialize(done) << "\n"
                              << second.Stderr();
  EXPECT_EQ(StatusOf(done), "completed") << json::serialize(done);
  EXPECT_NE(second.Stderr().find("attempt 2"), std::string::npos) << second.Stderr();

  // The history shows the takeover: a second "start" step, then the end.
  auto sse =
      SseClient::Open(port_, "/api/v1/sse/audits/" + std::to_string(id) + "/progress",
                      {{"Authorization", "Bearer " + Mint("alice")}, {"Last-Event-ID", "0"}}, 5s);
  ASSERT_EQ(sse->status(), 200);
  auto events = ReadUntilTerminal(*sse, 5s);
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(Terminal(events.back())) << json::serialize(events.back());
  int starts = 0;
  for (const auto& e : events) {
    auto* step = e.if_contains("step");
    starts += step && step->is_string() && step->as_string() == "start";
  }
  EXPECT_EQ(starts, 2) << "one start per attempt";
  // /slow was fetched once by each worker.
  auto t = site.RequestedTargetsForTest();
  EXPECT_EQ(std::count(t.begin(), t.end(), "/slow"), 2);
}

TEST_F(AuditProcessTest, AuditThroughWorkerProcessCompletesAndStreamSeesTheEnd) {
  FixtureSite site(kSiteRoot);
  StartServe();
  int64_t id = CreateAudit(site.url("/"), 20);
  ASSERT_GT(id, 0);
  auto sse =
      SseClient::Open(port_, "/api/v1/sse/audits/" + std::to_string(id) + "/progress", Alice(), 5s);
  ASSERT_EQ(sse->status(), 200);
  Child& worker = Start({"worker"}, WorkerEnv());
  auto events = ReadUntilTerminal(*sse, 20s);
  ASSERT_FALSE(events.empty()) << worker.Stderr();
  const auto& last = events.back();
  ASSERT_TRUE(Terminal(last)) << "no terminal event on the stream: " << json::serialize(last);
  EXPECT_EQ(StatusOf(last), "completed");
  EXPECT_EQ(last.at("progress").as_int64(), 100);
  EXPECT_EQ(last.at("total_pages").as_int64(), 11);
  EXPECT_TRUE(last.contains("geo_score"));
  EXPECT_EQ(last.at("critical_issues").as_int64(), 1);
  EXPECT_TRUE(sse->WaitClosed(5s)) << "the stream ends after the terminal event";

  auto audit = Request(port_, "GET", "/api/v1/audits/" + std::to_string(id), Alice());
  ASSERT_EQ(audit.status, 200);
  EXPECT_TRUE(json::parse(audit.body).as_object().contains("report"));
}

TEST_F(AuditProcessTest, AuditCommandPrintsTheGeoScore) {
  FixtureSite site(kSiteRoot);
  StartServe();
  Start({"worker"}, WorkerEnv());
  Env env = {{"HERALD_URL", "http://127.0.0.1:" + std::to_string(port_)},
             {"HERALD_TOKEN", Mint("alice")}};
  Child& cli = Start({"audit", site.url("/"), "--max-pages", "20"}, env);
  auto code = cli.Wait(20s);
  ASSERT_TRUE(code) << "herald audit did not exit within 20 s: " << cli.Stdout() << cli.Stderr();
  EXPECT_EQ(*code, 0) << cli.Stdout() << cli.Stderr();
  EXPECT_NE(cli.Stdout().find("GEO score"), std::string::npos) << cli.Stdout() << cli.Stderr();
  EXPECT_NE(cli.Stdout().find("76.7"), std::string::npos) << cli.Stdout();
  EXPECT_EQ(cli.Stdout().find("\x1b["), std::string::npos) << "no escapes when not a TTY";
}

}  // namespace
}  // namespace herald::test
