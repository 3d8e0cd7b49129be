// Limits against the real server: streams per user (429 + Retry-After) and
// connections per instance (503 + Retry-After instead of a failed accept).

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/test_server.h"

namespace herald::test {
namespace {

using namespace std::chrono_literals;

Headers As(const std::string& user) { return TestServer::Bearer(TestServer::Token(user)); }

std::string Progress(int64_t id) { return "/api/v1/sse/jobs/" + std::to_string(id) + "/progress"; }

// Until `path` opens a stream (bounded): the server frees a place only once
// it has seen a client go.
std::unique_ptr<SseClient> OpenWhenFree(uint16_t port, const std::string& path, const Headers& as) {
  for (int i = 0; i < 100; ++i) {
    auto sse = SseClient::Open(port, path, as);
    if (sse->status() == 200) return sse;
    std::this_thread::sleep_for(20ms);
  }
  return nullptr;
}

TEST(LimitsTest, AUserAtTheStreamLimitGets429WithRetryAfter) {
  TestServer server([](config::Config& c) { c.http.max_streams_per_user = 3; });
  const uint16_t port = server.port();
  const int64_t alices = server.CreateJob("alice");
  const int64_t bobs = server.CreateJob("bob");
  std::vector<std::unique_ptr<SseClient>> open;
  open.push_back(SseClient::Open(port, Progress(alices), As("alice")));
  open.push_back(SseClient::Open(port, Progress(alices), As("alice")));
  open.push_back(SseClient::Open(port, "/notify/events", As("alice")));
  for (auto& s : open) ASSERT_EQ(s->status(), 200);

  for (const std::string& path : {Progress(alices), std::string("/notify/events")}) {
    auto refused = Request(port, "GET", path, As("alice"));
    EXPECT_EQ(refused.status, 429) << path << ": " << refused.body;
    EXPECT_FALSE(refused.Header("retry-after").empty()) << path;
    EXPECT_NE(refused.body.find("too many open streams"), std::string::npos) << refused.body;
  }
  auto bob = SseClient::Open(port, Progress(bobs), As("bob"));
  EXPECT_EQ(bob->status(), 200) << "another user is not limited by alice's streams";
  EXPECT_EQ(Request(port, "GET", "/api/v1/jobs", As("alice")).status, 200)
      << "the limit is on streams, not requests";

  open.front().reset();  // alice closes one
  EXPECT_NE(OpenWhenFree(port, Progress(alices), As("alice")), nullptr)
      << "the closed stream's place never came free";
}

TEST(LimitsTest, BeyondMaxConnectionsANewConnectionGets503WithRetryAfter) {
  TestServer server([](config::Config& c) { c.http.max_connections = 4; });
  const uint16_t port = server.port();
  const int64_t id = server.CreateJob("alice");
  std::vector<std::unique_ptr<SseClient>> open;
  for (int i = 0; i < 4; ++i) {
    open.push_back(SseClient::Open(port, Progress(id), As("alice")));
    ASSERT_EQ(open.back()->status(), 200);
  }
  auto refused = Request(port, "GET", "/healthz");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_FALSE(refused.Header("retry-after").empty());
  EXPECT_NE(refused.body.find("connection limit"), std::string::npos) << refused.body;
  auto metrics = Request(port, "GET", "/metrics");  // refused as well
  EXPECT_EQ(metrics.status, 503);

  open.pop_back();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    served = Request(port, "GET", "/healthz").status == 200;
    if (!served) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(served) << "a freed connection's place never came back";
  for (auto& s : open) EXPECT_FALSE(s->closed()) << "open streams are not touched";
}

// HERALD_ACCEPT_RATE: a burst of new connections beyond the rate is told to
// come back later, each after its own 1-5 s; the rate refills.
TEST(LimitsTest, NewConnectionsBeyondTheAcceptRateGet503WithAJitteredRetryAfter) {
  TestServer server([](config::Config& c) { c.http.accept_rate = 5; });
  const uint16_t port = server.port();
  int served = 0, refused = 0;
  std::set<std::string> waits;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200 && refused < 10; ++i) {
    auto res = Request(port, "GET", "/healthz");
    if (res.status == 200) {
      ++served;
    } else {
      EXPECT_EQ(res.status, 503) << res.body;
      EXPECT_NE(res.body.find("too many new connections"), std::string::npos) << res.body;
      const std::string wait = res.Header("retry-after");
      EXPECT_TRUE(wait.size() == 1 && wait >= "1" && wait <= "5") << wait;
      waits.insert(wait);
      ++refused;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(refused, 10) << "connections beyond the rate were all served";
  EXPECT_GT(waits.size(), 1u) << "every refusal said the same Retry-After: not jittered";
  // A burst of 5, then 5 a second (however slow this machine is).
  EXPECT_GE(served, 5);
  EXPECT_LE(served, 5 + static_cast<int>(seconds * 5) + 1) << seconds << " s";
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(Request(port, "GET", "/healthz").status, 200) << "the rate refills";
  auto metrics = Request(port, "GET", "/metrics");
  EXPECT_NE(metrics.body.find("herald_refused_accept_rate_total " + std::to_string(refused)),
            std::string::npos);
}

TEST(LimitsTest, NoAcceptRateLimitByDefault) {
  TestServer server;
  for (int i = 0; i < 50; ++i) ASSERT_EQ(Request(server.port(), "GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace herald::test
