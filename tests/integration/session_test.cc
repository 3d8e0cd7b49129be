// Browser sessions against the real server: the dashboard trades a token for
// an HttpOnly, SameSite=Strict cookie once, and never keeps the token where
// script can read it (issue 10, point 7).

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <string>

#include "integration/test_server.h"

namespace herald::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// The Max-Age attribute of a Set-Cookie value, or -1.
long MaxAge(const std::string& set_cookie) {
  const auto at = set_cookie.find("Max-Age=");
  if (at == std::string::npos) return -1;
  return std::stol(set_cookie.substr(at + 8));
}

TEST(SessionTest, ATokenBecomesAnHttpOnlyStrictCookieThatAuthenticates) {
  TestServer server;
  const uint16_t port = server.port();
  const std::string token = TestServer::Token("alice", auth::Role::kUser, 3600s);
  auto res = Request(port, "POST", "/api/v1/session", TestServer::Bearer(token));
  ASSERT_EQ(res.status, 200) << res.body;
  auto who = json::parse(res.body).as_object();
  EXPECT_EQ(who.at("sub").as_string(), "alice");
  EXPECT_EQ(who.at("role").as_string(), "user");
  EXPECT_TRUE(who.contains("expires_at"));
  const std::string cookie = res.Header("set-cookie");
  EXPECT_EQ(cookie.rfind("auth_token=" + token + ";", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find("Secure"), std::string::npos)
      << "plain http: a Secure cookie never returns";
  // It lapses with the token (exp plus the leeway), not later.
  const long age = MaxAge(cookie);
  EXPECT_GT(age, 3500);
  EXPECT_LE(age, 3600 + 30);
  EXPECT_EQ(res.Header("cache-control"), "no-store");

  // The cookie alone now authenticates reads and says who it is.
  const Headers with_cookie{{"Cookie", "auth_token=" + token}};
  auto me = Request(port, "GET", "/api/v1/session", with_cookie);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(json::parse(me.body).at("sub").as_string(), "alice");
  EXPECT_EQ(me.Header("set-cookie"), "");
  EXPECT_EQ(Request(port, "GET", "/api/v1/jobs", with_cookie).status, 200);
}

TEST(SessionTest, OnlyAValidTokenInTheHeaderIsExchanged) {
  TestServer server;
  const uint16_t port = server.port();
  const std::string token = TestServer::Token("alice", auth::Role::kUser, 3600s);
  auto none = Request(port, "POST", "/api/v1/session");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Header("set-cookie"), "");
  auto bad = Request(port, "POST", "/api/v1/session", TestServer::Bearer("bogus"));
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.Header("set-cookie"), "");
  auto expired = Request(port, "POST", "/api/v1/session",
                         TestServer::Bearer(TestServer::Token("alice", auth::Role::kUser, -3600s)));
  EXPECT_EQ(expired.status, 401);
  // From the query string: refused, so that tokens in URLs are not encouraged.
  auto query = Request(port, "POST", "/api/v1/session?token=" + token);
  EXPECT_EQ(query.status, 400) << query.body;
  EXPECT_EQ(query.Header("set-cookie"), "");
  EXPECT_EQ(Request(port, "GET", "/api/v1/session").status, 401);
  EXPECT_EQ(Request(port, "PUT", "/api/v1/session", TestServer::Bearer(token)).status, 405);
}

TEST(SessionTest, SigningOutClearsTheCookieEvenWhenItHasExpired) {
  TestServer server;
  const uint16_t port = server.port();
  const std::string stale = TestServer::Token("alice", auth::Role::kUser, -3600s);
  auto res = Request(port, "DELETE", "/api/v1/session", {{"Cookie", "auth_token=" + stale}});
  EXPECT_EQ(res.status, 204);
  const std::string cookie = res.Header("set-cookie");
  EXPECT_EQ(cookie.rfind("auth_token=;", 0), 0u) << cookie;
  EXPECT_EQ(MaxAge(cookie), 0) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
}

TEST(SessionTest, BehindATlsProxyTheCookieIsSecure) {
  TestServer server;
  const std::string token = TestServer::Token("alice", auth::Role::kUser, 3600s);
  Headers h = TestServer::Bearer(token);
  h.emplace_back("X-Forwarded-Proto", "https");
  auto res = Request(server.port(), "POST", "/api/v1/session", h);
  ASSERT_EQ(res.status, 200);
  EXPECT_NE(res.Header("set-cookie").find("; Secure"), std::string::npos)
      << res.Header("set-cookie");
}

TEST(SessionTest, CookieAuthenticatedChangesFromAForeignOriginAreRefused) {
  TestServer server;
  const uint16_t port = server.port();
  const std::string token = TestServer::Token("alice", auth::Role::kUser, 3600s);
  const int64_t id = server.CreateJob("alice");
  const std::string cancel = "/api/v1/jobs/" + std::to_string(id) + "/cancel";
  auto foreign = Request(port, "POST", cancel,
                         {{"Cookie", "auth_token=" + token}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(foreign.status, 403) << foreign.body;
  // The session itself is renewed only from the page's own origin too.
  auto renew = Request(port, "POST", "/api/v1/session",
                       {{"Cookie", "auth_token=" + token}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(renew.status, 403) << renew.body;
  const std::string self = "http://127.0.0.1";  // the test client's Host
  auto own = Request(port, "POST", cancel, {{"Cookie", "auth_token=" + token}, {"Origin", self}});
  EXPECT_EQ(own.status, 200) << own.body;
}

}  // namespace
}  // namespace herald::test
