// The real `herald` binary end to end: start-up, graceful SIGTERM with open
// streams, restart on the same database, command-line and configuration
// errors (exit code 2), `herald token`, and no secrets in the log.
// Every child is killed in teardown; every wait is bounded.

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
#include <cstdio>
#include <ctime>
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
#include "support/child_process.h"
#include "support/http_client.h"

#ifndef HERALD_BINARY
#error "HERALD_BINARY must name the herald executable"
#endif

namespace herald::test {
namespace {

namespace json = boost::json;

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/herald-process-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::random_device rd;
    secret_ = "process-secret-" + std::to_string(rd()) + "-" + std::to_string(rd());
  }

  void TearDown() override {
    children_.clear();  // kills whatever still runs
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Env ServeEnv(uint16_t port) const {
    return {{"JWT_SECRET", secret_},
            {"HERALD_LISTEN", "127.0.0.1:" + std::to_string(port)},
            {"DATABASE_URL", "sqlite://" + dir_ + "/h.db"},
            {"HERALD_LOG_LEVEL", "info"},
            {"HERALD_DRAIN_SECONDS", "1"}};
  }

  Child& Start(const std::vector<std::string>& args, const Env& env) {
    std::string name = "run" + std::to_string(children_.size());
    children_.push_back(std::make_unique<Child>(args, env, dir_, name));
    return *children_.back();
  }

  // Runs to completion (bounded); returns the exit code or -1 on timeout.
  int Run(const std::vector<std::string>& args, const Env& env, std::string* out = nullptr,
          std::string* err = nullptr) {
    Child& child = Start(args, env);
    auto code = child.Wait(5s);
    if (!code) {
      child.Kill();
      ADD_FAILURE() << "herald did not exit within 5 s";
    }
    if (out) *out = child.Stdout();
    if (err) *err = child.Stderr();
    return code.value_or(-1);
  }

  // Waits until /healthz answers 200 (at most 10 s) while the child runs.
  bool WaitHealthy(Child& child, uint16_t port) {
    auto deadline = SteadyClock::now() + 10s;
    while (SteadyClock::now() < deadline) {
      if (!child.running() || child.Wait(0ms)) return false;
      if (Request(port, "GET", "/healthz", {}, "", 500ms).status == 200) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::string Mint(const std::string& sub, auth::Role role = auth::Role::kUser) const {
    auth::MintOptions o;
    o.subject = sub;
    o.role = role;
    return auth::MintHs256(secret_, o, std::chrono::system_clock::now());
  }

  std::string dir_;
  std::string secret_;
  std::vector<std::unique_ptr<Child>> children_;
};

size_t CountLines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  if (!text.empty() && text.back() != '\n') ++n;
  return n;
}

TEST_F(ProcessTest, SigtermEndsStreamsExitsZeroAndRestartResumes) {
  uint16_t port = FreePort();
  Child& server = Start({"serve"}, ServeEnv(port));
  ASSERT_TRUE(WaitHealthy(server, port)) << server.Stderr();

  std::string alice = Mint("alice");
  std::string worker = Mint("w", auth::Role::kWorker);
  auto created = Request(port, "POST", "/api/v1/jobs", {{"Authorization", "Bearer " + alice}},
                         R"({"type":"export","title":"t"})");
  ASSERT_EQ(created.status, 201) << created.body;
  int64_t id = json::parse(created.body).at("id").as_int64();
  std::string job = std::to_string(id);
  for (int p : {10, 20}) {
    auto r = Request(port, "POST", "/api/v1/jobs/" + job + "/progress",
                     {{"Authorization", "Bearer " + worker}},
                     R"({"progress":)" + std::to_string(p) + "}");
    ASSERT_EQ(r.status, 202) << r.body;
  }
  // A refused token must not be logged either.
  std::string forged = auth::SignHs256("not-the-secret", R"({"alg":"HS256","typ":"JWT"})",
                                       R"({"sub":"mallory","exp":9999999999})");
  EXPECT_EQ(Request(port, "GET", "/api/v1/jobs", {{"Authorization", "Bearer " + forged}}).status,
            401);
  EXPECT_EQ(Request(port, "GET", "/api/v1/jobs?token=" + forged).status, 401);

  // The token in the query, as EventSource sends it.
  auto sse = SseClient::Open(port, "/api/v1/sse/jobs/" + job + "/progress?token=" + alice);
  ASSERT_EQ(sse->status(), 200);
  auto current = sse->NextEvent(2s);
  ASSERT_TRUE(current);
  EXPECT_EQ(current->id, "3");

  auto term_at = SteadyClock::now();
  server.Signal(SIGTERM);
  EXPECT_TRUE(sse->WaitClosed(5s)) << "SIGTERM must end open streams";
  auto code = server.Wait(5s);
  ASSERT_TRUE(code) << "herald did not exit within 5 s of SIGTERM";
  EXPECT_EQ(*code, 0);
  EXPECT_LT(SteadyClock::now() - term_at, 5s);
  std::string log1 = server.Stderr();
  EXPECT_NE(log1.find("SSE connection established for job " + job), std::string::npos) << log1;
  EXPECT_NE(log1.find("SSE stream ended for job " + job), std::string::npos) << log1;

  // Again on the same database: the events are kept, resume works.
  uint16_t port2 = FreePort();
  Env env2 = ServeEnv(port2);
  env2["HERALD_LOG_LEVEL"] = "debug";  // the most verbose log must not leak secrets either
  Child& again = Start({"serve"}, env2);
  ASSERT_TRUE(WaitHealthy(again, port2)) << again.Stderr();
  auto status = Request(port2, "GET", "/api/v1/jobs/" + job + "/status",
                        {{"Authorization", "Bearer " + alice}});
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(json::parse(status.body).at("progress").as_int64(), 20);
  auto resumed = SseClient::Open(port2, "/api/v1/sse/jobs/" + job + "/progress",
                                 {{"Authorization", "Bearer " + alice}, {"Last-Event-ID", "1"}});
  ASSERT_EQ(resumed->status(), 200);
  for (int seq : {2, 3}) {
    auto e = resumed->NextEvent(2s);
    ASSERT_TRUE(e) << "event " << seq << " lost across the restart";
    EXPECT_EQ(e->id, std::to_string(seq));
    EXPECT_EQ(json::parse(e->data).at("progress").as_int64(), (seq - 1) * 10);
  }
  auto r = Request(port2, "POST", "/api/v1/jobs/" + job + "/progress",
                   {{"Authorization", "Bearer " + worker}}, R"({"progress":30})");
  ASSERT_EQ(r.status, 202);
  EXPECT_EQ(json::parse(r.body).at("id").as_int64(), 4) << "the sequence continues";
  auto live = resumed->NextEvent(2s);
  ASSERT_TRUE(live);
  EXPECT_EQ(live->id, "4");

  again.Signal(SIGTERM);
  EXPECT_TRUE(resumed->WaitClosed(5s));
  auto code2 = again.Wait(5s);
  ASSERT_TRUE(code2);
  EXPECT_EQ(*code2, 0);

  // Tokens and secrets are never logged.
  for (const std::string& log : {log1, again.Stderr()}) {
    EXPECT_EQ(log.find(secret_), std::string::npos) << "secret in the log";
    for (const std::string& token : {alice, worker, forged}) {
      EXPECT_EQ(log.find(token), std::string::npos) << "token in the log:\n" << log;
      // Not even the signature part.
      EXPECT_EQ(log.find(token.substr(token.rfind('.') + 1)), std::string::npos) << log;
    }
  }
}

// SIGTERM does not end every stream at once (their clients would all
// reconnect elsewhere in the same instant): the ends are spread over
// HERALD_DRAIN_SECONDS, no new connection is accepted meanwhile, and the
// process exits 0 once the last stream is gone.
TEST_F(ProcessTest, SigtermSpreadsTheEndOfStreamsOverTheDrainThenExitsZero) {
  uint16_t port = FreePort();
  Env env = ServeEnv(port);
  for (auto& [k, v] : env)
    if (k == "HERALD_DRAIN_SECONDS") v = "2";
  Child& server = Start({"serve"}, env);
  ASSERT_TRUE(WaitHealthy(server, port)) << server.Stderr();
  std::string alice = Mint("alice");
  auto created = Request(port, "POST", "/api/v1/jobs", {{"Authorization", "Bearer " + alice}},
                         R"({"type":"export"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string path = "/api/v1/sse/jobs/" +
                           std::to_string(json::parse(created.body).at("id").as_int64()) +
                           "/progress?token=" + alice;
  constexpr int kStreams = 20;
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(SseClient::Open(port, path));
    ASSERT_EQ(streams.back()->status(), 200);
    ASSERT_TRUE(streams.back()->NextEvent(2s));
  }

  const auto term_at = SteadyClock::now();
  server.Signal(SIGTERM);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(Request(port, "GET", "/healthz", {}, "", 500ms).status, 0)
      << "a new connection was accepted while draining";
  std::vector<std::optional<SteadyClock::duration>> closed_after(kStreams);
  int open = kStreams;
  while (open > 0 && SteadyClock::now() - term_at < 8s) {
    for (int i = 0; i < kStreams; ++i) {
      if (closed_after[i] || !streams[i]->WaitClosed(5ms)) continue;
      closed_after[i] = SteadyClock::now() - term_at;
      --open;
    }
  }
  ASSERT_EQ(open, 0) << "streams still open 8 s after SIGTERM";
  auto [first, last] = std::minmax_element(closed_after.begin(), closed_after.end());
  EXPECT_GE(**last - **first, 1s) << "the ends were not spread over the drain";
  EXPECT_LE(**last, 4500ms) << "the drain took longer than its 2 s and the 2 s grace";
  auto code = server.Wait(5s);
  ASSERT_TRUE(code) << "herald did not exit after the drain";
  EXPECT_EQ(*code, 0);
  EXPECT_NE(server.Stderr().find("draining 20 streams over 2 s"), std::string::npos)
      << server.Stderr();
}

// Logs: UTC with a Z whatever TZ says; --log-format json gives one object
// per line; a resume and a 204 are logged (issue 11).
TEST_F(ProcessTest, LogsAreUtcJsonOnRequestAndNameResumesAnd204s) {
  uint16_t port = FreePort();
  Env env = ServeEnv(port);
  env["TZ"] = "America/New_York";
  Child& server = Start({"serve", "--log-format", "json"}, env);
  ASSERT_TRUE(WaitHealthy(server, port)) << server.Stderr();
  const std::string alice = Mint("alice");
  const std::string worker = Mint("w", auth::Role::kWorker);
  auto created = Request(port, "POST", "/api/v1/jobs", {{"Authorization", "Bearer " + alice}},
                         R"({"type":"export","title":"t"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string job = std::to_string(json::parse(created.body).at("id").as_int64());
  auto sse = SseClient::Open(port, "/api/v1/sse/jobs/" + job + "/progress",
                             {{"Authorization", "Bearer " + alice}, {"Last-Event-ID", "1"}});
  ASSERT_EQ(sse->status(), 200);
  ASSERT_EQ(Request(port, "POST", "/api/v1/jobs/" + job + "/progress",
                    {{"Authorization", "Bearer " + worker}}, R"({"status":"completed"})")
                .status,
            202);
  EXPECT_TRUE(sse->WaitClosed(5s));
  auto again = Request(port, "GET", "/api/v1/sse/jobs/" + job + "/progress",
                       {{"Authorization", "Bearer " + alice}, {"Last-Event-ID", "2"}});
  EXPECT_EQ(again.status, 204);
  server.Signal(SIGTERM);
  ASSERT_TRUE(server.Wait(5s));
  const std::string err = server.Stderr();
  std::istringstream lines(err);
  int parsed = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    ASSERT_FALSE(ec) << "not JSON: " << line;
    const auto& o = v.as_object();
    const std::string time(o.at("time").as_string());
    EXPECT_EQ(time.back(), 'Z') << line;
    EXPECT_EQ(time.size(), 24u) << line;  // 2026-12-03T15:04:05.123Z
    EXPECT_TRUE(o.contains("level") && o.contains("msg")) << line;
    ++parsed;
  }
  EXPECT_GT(parsed, 2);
  EXPECT_NE(err.find("stream resumed after event 1"), std::string::npos) << err;
  EXPECT_NE(err.find("204, the client already has the final event 2"), std::string::npos) << err;
  // UTC: the hour in the log is the UTC hour (of now or a minute ago, in
  // case the hour just turned), never New York's.
  auto hour_of = [](std::chrono::system_clock::time_point t) {
    const auto tt = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&tt, &utc);
    char text[8];
    std::snprintf(text, sizeof text, "T%02d:", utc.tm_hour);
    return std::string(text);
  };
  const auto now = std::chrono::system_clock::now();
  EXPECT_TRUE(err.find(hour_of(now)) != std::string::npos ||
              err.find(hour_of(now - std::chrono::minutes(1))) != std::string::npos)
      << err;
}

TEST_F(ProcessTest, TokenCommandMintsATokenTheServerAccepts) {
  std::string out, err;
  ASSERT_EQ(Run({"token", "--sub", "x", "--role", "admin"}, {{"JWT_SECRET", secret_}}, &out, &err),
            0)
      << err;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  ASSERT_EQ(std::count(out.begin(), out.end(), '.'), 2) << out;
  std::string header = out.substr(0, out.find('.'));
  std::string claims = out.substr(out.find('.') + 1, out.rfind('.') - out.find('.') - 1);
  std::string signature = out.substr(out.rfind('.') + 1);
  EXPECT_FALSE(header.empty());
  EXPECT_FALSE(signature.empty());
  auto decoded = auth::Base64UrlDecode(claims);
  ASSERT_TRUE(decoded) << claims;
  auto c = json::parse(*decoded).as_object();
  EXPECT_EQ(c.at("sub").as_string(), "x");
  EXPECT_EQ(c.at("role").as_string(), "admin");
  EXPECT_TRUE(c.contains("exp"));

  uint16_t port = FreePort();
  Child& server = Start({"serve"}, ServeEnv(port));
  ASSERT_TRUE(WaitHealthy(server, port)) << server.Stderr();
  // It works, and as an admin: it may read alice's job.
  auto created = Request(port, "POST", "/api/v1/jobs",
                         {{"Authorization", "Bearer " + Mint("alice")}}, R"({"type":"t"})");
  ASSERT_EQ(created.status, 201);
  std::string job = std::to_string(json::parse(created.body).at("id").as_int64());
  EXPECT_EQ(Request(port, "GET", "/api/v1/jobs", {{"Authorization", "Bearer " + out}}).status, 200);
  EXPECT_EQ(
      Request(port, "GET", "/api/v1/jobs/" + job, {{"Authorization", "Bearer " + out}}).status,
      200);
  server.Signal(SIGTERM);
  ASSERT_TRUE(server.Wait(5s));
  EXPECT_EQ(server.Stderr().find(out), std::string::npos) << "token in the log";
}

TEST_F(ProcessTest, TokenCommandRefusesUnknownRole) {
  std::string out, err;
  EXPECT_EQ(Run({"token", "--sub", "x", "--role", "king"}, {{"JWT_SECRET", secret_}}, &out, &err),
            2);
  EXPECT_EQ(CountLines(err), 1u) << err;
  EXPECT_NE(err.find("role"), std::string::npos) << err;
  EXPECT_EQ(out.find('.'), std::string::npos) << "no token printed: " << out;
}

TEST_F(ProcessTest, TokenCommandNeedsTheSecret) {
  std::string err;
  EXPECT_EQ(Run({"token", "--sub", "x"}, {}, nullptr, &err), 2);
  EXPECT_NE(err.find("JWT_SECRET"), std::string::npos) << err;
}

TEST_F(ProcessTest, BadConfigurationExits2NamingTheVariable) {
  uint16_t port = FreePort();
  struct Case {
    std::string variable;
    Env env;
  };
  Env base = ServeEnv(port);
  auto with = [&](const std::string& k, const std::string& v) {
    Env e = base;
    e[k] = v;
    return e;
  };
  Env no_secret = base;
  no_secret.erase("JWT_SECRET");
  const std::vector<Case> cases = {
      {"HERALD_LISTEN", with("HERALD_LISTEN", "127.0.0.1:abc")},
      {"SSE_SOURCE", with("SSE_SOURCE", "bogus")},
      {"SSE_MAX_DURATION", with("SSE_MAX_DURATION", "-5")},
      {"SSE_HEARTBEAT_SECONDS", with("SSE_HEARTBEAT_SECONDS", "soon")},
      {"JWT_SECRET", no_secret},
      {"JWT_SECRET", with("JWT_SECRET", "")},
  };
  for (const auto& c : cases) {
    std::string err;
    EXPECT_EQ(Run({"serve"}, c.env, nullptr, &err), 2) << c.variable << ": " << err;
    EXPECT_NE(err.find(c.variable), std::string::npos) << c.variable << ": " << err;
  }
  // Nothing started listening meanwhile.
  EXPECT_EQ(Request(port, "GET", "/healthz", {}, "", 300ms).status, 0);
}

TEST_F(ProcessTest, UnknownFlagsExit2WithOneLine) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--bogus-flag"}, std::vector<std::string>{"serve", "--nope"}}) {
    std::string out, err;
    EXPECT_EQ(Run(args, {{"JWT_SECRET", secret_}}, &out, &err), 2) << args.back() << ": " << err;
    EXPECT_EQ(CountLines(err), 1u) << args.back() << ": " << err;
    EXPECT_NE(err.find(args.back()), std::string::npos) << "names the problem: " << err;
  }
}

TEST_F(ProcessTest, VersionPrintsHeraldAndExitsZero) {
  std::string out, err;
  EXPECT_EQ(Run({"--version"}, {}, &out, &err), 0) << err;
  EXPECT_EQ(out.rfind("herald ", 0), 0u) << out;
  EXPECT_GT(out.size(), std::string("herald ").size());
}

}  // namespace
}  // namespace herald::test
