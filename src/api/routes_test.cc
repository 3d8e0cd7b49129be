#include "api/routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <utility>

#include "api/openapi_document.h"

namespace herald::api {
namespace {

TEST(RoutesTest, PathSegmentsSkipEmptySegments) {
  EXPECT_EQ(PathSegments("/api/v1/jobs/12/status"),
            (std::vector<std::string_view>{"api", "v1", "jobs", "12", "status"}));
  EXPECT_EQ(PathSegments("//api//v1/jobs/"), (std::vector<std::string_view>{"api", "v1", "jobs"}));
  EXPECT_TRUE(PathSegments("/").empty());
}

TEST(RoutesTest, AKnownPathAndMethodFindTheirRowAndId) {
  auto m = MatchRoute("GET", "/api/v1/audits/42/report");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->endpoint, Endpoint::kAuditReport);
  EXPECT_EQ(m.id, "42");
  EXPECT_EQ(m.allow, "GET");
  EXPECT_FALSE(m.only_public);

  m = MatchRoute("POST", "/api/v1/jobs");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->endpoint, Endpoint::kJobCreate);
  EXPECT_EQ(m.allow, "GET, POST");
}

TEST(RoutesTest, AWrongMethodListsThePathsMethods) {
  auto m = MatchRoute("PUT", "/api/v1/session");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "GET, POST, DELETE");
  EXPECT_FALSE(m.only_public) << "credentials first, then 405";

  m = MatchRoute("POST", "/healthz");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "GET");
  EXPECT_TRUE(m.only_public) << "405 at once";
}

TEST(RoutesTest, HeadIsAnsweredOnlyWhereTheRowSaysSo) {
  EXPECT_NE(MatchRoute("HEAD", "/").route, nullptr);
  EXPECT_NE(MatchRoute("HEAD", "/api/v1/openapi.json").route, nullptr);
  EXPECT_EQ(MatchRoute("HEAD", "/healthz").route, nullptr);
}

TEST(RoutesTest, UnknownPathsAndShapesMatchNothing) {
  for (const char* path : {"/api/v1/nothing", "/api/v1/jobs/1/report", "/api/v1/sse/jobs/1",
                           "/notify", "/api/v1/audits/1/status/more"}) {
    auto m = MatchRoute("GET", path);
    EXPECT_EQ(m.route, nullptr) << path;
    EXPECT_TRUE(m.allow.empty()) << path;
  }
  // {id} matches any one segment; the endpoint decides it is not an id.
  auto m = MatchRoute("GET", "/api/v1/jobs/abc");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.id, "abc");
  EXPECT_FALSE(ParseId(m.id));
}

TEST(RoutesTest, ParseIdTakesOnlyPositiveDecimals) {
  EXPECT_EQ(ParseId("12"), 12);
  for (const char* bad : {"0", "-1", "1x", "", " 1", "99999999999999999999"})
    EXPECT_FALSE(ParseId(bad)) << bad;
}

// Every row of the table is an operation of the OpenAPI document, and every
// documented operation is a row: the document cannot miss a route or
// describe one the server does not have.
TEST(RoutesTest, TheTableAndTheOpenApiDocumentHaveTheSameOperations) {
  auto doc = boost::json::parse(kOpenApiDocument).as_object();
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const char* method : {"get", "post", "delete", "put", "patch"}) {
      if (item.as_object().contains(method)) documented.emplace(method, std::string(path));
    }
  }
  std::set<std::pair<std::string, std::string>> routed;
  for (const Route& r : Routes()) {
    if (r.pattern == "/index.html") continue;  // the dashboard's other name
    std::string method(r.method);
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    routed.emplace(method, std::string(r.pattern));
  }
  EXPECT_EQ(routed, documented);
}

}  // namespace
}  // namespace herald::api
