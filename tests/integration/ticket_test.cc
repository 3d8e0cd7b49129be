// Stream tickets against the real server: POST /api/v1/sse/tickets, then
// `?ticket=` opens that one stream, once, on any instance, as the caller,
// until the caller's own token expires; a ticket opens nothing else.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "integration/test_server.h"

namespace herald::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

Headers As(const std::string& user, auth::Role role = auth::Role::kUser,
           std::chrono::seconds ttl = std::chrono::seconds(3600)) {
  return TestServer::Bearer(TestServer::Token(user, role, ttl));
}

// Issues a ticket; returns it ("" on failure, with the test failed).
std::string Ticket(uint16_t port, const Headers& as, const std::string& body) {
  auto res = Request(port, "POST", "/api/v1/sse/tickets", as, body);
  EXPECT_EQ(res.status, 201) << body << ": " << res.body;
  if (res.status != 201) return "";
  auto o = json::parse(res.body).as_object();
  EXPECT_EQ(o.at("expires_in").as_int64(), 60);
  return std::string(o.at("ticket").as_string());
}

std::string ProgressPath(int64_t id) {
  return "/api/v1/sse/jobs/" + std::to_string(id) + "/progress";
}

TEST(TicketTest, ATicketOpensItsStreamOnceAndNothingElse) {
  TestServer server;
  const uint16_t port = server.port();
  const int64_t mine = server.CreateJob("alice");
  const int64_t other = server.CreateJob("alice");
  const std::string ticket =
      Ticket(port, As("alice"), R"({"job_id":)" + std::to_string(mine) + "}");
  ASSERT_FALSE(ticket.empty());
  EXPECT_EQ(ticket.size(), 43u);  // 256 bits of base64url

  auto sse = SseClient::Open(port, ProgressPath(mine) + "?ticket=" + ticket, {});
  ASSERT_EQ(sse->status(), 200);
  auto first = sse->NextEvent(5s);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, "1");
  ASSERT_EQ(server.Publish(mine, R"({"status":"running","progress":5})"), 202);
  auto next = sse->NextEvent(5s);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->id, "2");

  // Once.
  EXPECT_EQ(Request(port, "GET", ProgressPath(mine) + "?ticket=" + ticket, {}).status, 401);
  // Only the stream it names: another job, the notifications, the API.
  const std::string second =
      Ticket(port, As("alice"), R"({"job_id":)" + std::to_string(mine) + "}");
  EXPECT_EQ(Request(port, "GET", ProgressPath(other) + "?ticket=" + second, {}).status, 401);
  EXPECT_EQ(Request(port, "GET", ProgressPath(mine) + "?ticket=" + second, {}).status, 401)
      << "a ticket shown for the wrong stream is used up";
  const std::string third = Ticket(port, As("alice"), R"({"job_id":)" + std::to_string(mine) + "}");
  EXPECT_EQ(Request(port, "GET", "/notify/events?ticket=" + third, {}).status, 401);
  const std::string fourth =
      Ticket(port, As("alice"), R"({"job_id":)" + std::to_string(mine) + "}");
  EXPECT_EQ(Request(port, "GET", "/api/v1/jobs?ticket=" + fourth, {}).status, 401);
  EXPECT_EQ(Request(port, "GET", ProgressPath(mine) + "?ticket=not-a-ticket", {}).status, 401);
}

TEST(TicketTest, TicketsAreIssuedOnlyForWhatTheCallerMayWatch) {
  TestServer server;
  const uint16_t port = server.port();
  const int64_t alices = server.CreateJob("alice");
  const std::string body = R"({"job_id":)" + std::to_string(alices) + "}";
  EXPECT_EQ(Request(port, "POST", "/api/v1/sse/tickets", As("bob"), body).status, 403);
  EXPECT_EQ(Request(port, "POST", "/api/v1/sse/tickets", {}, body).status, 401);
  EXPECT_EQ(
      Request(port, "POST", "/api/v1/sse/tickets", As("alice"), R"({"job_id":999999})").status,
      404);
  EXPECT_EQ(Request(port, "POST", "/api/v1/sse/tickets", As("alice"),
                    R"({"audit_id":)" + std::to_string(alices) + "}")
                .status,
            404)
      << "a generic job is not an audit";
  EXPECT_FALSE(Ticket(port, As("root", auth::Role::kAdmin), body).empty());
  for (const char* bad : {"", "{}", "[]", R"({"job_id":"1"})", R"({"job_id":0})",
                          R"({"stream":"other"})", R"({"stream":"notify","job_id":1})"}) {
    auto res = Request(port, "POST", "/api/v1/sse/tickets", As("alice"), bad);
    EXPECT_EQ(res.status, 400) << bad << ": " << res.body;
  }
  EXPECT_EQ(Request(port, "GET", "/api/v1/sse/tickets", As("alice")).status, 405);
}

TEST(TicketTest, ANotificationTicketOpensTheCallersNotificationStream) {
  TestServer server;
  const uint16_t port = server.port();
  const std::string ticket = Ticket(port, As("alice"), R"({"stream":"notify"})");
  auto sse = SseClient::Open(port, "/notify/events?ticket=" + ticket, {});
  ASSERT_EQ(sse->status(), 200);
  const int64_t id = server.CreateJob("alice");  // alice's: on her stream
  ASSERT_GT(id, 0);
  auto e = sse->NextEvent(5s);
  ASSERT_TRUE(e.has_value());
  EXPECT_NE(e->data.find("\"job_id\":" + std::to_string(id)), std::string::npos) << e->data;
}

TEST(TicketTest, AStreamOpenedByTicketEndsWhenTheTokenBehindItExpires) {
  TestServer server([](config::Config& c) { c.auth.leeway = std::chrono::seconds(0); });
  const uint16_t port = server.port();
  const int64_t id = server.CreateJob("alice");
  const std::string ticket = Ticket(port, As("alice", auth::Role::kUser, std::chrono::seconds(2)),
                                    R"({"job_id":)" + std::to_string(id) + "}");
  auto sse = SseClient::Open(port, ProgressPath(id) + "?ticket=" + ticket, {});
  ASSERT_EQ(sse->status(), 200);
  std::optional<SseEvent> last;
  while (auto e = sse->NextEvent(6s)) last = e;
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->event, "error");
  EXPECT_EQ(last->data, R"({"error": "Token expired"})");
  EXPECT_TRUE(sse->closed());
}

// Two instances on one database: a ticket issued by one opens the stream on
// the other, and only once across both.
TEST(TicketTest, ATicketIsValidOnEveryInstanceOnce) {
  const std::string db = (std::filesystem::temp_directory_path() /
                          ("herald-tickets-" + std::to_string(::getpid()) + ".db"))
                             .string();
  {
    TestServer a([&](config::Config& c) { c.database_url = "sqlite://" + db; });
    TestServer b([&](config::Config& c) { c.database_url = "sqlite://" + db; });
    const int64_t id = a.CreateJob("alice");
    const std::string ticket =
        Ticket(a.port(), As("alice"), R"({"job_id":)" + std::to_string(id) + "}");
    auto sse = SseClient::Open(b.port(), ProgressPath(id) + "?ticket=" + ticket, {});
    ASSERT_EQ(sse->status(), 200);
    EXPECT_TRUE(sse->NextEvent(5s).has_value());
    EXPECT_EQ(Request(a.port(), "GET", ProgressPath(id) + "?ticket=" + ticket, {}).status, 401);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
}

}  // namespace
}  // namespace herald::test
