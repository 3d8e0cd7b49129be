// The REST part of the contract ("Jobs and audits", errors, /healthz,
// /metrics, the dashboard, HTTP hygiene), bullet by bullet, against a real
// server on loopback. Audits are only created and stored here, never run.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "integration/test_server.h"

namespace herald::test {
namespace {

namespace json = boost::json;
using auth::Role;

Headers As(const std::string& sub, Role role = Role::kUser) {
  return TestServer::Bearer(TestServer::Token(sub, role));
}

json::object Obj(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "not a JSON object: " << text;
    return {};
  }
  return v.as_object();
}

// Asserts the error shape of the contract: {"error": "..."} as JSON.
void ExpectError(const HttpResponse& res, int status, const std::string& what = "") {
  EXPECT_EQ(res.status, status) << what << ": " << res.body;
  EXPECT_EQ(res.Header("content-type").rfind("application/json", 0), 0u)
      << what << ": " << res.Header("content-type");
  auto o = Obj(res.body);
  ASSERT_TRUE(o.contains("error")) << what << ": " << res.body;
  EXPECT_TRUE(o.at("error").is_string()) << what;
  EXPECT_FALSE(o.at("error").as_string().empty()) << what;
}

HttpResponse CreateAudit(const TestServer& server, const std::string& body,
                         const std::string& sub = "alice", Role role = Role::kUser) {
  return Request(server.port(), "POST", "/api/v1/audits", As(sub, role), body);
}

int64_t CreatedId(const HttpResponse& res) {
  if (res.status != 201) {
    ADD_FAILURE() << "expected 201: " << res.status << " " << res.body;
    return 0;
  }
  return Obj(res.body).at("id").as_int64();
}

std::string Path(const std::string& kind, int64_t id, const std::string& tail = "") {
  return "/api/v1/" + kind + "/" + std::to_string(id) + tail;
}

std::vector<int64_t> ListIds(const HttpResponse& res) {
  std::vector<int64_t> ids;
  if (res.status != 200) {
    ADD_FAILURE() << "list: " << res.status << " " << res.body;
    return ids;
  }
  json::object body = Obj(res.body);
  if (!body.contains("items") || !body.at("items").is_array()) {
    ADD_FAILURE() << "no items: " << res.body;
    return ids;
  }
  for (const auto& item : body.at("items").as_array())
    ids.push_back(item.as_object().at("id").as_int64());
  return ids;
}

// A public address literal: no DNS involved, not private.
constexpr char kPublicUrl[] = "http://93.184.216.34/";

// ---------------------------------------------------------------- audits

TEST(RestApiTest, CreateAuditReturns201PendingWithUrlAndDefaultMaxPages) {
  TestServer server([](config::Config& c) { c.audit_allow_private = false; });
  auto res = CreateAudit(server, R"({"url":"http://93.184.216.34/some/page"})");
  ASSERT_EQ(res.status, 201) << res.body;
  EXPECT_EQ(res.Header("content-type").rfind("application/json", 0), 0u);
  auto o = Obj(res.body);
  EXPECT_GT(o.at("id").as_int64(), 0);
  EXPECT_EQ(o.at("status").as_string(), "pending");
  EXPECT_EQ(o.at("url").as_string(), "http://93.184.216.34/some/page");
  EXPECT_EQ(o.at("max_pages").as_int64(), 20);
  EXPECT_EQ(o.at("progress").as_int64(), 0);
  EXPECT_EQ(o.at("owner").as_string(), "alice");

  auto explicit_pages = CreateAudit(server, R"({"url":"https://93.184.216.34/","max_pages":7})");
  ASSERT_EQ(explicit_pages.status, 201) << explicit_pages.body;
  EXPECT_EQ(Obj(explicit_pages.body).at("max_pages").as_int64(), 7);
  EXPECT_EQ(Obj(explicit_pages.body).at("status").as_string(), "pending");
}

TEST(RestApiTest, CreateAuditAcceptsBoundaryValues) {
  TestServer server([](config::Config& c) { c.audit_allow_private = false; });
  EXPECT_EQ(CreateAudit(server, R"({"url":"http://93.184.216.34/","max_pages":1})").status, 201);
  EXPECT_EQ(CreateAudit(server, R"({"url":"http://93.184.216.34/","max_pages":500})").status, 201);
  std::string url = std::string(kPublicUrl);
  url += std::string(2048 - url.size(), 'a');
  ASSERT_EQ(url.size(), 2048u);
  auto res = CreateAudit(server, R"({"url":")" + url + R"("})");
  EXPECT_EQ(res.status, 201) << "a URL of exactly 2048 bytes is allowed: " << res.body;
}

TEST(RestApiTest, CreateAuditRejectsBadInputWith400) {
  TestServer server([](config::Config& c) { c.audit_allow_private = false; });
  std::string long_url = std::string(kPublicUrl) + std::string(2049, 'a');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ftp scheme", R"({"url":"ftp://93.184.216.34/file"})"},
      {"javascript scheme", R"({"url":"javascript:void 0"})"},
      {"no host", R"({"url":"http:///path"})"},
      {"no host at all", R"({"url":"https://"})"},
      {"relative", R"({"url":"/just/a/path"})"},
      {"over 2048 bytes", R"({"url":")" + long_url + R"("})"},
      {"max_pages 0", R"({"url":"http://93.184.216.34/","max_pages":0})"},
      {"max_pages 501", R"({"url":"http://93.184.216.34/","max_pages":501})"},
      {"max_pages negative", R"({"url":"http://93.184.216.34/","max_pages":-1})"},
      {"max_pages string", R"({"url":"http://93.184.216.34/","max_pages":"ten"})"},
      {"missing url", R"({"max_pages":5})"},
      {"url not a string", R"({"url":42})"},
      {"empty url", R"({"url":""})"},
      {"invalid JSON", R"({"url": "http://93.184.216.34/")"},
      {"not an object", R"(["http://93.184.216.34/"])"},
      {"empty body", ""},
  };
  for (const auto& [what, body] : cases) ExpectError(CreateAudit(server, body), 400, what);
  // Nothing was created by any of them.
  EXPECT_TRUE(ListIds(Request(server.port(), "GET", "/api/v1/audits", As("alice"))).empty());
}

const std::vector<std::string>& PrivateUrls() {
  static const std::vector<std::string> urls = {
      "http://127.0.0.1/",
      "http://127.0.0.1:8080/x",
      "http://[::1]/",
      "http://169.254.169.254/",
      "http://localhost/",
      "http://LOCALHOST:3000/",
      "http://10.0.0.1/",
      "http://192.168.1.1/",
      "http://172.16.0.1/",
      "http://0.0.0.0/",
      "http://[::ffff:127.0.0.1]/",
      // The same hidden by percent-encoding or inet_aton's numeric forms.
      "http://%31%32%37.0.0.1/",
      "http://2130706433/",
      "http://0x7f.1/",
  };
  return urls;
}

TEST(RestApiTest, CreateAuditRefusesLoopbackAndPrivateAddressesByDefault) {
  TestServer server([](config::Config& c) { c.audit_allow_private = false; });
  for (const auto& url : PrivateUrls())
    ExpectError(CreateAudit(server, R"({"url":")" + url + R"("})"), 400, url);
}

TEST(RestApiTest, DefaultConfigRefusesPrivateAddresses) {
  // AUDIT_ALLOW_PRIVATE defaults to 0.
  EXPECT_FALSE(config::Config{}.audit_allow_private);
  TestServer server;
  ExpectError(CreateAudit(server, R"({"url":"http://127.0.0.1/"})"), 400, "default config");
}

TEST(RestApiTest, CreateAuditAllowsPrivateAddressesWhenConfigured) {
  TestServer server([](config::Config& c) { c.audit_allow_private = true; });
  for (const auto& url : PrivateUrls()) {
    auto res = CreateAudit(server, R"({"url":")" + url + R"("})");
    EXPECT_EQ(res.status, 201) << url << ": " << res.body;
  }
  // Everything else is still checked.
  ExpectError(CreateAudit(server, R"({"url":"ftp://127.0.0.1/"})"), 400, "ftp with allow_private");
}

TEST(RestApiTest, UnresolvableHostIsAccepted) {
  TestServer server([](config::Config& c) { c.audit_allow_private = false; });
  auto res = CreateAudit(server, R"({"url":"http://nonexistent.invalid/"})");
  ASSERT_EQ(res.status, 201) << res.body;
  auto o = Obj(res.body);
  EXPECT_EQ(o.at("status").as_string(), "pending");
  EXPECT_EQ(o.at("url").as_string(), "http://nonexistent.invalid/");
}

TEST(RestApiTest, ListAuditsNewestFirstWithLimitAndOffset) {
  TestServer server;
  std::vector<int64_t> created;
  for (int i = 0; i < 5; ++i)
    created.push_back(CreatedId(
        CreateAudit(server, R"({"url":"http://93.184.216.34/)" + std::to_string(i) + R"("})")));
  // A generic job is not an audit.
  server.CreateJob("alice");
  std::vector<int64_t> newest_first(created.rbegin(), created.rend());

  auto all = Request(server.port(), "GET", "/api/v1/audits", As("alice"));
  EXPECT_EQ(ListIds(all), newest_first);
  auto page = Request(server.port(), "GET", "/api/v1/audits?limit=2", As("alice"));
  EXPECT_EQ(ListIds(page), std::vector<int64_t>(newest_first.begin(), newest_first.begin() + 2));
  page = Request(server.port(), "GET", "/api/v1/audits?limit=2&offset=2", As("alice"));
  EXPECT_EQ(ListIds(page),
            std::vector<int64_t>(newest_first.begin() + 2, newest_first.begin() + 4));
  page = Request(server.port(), "GET", "/api/v1/audits?offset=4", As("alice"));
  EXPECT_EQ(ListIds(page), std::vector<int64_t>{newest_first[4]});
  page = Request(server.port(), "GET", "/api/v1/audits?offset=10", As("alice"));
  EXPECT_TRUE(ListIds(page).empty());
  // has_more says whether a next page exists (fetched one past the page).
  EXPECT_TRUE(Obj(Request(server.port(), "GET", "/api/v1/audits?limit=4", As("alice")).body)
                  .at("has_more")
                  .as_bool());
  EXPECT_FALSE(Obj(Request(server.port(), "GET", "/api/v1/audits?limit=5", As("alice")).body)
                   .at("has_more")
                   .as_bool());
  EXPECT_FALSE(Obj(page.body).at("has_more").as_bool());
  EXPECT_EQ(Obj(Request(server.port(), "GET", "/api/v1/audits?limit=4", As("alice")).body)
                .at("limit")
                .as_int64(),
            4);
  // Search (url, title, type or id; %-encoded in the query) and status.
  auto found = Request(server.port(), "GET", "/api/v1/audits?q=216.34%2F3", As("alice"));
  EXPECT_EQ(ListIds(found), std::vector<int64_t>{created[3]});
  found =
      Request(server.port(), "GET", "/api/v1/audits?q=216.34/&status=pending&limit=1", As("alice"));
  EXPECT_EQ(ListIds(found), std::vector<int64_t>{created[4]});
  EXPECT_TRUE(Obj(found.body).at("has_more").as_bool());
  EXPECT_TRUE(ListIds(Request(server.port(), "GET", "/api/v1/audits?status=completed", As("alice")))
                  .empty());
  ExpectError(Request(server.port(), "GET", "/api/v1/audits?status=done", As("alice")), 400,
              "unknown status");
  ExpectError(Request(server.port(), "GET", "/api/v1/jobs?q=" + std::string(201, 'x'), As("alice")),
              400, "q too long");
  // Items are audits with their url.
  auto first = Obj(all.body).at("items").as_array().at(0).as_object();
  EXPECT_EQ(first.at("url").as_string(), "http://93.184.216.34/4");
  EXPECT_EQ(first.at("status").as_string(), "pending");
}

TEST(RestApiTest, ReportOnlyForACompletedAudit) {
  TestServer server;
  int64_t id = CreatedId(CreateAudit(server, R"({"url":"http://93.184.216.34/"})"));
  auto res = Request(server.port(), "GET", "/api/v1/audits/" + std::to_string(id) + "/report",
                     As("alice"));
  ExpectError(res, 409, "report of an audit not completed");
  int64_t job = server.CreateJob("alice");
  ExpectError(
      Request(server.port(), "GET", "/api/v1/jobs/" + std::to_string(job) + "/report", As("alice")),
      404, "a generic job has no report endpoint");
  ExpectError(Request(server.port(), "GET", "/api/v1/audits/999999/report", As("alice")), 404,
              "no such audit");
}

TEST(RestApiTest, ListRejectsBadLimitAndOffset) {
  TestServer server;
  for (const std::string kind : {"audits", "jobs"}) {
    for (const std::string q :
         {"limit=0", "limit=abc", "limit=-1", "limit=", "limit=2x", "offset=-1", "offset=abc"}) {
      ExpectError(Request(server.port(), "GET", "/api/v1/" + kind + "?" + q, As("alice")), 400,
                  kind + "?" + q);
    }
  }
}

TEST(RestApiTest, UsersListOnlyTheirOwnAdminListsAll) {
  TestServer server;
  int64_t a1 = CreatedId(CreateAudit(server, R"({"url":"http://93.184.216.34/a"})", "alice"));
  int64_t b1 = CreatedId(CreateAudit(server, R"({"url":"http://93.184.216.34/b"})", "bob"));
  int64_t a2 = CreatedId(CreateAudit(server, R"({"url":"http://93.184.216.34/c"})", "alice"));
  int64_t ja = server.CreateJob("alice");
  int64_t jb = server.CreateJob("bob");

  EXPECT_EQ(ListIds(Request(server.port(), "GET", "/api/v1/audits", As("alice"))),
            (std::vector<int64_t>{a2, a1}));
  EXPECT_EQ(ListIds(Request(server.port(), "GET", "/api/v1/audits", As("bob"))),
            (std::vector<int64_t>{b1}));
  EXPECT_TRUE(ListIds(Request(server.port(), "GET", "/api/v1/audits", As("carol"))).empty());
  EXPECT_EQ(ListIds(Request(server.port(), "GET", "/api/v1/audits", As("root", Role::kAdmin))),
            (std::vector<int64_t>{a2, b1, a1}));

  auto alice_jobs = ListIds(Request(server.port(), "GET", "/api/v1/jobs", As("alice")));
  EXPECT_NE(std::find(alice_jobs.begin(), alice_jobs.end(), ja), alice_jobs.end());
  EXPECT_EQ(std::find(alice_jobs.begin(), alice_jobs.end(), jb), alice_jobs.end());
  EXPECT_EQ(std::find(alice_jobs.begin(), alice_jobs.end(), b1), alice_jobs.end());
  auto admin_jobs =
      ListIds(Request(server.port(), "GET", "/api/v1/jobs", As("root", Role::kAdmin)));
  EXPECT_NE(std::find(admin_jobs.begin(), admin_jobs.end(), ja), admin_jobs.end());
  EXPECT_NE(std::find(admin_jobs.begin(), admin_jobs.end(), jb), admin_jobs.end());
  // Even the user's own listing is never widened by a query parameter.
  auto sneaky = ListIds(Request(server.port(), "GET", "/api/v1/jobs?owner=bob", As("alice")));
  EXPECT_EQ(std::find(sneaky.begin(), sneaky.end(), jb), sneaky.end());
}

TEST(RestApiTest, GetAuditAndStatus) {
  TestServer server;
  int64_t id = CreatedId(CreateAudit(server, R"({"url":"http://93.184.216.34/","max_pages":3})"));
  auto res = Request(server.port(), "GET", Path("audits", id), As("alice"));
  ASSERT_EQ(res.status, 200) << res.body;
  auto o = Obj(res.body);
  EXPECT_EQ(o.at("id").as_int64(), id);
  EXPECT_EQ(o.at("url").as_string(), "http://93.184.216.34/");
  EXPECT_EQ(o.at("status").as_string(), "pending");
  EXPECT_EQ(o.at("max_pages").as_int64(), 3);
  EXPECT_FALSE(o.contains("report")) << "no report before completion";

  auto status = Request(server.port(), "GET", Path("audits", id, "/status"), As("alice"));
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.Header("content-type").rfind("application/json", 0), 0u);
  EXPECT_NE(status.Header("cache-control").find("no-store"), std::string::npos)
      << status.Header("cache-control");
  auto p = Obj(status.body);
  EXPECT_EQ(p.at("audit_id").as_int64(), id);
  EXPECT_FALSE(p.contains("job_id"));
  EXPECT_EQ(p.at("status").as_string(), "pending");
  EXPECT_EQ(p.at("progress").as_int64(), 0);
  EXPECT_EQ(p.at("url").as_string(), "http://93.184.216.34/");
  EXPECT_TRUE(p.at("updated_at").is_string());

  // Admin and worker may read it, another user may not.
  EXPECT_EQ(Request(server.port(), "GET", Path("audits", id), As("root", Role::kAdmin)).status,
            200);
  EXPECT_EQ(
      Request(server.port(), "GET", Path("audits", id, "/status"), As("w", Role::kWorker)).status,
      200);
  ExpectError(Request(server.port(), "GET", Path("audits", id), As("bob")), 403, "bob reads");
  ExpectError(Request(server.port(), "GET", Path("audits", id, "/status"), As("bob")), 403,
              "bob reads status");
  ExpectError(Request(server.port(), "GET", Path("audits", id + 1000), As("alice")), 404,
              "unknown");
  ExpectError(Request(server.port(), "GET", Path("audits", id + 1000, "/status"), As("alice")), 404,
              "unknown status");
  // One id space: the audit is a job too.
  auto as_job = Request(server.port(), "GET", Path("jobs", id), As("alice"));
  EXPECT_EQ(as_job.status, 200) << as_job.body;
}

TEST(RestApiTest, CompletedAuditCarriesItsReport) {
  TestServer server;
  int64_t id = CreatedId(CreateAudit(server, R"({"url":"http://93.184.216.34/"})"));
  auto worker = As("w", Role::kWorker);
  auto posted =
      Request(server.port(), "POST", Path("audits", id, "/progress"), worker,
              R"({"status":"completed","geo_score":78.5,"report":{"pages":12,"summary":"ok"}})");
  ASSERT_EQ(posted.status, 202) << posted.body;
  auto res = Request(server.port(), "GET", Path("audits", id), As("alice"));
  ASSERT_EQ(res.status, 200);
  auto o = Obj(res.body);
  EXPECT_EQ(o.at("status").as_string(), "completed");
  EXPECT_EQ(o.at("progress").as_int64(), 100);
  ASSERT_TRUE(o.contains("report")) << res.body;
  EXPECT_EQ(o.at("report").at("pages").as_int64(), 12);
  EXPECT_EQ(o.at("report").at("summary").as_string(), "ok");
}

TEST(RestApiTest, GenericJobIsNotFoundUnderAudits) {
  TestServer server;
  int64_t id = server.CreateJob("alice");
  for (const std::string tail : {"", "/status"})
    ExpectError(Request(server.port(), "GET", Path("audits", id, tail), As("alice")), 404,
                "/audits/{job}" + tail);
  ExpectError(Request(server.port(), "POST", Path("audits", id, "/cancel"), As("alice")), 404,
              "cancel via audits");
  ExpectError(Request(server.port(), "POST", Path("audits", id, "/progress"),
                      As("w", Role::kWorker), R"({"progress":5})"),
              404, "progress via audits");
  ExpectError(Request(server.port(), "GET", "/api/v1/jobs/abc", As("alice")), 404,
              "non-numeric id");
  ExpectError(Request(server.port(), "GET", "/api/v1/jobs/0", As("alice")), 404, "id 0");
}

// ---------------------------------------------------------------- jobs

TEST(RestApiTest, CreateJobReturns201OwnedByCaller) {
  TestServer server;
  auto res = Request(server.port(), "POST", "/api/v1/jobs", As("alice"),
                     R"({"type":"translation","title":"Übersetzung 東京"})");
  ASSERT_EQ(res.status, 201) << res.body;
  auto o = Obj(res.body);
  int64_t id = o.at("id").as_int64();
  EXPECT_GT(id, 0);
  EXPECT_EQ(o.at("type").as_string(), "translation");
  EXPECT_EQ(o.at("title").as_string(), "Übersetzung 東京");
  EXPECT_EQ(o.at("owner").as_string(), "alice");
  EXPECT_EQ(o.at("status").as_string(), "pending");
  EXPECT_EQ(o.at("progress").as_int64(), 0);

  auto got = Request(server.port(), "GET", Path("jobs", id), As("alice"));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Obj(got.body).at("type").as_string(), "translation");
  auto status = Request(server.port(), "GET", Path("jobs", id, "/status"), As("alice"));
  ASSERT_EQ(status.status, 200);
  EXPECT_NE(status.Header("cache-control").find("no-store"), std::string::npos);
  auto p = Obj(status.body);
  EXPECT_EQ(p.at("job_id").as_int64(), id);
  EXPECT_EQ(p.at("type").as_string(), "translation");
  EXPECT_FALSE(p.contains("audit_id"));
  EXPECT_FALSE(p.contains("url"));
  EXPECT_EQ(p.at("status").as_string(), "pending");

  // Title is optional; a type of 64 characters from the allowed set is fine.
  EXPECT_EQ(
      Request(server.port(), "POST", "/api/v1/jobs", As("alice"), R"({"type":"a.b_c-9"})").status,
      201);
  EXPECT_EQ(Request(server.port(), "POST", "/api/v1/jobs", As("alice"),
                    R"({"type":")" + std::string(64, 'x') + R"("})")
                .status,
            201);
  // Another user cannot read it; a worker can.
  ExpectError(Request(server.port(), "GET", Path("jobs", id), As("bob")), 403, "bob reads");
  ExpectError(Request(server.port(), "GET", Path("jobs", id, "/status"), As("bob")), 403,
              "bob status");
  EXPECT_EQ(Request(server.port(), "GET", Path("jobs", id), As("w", Role::kWorker)).status, 200);
  ExpectError(Request(server.port(), "GET", Path("jobs", id + 100), As("alice")), 404,
              "unknown job");
}

TEST(RestApiTest, CreateJobValidatesType) {
  TestServer server;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"missing type", R"({"title":"x"})"},
      {"empty type", R"({"type":""})"},
      {"uppercase", R"({"type":"Translation"})"},
      {"space and bang", R"({"type":"Bad Type!"})"},
      {"slash", R"({"type":"a/b"})"},
      {"65 chars", R"({"type":")" + std::string(65, 'x') + R"("})"},
      {"not a string", R"({"type":7})"},
      {"audit type", R"({"type":"audit","title":"sneaky"})"},
      {"invalid JSON", R"({"type":)"},
      {"title not a string", R"({"type":"t","title":5})"},
  };
  for (const auto& [what, body] : cases)
    ExpectError(Request(server.port(), "POST", "/api/v1/jobs", As("alice"), body), 400, what);
}

TEST(RestApiTest, OnlyAdminAndWorkerMaySetOwner) {
  TestServer server;
  ExpectError(
      Request(server.port(), "POST", "/api/v1/jobs", As("alice"), R"({"type":"t","owner":"bob"})"),
      403, "user names another owner");
  ExpectError(Request(server.port(), "POST", "/api/v1/audits", As("alice"),
                      R"({"url":"http://93.184.216.34/","owner":"bob"})"),
              403, "user names another audit owner");
  // Naming oneself is harmless.
  auto self = Request(server.port(), "POST", "/api/v1/jobs", As("alice"),
                      R"({"type":"t","owner":"alice"})");
  EXPECT_EQ(self.status, 201) << self.body;

  for (Role role : {Role::kAdmin, Role::kWorker}) {
    auto res = Request(server.port(), "POST", "/api/v1/jobs", As("svc", role),
                       R"({"type":"t","owner":"bob"})");
    ASSERT_EQ(res.status, 201) << res.body;
    auto o = Obj(res.body);
    EXPECT_EQ(o.at("owner").as_string(), "bob");
    int64_t id = o.at("id").as_int64();
    EXPECT_EQ(Request(server.port(), "GET", Path("jobs", id), As("bob")).status, 200)
        << "bob owns it";
    EXPECT_EQ(Request(server.port(), "GET", Path("jobs", id), As("alice")).status, 403);
  }
  // Without owner, an admin's job is the admin's.
  auto own =
      Request(server.port(), "POST", "/api/v1/jobs", As("root", Role::kAdmin), R"({"type":"t"})");
  ASSERT_EQ(own.status, 201);
  EXPECT_EQ(Obj(own.body).at("owner").as_string(), "root");
}

// ---------------------------------------------------------------- cancel

TEST(RestApiTest, OwnerCancelsAuditAndJob) {
  TestServer server;
  int64_t audit = CreatedId(CreateAudit(server, R"({"url":"http://93.184.216.34/"})"));
  int64_t job = server.CreateJob("alice");
  ASSERT_EQ(server.Publish(job, R"({"progress":30})"), 202);  // running
  for (auto [kind, id] : {std::pair<std::string, int64_t>{"audits", audit}, {"jobs", job}}) {
    auto res = Request(server.port(), "POST", Path(kind, id, "/cancel"), As("alice"));
    ASSERT_EQ(res.status, 200) << kind << " " << res.body;
    auto o = Obj(res.body);
    EXPECT_EQ(o.at("status").as_string(), "failed") << kind;
    EXPECT_EQ(o.at("error_message").as_string(), "cancelled") << kind;
    auto status = Obj(Request(server.port(), "GET", Path(kind, id, "/status"), As("alice")).body);
    EXPECT_EQ(status.at("status").as_string(), "failed") << kind;
    EXPECT_EQ(status.at("error_message").as_string(), "cancelled") << kind;
    EXPECT_EQ(status.at("error").as_string(), "cancelled") << kind;
    // Terminal now: a second cancel and any update are refused.
    ExpectError(Request(server.port(), "POST", Path(kind, id, "/cancel"), As("alice")), 409,
                kind + " cancel twice");
  }
}

TEST(RestApiTest, CancelPermissions) {
  TestServer server;
  int64_t audit = CreatedId(CreateAudit(server, R"({"url":"http://93.184.216.34/"})"));
  int64_t job = server.CreateJob("alice");
  for (auto [kind, id] : {std::pair<std::string, int64_t>{"audits", audit}, {"jobs", job}}) {
    ExpectError(Request(server.port(), "POST", Path(kind, id, "/cancel"), As("bob")), 403,
                kind + " bob cancels");
    ExpectError(Request(server.port(), "POST", Path(kind, id, "/cancel"), As("w", Role::kWorker)),
                403, kind + " worker cancels");
    ExpectError(Request(server.port(), "POST", Path(kind, id, "/cancel")), 401,
                kind + " anonymous");
    // Still pending after the refusals.
    EXPECT_EQ(Obj(Request(server.port(), "GET", Path(kind, id, "/status"), As("alice")).body)
                  .at("status")
                  .as_string(),
              "pending");
    auto res = Request(server.port(), "POST", Path(kind, id, "/cancel"), As("root", Role::kAdmin));
    ASSERT_EQ(res.status, 200) << kind << " " << res.body;
    EXPECT_EQ(Obj(res.body).at("status").as_string(), "failed");
    EXPECT_EQ(Obj(res.body).at("error_message").as_string(), "cancelled");
  }
  ExpectError(Request(server.port(), "POST", Path("jobs", job + 100, "/cancel"), As("alice")), 404,
              "unknown");
}

TEST(RestApiTest, CompletedJobCannotBeCancelled) {
  TestServer server;
  int64_t job = server.CreateJob("alice");
  ASSERT_EQ(server.Publish(job, R"({"status":"completed"})"), 202);
  ExpectError(Request(server.port(), "POST", Path("jobs", job, "/cancel"), As("alice")), 409,
              "completed");
  auto status = Obj(Request(server.port(), "GET", Path("jobs", job, "/status"), As("alice")).body);
  EXPECT_EQ(status.at("status").as_string(), "completed");
}

// ---------------------------------------------------------------- progress

TEST(RestApiTest, ProgressEndpointIsForWorkersAndAdmins) {
  TestServer server;
  int64_t job = server.CreateJob("alice");
  ExpectError(Request(server.port(), "POST", Path("jobs", job, "/progress"), As("alice"),
                      R"({"progress":10})"),
              403, "owner with a user token");
  ExpectError(
      Request(server.port(), "POST", Path("jobs", job, "/progress"), {}, R"({"progress":10})"), 401,
      "anonymous");
  auto res = Request(server.port(), "POST", Path("jobs", job, "/progress"), As("w", Role::kWorker),
                     R"({"progress":10,"message":"starting","step":"fetch"})");
  ASSERT_EQ(res.status, 202) << res.body;
  EXPECT_EQ(res.Header("content-type").rfind("application/json", 0), 0u);
  EXPECT_EQ(Obj(res.body).at("id").as_int64(), 2) << "creation is event 1";
  // Persisted before the 202: the status shows it at once.
  auto status = Obj(Request(server.port(), "GET", Path("jobs", job, "/status"), As("alice")).body);
  EXPECT_EQ(status.at("progress").as_int64(), 10);
  EXPECT_EQ(status.at("status").as_string(), "running");
  EXPECT_EQ(status.at("message").as_string(), "starting");
  EXPECT_EQ(status.at("step").as_string(), "fetch");

  auto admin = Request(server.port(), "POST", Path("jobs", job, "/progress"),
                       As("root", Role::kAdmin), R"({"progress":20,"data":{"k":"v"}})");
  ASSERT_EQ(admin.status, 202) << admin.body;
  EXPECT_EQ(Obj(admin.body).at("id").as_int64(), 3);
  status = Obj(Request(server.port(), "GET", Path("jobs", job, "/status"), As("alice")).body);
  EXPECT_EQ(status.at("data").at("k").as_string(), "v");

  // Audits take progress the same way.
  int64_t audit = CreatedId(CreateAudit(server, R"({"url":"http://93.184.216.34/"})"));
  auto a = Request(
      server.port(), "POST", Path("audits", audit, "/progress"), As("w", Role::kWorker),
      R"({"status":"running","progress":40,"total_pages":12,"geo_score":78.5,"critical_issues":1})");
  ASSERT_EQ(a.status, 202) << a.body;
  EXPECT_EQ(Obj(a.body).at("id").as_int64(), 2);
  auto ap = Obj(Request(server.port(), "GET", Path("audits", audit, "/status"), As("alice")).body);
  EXPECT_EQ(ap.at("progress").as_int64(), 40);
  EXPECT_EQ(ap.at("total_pages").as_int64(), 12);
  EXPECT_DOUBLE_EQ(ap.at("geo_score").to_number<double>(), 78.5);
  EXPECT_EQ(ap.at("critical_issues").as_int64(), 1);
  ExpectError(Request(server.port(), "POST", Path("audits", audit, "/progress"), As("alice"),
                      R"({"progress":50})"),
              403, "audit owner with a user token");
}

TEST(RestApiTest, ProgressRejectsBadInput) {
  TestServer server;
  int64_t job = server.CreateJob("alice");
  auto worker = As("w", Role::kWorker);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"progress 101", R"({"progress":101})"},
      {"progress -1", R"({"progress":-1})"},
      {"progress string", R"({"progress":"abc"})"},
      {"progress fraction", R"({"progress":12.5})"},
      {"unknown status", R"({"status":"done"})"},
      {"status not a string", R"({"status":1})"},
      {"unknown field", R"({"progress":10,"colour":"red"})"},
      {"invalid JSON", R"({"progress":)"},
      {"not an object", R"([1,2])"},
      {"data not an object", R"({"data":"x"})"},
  };
  for (const auto& [what, body] : cases)
    ExpectError(Request(server.port(), "POST", Path("jobs", job, "/progress"), worker, body), 400,
                what);
  // None of them changed anything.
  auto status = Obj(Request(server.port(), "GET", Path("jobs", job, "/status"), As("alice")).body);
  EXPECT_EQ(status.at("progress").as_int64(), 0);
  EXPECT_EQ(status.at("status").as_string(), "pending");
  // 0 and 100 are in range.
  EXPECT_EQ(server.Publish(job, R"({"progress":0})"), 202);
  EXPECT_EQ(server.Publish(job, R"({"progress":100})"), 202);
}

TEST(RestApiTest, ProgressConflicts) {
  TestServer server;
  int64_t job = server.CreateJob("alice");
  auto worker = As("w", Role::kWorker);
  auto post = [&](const std::string& body) {
    return Request(server.port(), "POST", Path("jobs", job, "/progress"), worker, body);
  };
  ASSERT_EQ(post(R"({"progress":50})").status, 202);
  ExpectError(post(R"({"progress":40})"), 409, "progress decreases");
  EXPECT_EQ(post(R"({"progress":50})").status, 202) << "equal is not a decrease";
  auto done = post(R"({"status":"completed"})");
  ASSERT_EQ(done.status, 202) << done.body;
  EXPECT_EQ(Obj(done.body).at("id").as_int64(), 4);
  ExpectError(post(R"({"progress":100})"), 409, "after completed");
  ExpectError(post(R"({"message":"late"})"), 409, "message after completed");
  ExpectError(post(R"({"status":"running"})"), 409, "back to running");

  int64_t failed = server.CreateJob("alice");
  ASSERT_EQ(server.Publish(failed, R"({"status":"failed","error_message":"boom"})"), 202);
  ExpectError(Request(server.port(), "POST", Path("jobs", failed, "/progress"), worker,
                      R"({"progress":10})"),
              409, "after failed");
  ExpectError(Request(server.port(), "POST", Path("jobs", job + 1000, "/progress"), worker,
                      R"({"progress":10})"),
              404, "unknown job");
}

// ---------------------------------------------------------------- HTTP

TEST(RestApiTest, WrongMethodIs405WithAllow) {
  TestServer server;
  int64_t job = server.CreateJob("alice");
  auto alice = As("alice");
  struct Case {
    std::string method, path, must_allow;
  };
  const std::vector<Case> cases = {
      {"DELETE", "/api/v1/jobs", "POST"},
      {"PUT", "/api/v1/audits", "GET"},
      {"DELETE", Path("jobs", job), "GET"},
      {"POST", Path("jobs", job, "/status"), "GET"},
      {"GET", Path("jobs", job, "/cancel"), "POST"},
      {"GET", Path("jobs", job, "/progress"), "POST"},
      {"GET", "/api/v1/notifications", "POST"},
      {"POST", "/healthz", "GET"},
      {"POST", "/metrics", "GET"},
  };
  for (const auto& c : cases) {
    auto res = Request(server.port(), c.method, c.path, alice, c.method == "GET" ? "" : "{}");
    ExpectError(res, 405, c.method + " " + c.path);
    EXPECT_NE(res.Header("allow").find(c.must_allow), std::string::npos)
        << c.method << " " << c.path << " Allow: " << res.Header("allow");
  }
  auto both = Request(server.port(), "DELETE", "/api/v1/jobs", alice);
  EXPECT_NE(both.Header("allow").find("GET"), std::string::npos) << both.Header("allow");
}

TEST(RestApiTest, UnknownPathIs404Json) {
  TestServer server;
  ExpectError(Request(server.port(), "GET", "/nope"), 404, "/nope");
  ExpectError(Request(server.port(), "GET", "/api/v2/jobs", As("alice")), 404, "/api/v2/jobs");
  ExpectError(Request(server.port(), "GET", "/api/v1/nope", As("alice")), 404, "/api/v1/nope");
  ExpectError(Request(server.port(), "GET", "/api/v1/jobs/1/nope", As("alice")), 404,
              "jobs/1/nope");
}

// The route table's order (App::Route): a public path's wrong method is 405
// at once; under /api/v1 the caller shows credentials first, so neither an
// unknown path nor a wrong method tells a stranger more than 401.
TEST(RestApiTest, CredentialsComeBefore404And405UnderTheApiOnly) {
  TestServer server;
  auto healthz = Request(server.port(), "POST", "/healthz");
  EXPECT_EQ(healthz.status, 405);
  EXPECT_EQ(healthz.Header("allow"), "GET");
  EXPECT_EQ(Request(server.port(), "GET", "/api/v1/nope").status, 401);
  EXPECT_EQ(Request(server.port(), "PUT", "/api/v1/session").status, 401);
  auto put = Request(server.port(), "PUT", "/api/v1/session", As("alice"));
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.Header("allow"), "GET, POST, DELETE");
  EXPECT_EQ(Request(server.port(), "HEAD", "/").status, 200);
}

// A client (or proxy) that sends a whole large body before reading still
// gets the 413: Herald drains the rest instead of resetting the connection.
TEST(RestApiTest, BodyFarOverLimitStillGetsThe413NotAReset) {
  TestServer server([](config::Config& c) { c.http.max_body_bytes = 2048; });
  std::string title(4 * 1024 * 1024, 'x');
  for (int i = 0; i < 3; ++i) {
    auto res = Request(server.port(), "POST", "/api/v1/jobs", As("alice"),
                       R"({"type":"t","title":")" + title + R"("})");
    ExpectError(res, 413, "4 MB body");
  }
}

TEST(RestApiTest, BodyOverLimitIs413) {
  TestServer server([](config::Config& c) { c.http.max_body_bytes = 2048; });
  std::string title(4096, 'x');
  auto res = Request(server.port(), "POST", "/api/v1/jobs", As("alice"),
                     R"({"type":"t","title":")" + title + R"("})");
  ExpectError(res, 413, "4 KB body");
  // Under the limit is fine.
  auto small = Request(server.port(), "POST", "/api/v1/jobs", As("alice"),
                       R"({"type":"t","title":")" + std::string(1000, 'x') + R"("})");
  EXPECT_EQ(small.status, 201) << small.body;
}

TEST(RestApiTest, RateLimitedWith429AndRetryAfter) {
  TestServer server([](config::Config& c) {
    c.http.rate_limit = 1;
    c.http.rate_burst = 2;
  });
  auto alice = As("alice");
  std::vector<int> statuses;
  HttpResponse limited;
  for (int i = 0; i < 5; ++i) {
    auto res = Request(server.port(), "GET", "/api/v1/jobs", alice);
    statuses.push_back(res.status);
    if (res.status == 429) limited = res;
  }
  EXPECT_EQ(statuses[0], 200);
  EXPECT_EQ(statuses[1], 200);
  EXPECT_NE(std::count(statuses.begin(), statuses.end(), 429), 0) << "5 requests, burst 2";
  ExpectError(limited, 429, "limited");
  std::string retry_after = limited.Header("retry-after");
  ASSERT_FALSE(retry_after.empty()) << "429 needs Retry-After";
  EXPECT_GE(std::stoi(retry_after), 1);
  // Another client has its own budget.
  EXPECT_EQ(Request(server.port(), "GET", "/api/v1/jobs", As("bob")).status, 200);
}

TEST(RestApiTest, CorsEchoesAllowedOriginOnly) {
  TestServer server(
      [](config::Config& c) { c.http.cors_allowed_origins = {"https://app.example"}; });
  auto with_origin = [&](const std::string& method, const std::string& path,
                         const std::string& origin, Headers extra = {}) {
    extra.emplace_back("Origin", origin);
    return Request(server.port(), method, path, extra);
  };
  auto alice = As("alice");
  auto ok = with_origin("GET", "/api/v1/jobs", "https://app.example", alice);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.Header("access-control-allow-origin"), "https://app.example");
  EXPECT_EQ(ok.Header("access-control-allow-credentials"), "true");

  auto other = with_origin("GET", "/api/v1/jobs", "https://evil.example", alice);
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.headers.count("access-control-allow-origin"), 0u);
  EXPECT_EQ(other.headers.count("access-control-allow-credentials"), 0u);

  auto none = Request(server.port(), "GET", "/api/v1/jobs", alice);
  EXPECT_EQ(none.headers.count("access-control-allow-origin"), 0u);

  // Error replies carry it too, so the browser can read the error.
  auto unauth = with_origin("GET", "/api/v1/jobs", "https://app.example");
  EXPECT_EQ(unauth.status, 401);
  EXPECT_EQ(unauth.Header("access-control-allow-origin"), "https://app.example");

  // Preflight.
  auto pre = with_origin("OPTIONS", "/api/v1/jobs", "https://app.example",
                         {{"Access-Control-Request-Method", "POST"},
                          {"Access-Control-Request-Headers", "authorization, content-type"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.Header("access-control-allow-origin"), "https://app.example");
  EXPECT_NE(pre.Header("access-control-allow-methods").find("POST"), std::string::npos);
  EXPECT_NE(pre.Header("access-control-allow-headers").find("Authorization"), std::string::npos);
  auto pre_other = with_origin("OPTIONS", "/api/v1/jobs", "https://evil.example",
                               {{"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(pre_other.headers.count("access-control-allow-origin"), 0u);
}

TEST(RestApiTest, NoCorsHeadersWithoutConfiguredOrigins) {
  TestServer server;
  auto res = Request(server.port(), "GET", "/api/v1/jobs",
                     {{"Authorization", "Bearer " + TestServer::Token("alice")},
                      {"Origin", "https://app.example"}});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.headers.count("access-control-allow-origin"), 0u);
}

TEST(RestApiTest, HealthzReportsOk) {
  TestServer server;
  auto res = Request(server.port(), "GET", "/healthz");  // no token needed
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.Header("content-type").rfind("application/json", 0), 0u);
  auto o = Obj(res.body);
  EXPECT_EQ(o.at("status").as_string(), "ok");
  EXPECT_EQ(o.at("db").as_string(), "up");
  if (server.config().sse_source == config::SseSource::kRedis) {  // the PostgreSQL+Redis run
    EXPECT_EQ(o.at("sse_source").as_string(), "redis");
    EXPECT_TRUE(o.at("redis").as_string() == "up" || o.at("redis").as_string() == "down");
    return;
  }
  EXPECT_EQ(o.at("sse_source").as_string(), "memory");
  EXPECT_EQ(o.at("redis").as_string(), "n/a");
}

TEST(RestApiTest, HealthzNamesDbSource) {
  TestServer server([](config::Config& c) { c.sse_source = config::SseSource::kDb; });
  auto o = Obj(Request(server.port(), "GET", "/healthz").body);
  EXPECT_EQ(o.at("sse_source").as_string(), "db");
  EXPECT_EQ(o.at("redis").as_string(), "n/a");
}

// The value of the first sample line `name` or `name{labels}` in Prometheus text.
double MetricValue(const std::string& text, const std::string& name_with_labels) {
  size_t pos = 0;
  while ((pos = text.find(name_with_labels, pos)) != std::string::npos) {
    bool line_start = pos == 0 || text[pos - 1] == '\n';
    size_t after = pos + name_with_labels.size();
    if (line_start && after < text.size() && text[after] == ' ') {
      size_t eol = text.find('\n', after);
      return std::stod(text.substr(after + 1, eol - after - 1));
    }
    pos = after;
  }
  ADD_FAILURE() << "no metric " << name_with_labels << " in:\n" << text;
  return -1;
}

TEST(RestApiTest, MetricsExposeCountersThatMove) {
  TestServer server;
  auto scrape = [&] {
    auto res = Request(server.port(), "GET", "/metrics");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.Header("content-type").rfind("text/plain", 0), 0u) << res.Header("content-type");
    return res.body;
  };
  std::string before = scrape();
  for (const char* name : {"herald_sse_streams_open", "herald_events_published_total",
                           "herald_events_delivered_total", "herald_http_requests_total",
                           "herald_http_request_duration_seconds", "herald_bus_fallback"})
    EXPECT_NE(before.find(name), std::string::npos) << name;
  EXPECT_NE(before.find("# TYPE herald_http_requests_total counter"), std::string::npos);
  EXPECT_EQ(MetricValue(before, "herald_sse_streams_open"), 0);
  double published0 = MetricValue(before, "herald_events_published_total");
  double ok0 = MetricValue(before, "herald_http_requests_total{code=\"2xx\"}");
  double client_err0 = MetricValue(before, "herald_http_requests_total{code=\"4xx\"}");

  int64_t job = server.CreateJob("alice");
  ASSERT_EQ(server.Publish(job, R"({"progress":10})"), 202);
  EXPECT_EQ(Request(server.port(), "GET", "/api/v1/jobs").status, 401);
  auto sse = SseClient::Open(server.port(), Path("sse/jobs", job, "/progress"), As("alice"));
  ASSERT_EQ(sse->status(), 200);
  ASSERT_TRUE(sse->NextEvent(2s));

  // The stream started from the store, so the client can have its event
  // before the fan-out thread has published (and counted) it, a reply can
  // arrive before its request is counted, and a write before its completion
  // counts it delivered: wait (bounded) for the counters to catch up.
  std::string after = scrape();
  for (auto until = std::chrono::steady_clock::now() + 3s;
       std::chrono::steady_clock::now() < until &&
       (MetricValue(after, "herald_events_published_total") < published0 + 2 ||
        MetricValue(after, "herald_events_delivered_total") < 1 ||
        MetricValue(after, "herald_http_requests_total{code=\"2xx\"}") < ok0 + 2 ||
        MetricValue(after, "herald_http_requests_total{code=\"4xx\"}") < client_err0 + 1);
       after = scrape())
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(MetricValue(after, "herald_sse_streams_open"), 1);
  EXPECT_GE(MetricValue(after, "herald_events_published_total"), published0 + 2);
  EXPECT_GE(MetricValue(after, "herald_events_delivered_total"), 1);
  EXPECT_GE(MetricValue(after, "herald_http_requests_total{code=\"2xx\"}"), ok0 + 2);
  EXPECT_GE(MetricValue(after, "herald_http_requests_total{code=\"4xx\"}"), client_err0 + 1);
  EXPECT_GT(MetricValue(after, "herald_http_request_duration_seconds_count"), 0);

  sse->Close();
  // The gauge falls back once the server notices the client left.
  auto deadline = std::chrono::steady_clock::now() + 3s;
  double open = 1;
  while (std::chrono::steady_clock::now() < deadline &&
         (open = MetricValue(scrape(), "herald_sse_streams_open")) != 0)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(open, 0);
}

TEST(RestApiTest, DashboardIsHtml) {
  TestServer server;
  auto res = Request(server.port(), "GET", "/");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.Header("content-type").rfind("text/html", 0), 0u) << res.Header("content-type");
  EXPECT_NE(res.body.find("Herald"), std::string::npos);
}

TEST(RestApiTest, WebRootServesItsOwnIndexInsteadOfTheBuiltInPage) {
  char tmpl[] = "/tmp/herald-webroot-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  { std::ofstream(dir + "/index.html") << "<!doctype html><h1>Our own progress page</h1>"; }
  TestServer server([&](config::Config& c) { c.http.web_root = dir; });
  auto res = Request(server.port(), "GET", "/");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "<!doctype html><h1>Our own progress page</h1>");
  std::filesystem::remove(dir + "/index.html");
  // Gone: the built-in page again, not an error.
  res = Request(server.port(), "GET", "/");
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find("Herald"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------- raw sockets

int RawConnect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool RawSend(int fd, const std::string& data) {
  return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

// Reads one response with a Content-Length body from `fd` (appending to
// `buffer`, which keeps any bytes beyond it). Empty on timeout or EOF.
std::string ReadOneResponse(int fd, std::string& buffer, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    size_t head_end = buffer.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::string head = buffer.substr(0, head_end);
      std::string lower = head;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t cl = lower.find("content-length:");
      size_t body_len = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 15));
      if (buffer.size() >= head_end + 4 + body_len) {
        std::string out = buffer.substr(0, head_end + 4 + body_len);
        buffer.erase(0, head_end + 4 + body_len);
        return out;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
    char chunk[4096];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return "";
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

TEST(RestApiTest, SlowClientIsDisconnectedAfterRequestTimeout) {
  TestServer server([](config::Config& c) { c.http.request_timeout = std::chrono::seconds(1); });
  int fd = RawConnect(server.port());
  ASSERT_GE(fd, 0);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(RawSend(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: "));
  // Stall. The server must close within the timeout (plus slack).
  bool closed = false;
  std::string received;
  auto deadline = start + 3s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0) break;
    char chunk[1024];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) {
      closed = true;
      break;
    }
    received.append(chunk, static_cast<size_t>(n));
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_TRUE(closed) << "server kept a half-sent request open for 3 s";
  EXPECT_GE(elapsed, 800ms) << "closed before the request timeout";
  EXPECT_EQ(received.find("200 OK"), std::string::npos) << "a half request must not be answered";
  // The server is still fine for everyone else.
  EXPECT_EQ(Request(server.port(), "GET", "/healthz").status, 200);
}

TEST(RestApiTest, KeepAliveServesTwoRequestsOnOneConnection) {
  TestServer server;
  int fd = RawConnect(server.port());
  ASSERT_GE(fd, 0);
  std::string buffer;
  ASSERT_TRUE(RawSend(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::string first = ReadOneResponse(fd, buffer, 3s);
  EXPECT_EQ(first.rfind("HTTP/1.1 200", 0), 0u) << first;
  EXPECT_NE(first.find("\"status\":\"ok\""), std::string::npos) << first;
  std::string token = TestServer::Token("alice");
  ASSERT_TRUE(RawSend(fd, "GET /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                              token + "\r\n\r\n"));
  std::string second = ReadOneResponse(fd, buffer, 3s);
  EXPECT_EQ(second.rfind("HTTP/1.1 200", 0), 0u) << second;
  EXPECT_NE(second.find("\"items\""), std::string::npos) << second;
  ::close(fd);
}

// POST /api/v1/progress: many updates in one request, one result per item in
// order; bad items are refused alone; items for one job keep their order.
TEST(RestApiTest, BatchProgressAnswersEveryItemInOrder) {
  TestServer server;
  int64_t job = server.CreateJob("alice");
  int64_t other = server.CreateJob("bob");
  auto worker = As("w", Role::kWorker);
  std::string body =
      std::string("[") + R"({"job_id":)" + std::to_string(job) +
      R"(,"progress":10,"message":"a"},)" + R"({"job_id":)" + std::to_string(other) +
      R"(,"progress":30},)" + R"({"job_id":)" + std::to_string(job) +
      R"(,"progress":5},)" +                                                // decreases: 409
      R"({"job_id":)" + std::to_string(job + 999) + R"(,"progress":5},)" +  // no such job: 404
      R"({"audit_id":)" + std::to_string(job) + R"(,"progress":50},)" +     // not an audit: 404
      R"({"job_id":)" + std::to_string(job) + R"(,"progress":"x"},)" +      // bad field: 400
      R"({"progress":1},)" +                                                // no target: 400
      R"({"job_id":)" + std::to_string(job) + R"(,"status":"completed"}])";
  auto res = Request(server.port(), "POST", "/api/v1/progress", worker, body);
  ASSERT_EQ(res.status, 202) << res.body;
  json::array items = json::parse(res.body).as_array();
  ASSERT_EQ(items.size(), 8u);
  EXPECT_EQ(items[0].at("id").as_int64(), 2);
  EXPECT_EQ(items[1].at("id").as_int64(), 2);
  EXPECT_EQ(items[2].at("status").as_int64(), 409);
  EXPECT_EQ(items[3].at("status").as_int64(), 404);
  EXPECT_EQ(items[4].at("status").as_int64(), 404);
  EXPECT_EQ(items[5].at("status").as_int64(), 400);
  EXPECT_EQ(items[6].at("status").as_int64(), 400);
  EXPECT_EQ(items[7].at("id").as_int64(), 3);
  EXPECT_EQ(items[7].at("status").as_string(), "completed");
  // Durable before the 202: the status endpoint shows the result at once.
  auto status = Obj(Request(server.port(), "GET", Path("jobs", job, "/status"), worker).body);
  EXPECT_EQ(status.at("status").as_string(), "completed");

  ExpectError(Request(server.port(), "POST", "/api/v1/progress", As("alice"), "[]"), 403,
              "users may not publish");
  ExpectError(Request(server.port(), "POST", "/api/v1/progress", worker, "[]"), 400, "empty");
  ExpectError(Request(server.port(), "POST", "/api/v1/progress", worker, R"({"job_id":1})"), 400,
              "not an array");
  EXPECT_EQ(Request(server.port(), "GET", "/api/v1/progress", worker).status, 405);
}

// RFC 9112 framing: what a proxy in front of Herald might read differently
// is refused (request smuggling), and absolute-form targets are accepted.
TEST(RestApiTest, AmbiguousFramingIs400AndAbsoluteFormIsServed) {
  TestServer server;
  auto exchange = [&](const std::string& request) {
    int fd = RawConnect(server.port());
    EXPECT_GE(fd, 0);
    std::string buffer;
    EXPECT_TRUE(RawSend(fd, request));
    std::string response = ReadOneResponse(fd, buffer, 3s);
    ::close(fd);
    return response;
  };
  const std::string token = TestServer::Token("w", auth::Role::kWorker);
  std::string smuggled =
      exchange("POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
               "\r\nContent-Type: application/json\r\nTransfer-Encoding: xchunked\r\n"
               "Content-Length: 17\r\n\r\n{\"type\":\"export\"}");
  EXPECT_EQ(smuggled.rfind("HTTP/1.1 400", 0), 0u) << smuggled;
  EXPECT_NE(smuggled.find("Transfer-Encoding"), std::string::npos) << smuggled;
  std::string no_host = exchange("GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(no_host.rfind("HTTP/1.1 400", 0), 0u) << no_host;
  EXPECT_NE(no_host.find("Host"), std::string::npos) << no_host;
  std::string absolute = exchange("GET http://127.0.0.1:" + std::to_string(server.port()) +
                                  "/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(absolute.rfind("HTTP/1.1 200", 0), 0u) << absolute;
  std::string http10 = exchange("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(http10.rfind("HTTP/1.0 200", 0), 0u) << http10;
}

}  // namespace
}  // namespace herald::test
