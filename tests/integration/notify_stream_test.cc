// The notification stream of the contract (`GET /notify/events`) and the
// notices posted to `POST /api/v1/notifications`, against a real server.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "integration/test_server.h"

namespace herald::test {
namespace {

namespace json = boost::json;
using auth::Role;

constexpr char kNotify[] = "/notify/events";

Headers As(const std::string& sub, Role role = Role::kUser) {
  return TestServer::Bearer(TestServer::Token(sub, role));
}

json::object Data(const SseEvent& e) {
  boost::system::error_code ec;
  json::value v = json::parse(e.data, ec);
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "data is not a JSON object: " << e.data;
    return {};
  }
  return v.as_object();
}

// Opens the caller's notification stream with named events (?events=named:
// `event: audit|job|<type>`, what most tests here look at) and reads past
// `:ok` and `retry:`. The plain default is pinned by the Plain* tests.
std::unique_ptr<SseClient> OpenNotify(const TestServer& server, const std::string& sub,
                                      Role role = Role::kUser, Headers extra = {},
                                      const std::string& query = "?events=named") {
  Headers headers = As(sub, role);
  headers.insert(headers.end(), extra.begin(), extra.end());
  auto sse = SseClient::Open(server.port(), std::string(kNotify) + query, headers);
  EXPECT_EQ(sse->status(), 200) << sub;
  auto ok = sse->Next(2s);
  EXPECT_TRUE(ok && ok->comment && ok->data == "ok") << sub << ": :ok comment first";
  auto retry = sse->Next(2s);
  EXPECT_TRUE(retry && retry->retry) << sub << ": retry line second";
  return sse;
}

HttpResponse PostNotice(const TestServer& server, const std::string& body,
                        const Headers& who = As("w", Role::kWorker)) {
  return Request(server.port(), "POST", "/api/v1/notifications", who, body);
}

// Posts a notice; returns its id (0 on failure).
int64_t Notice(const TestServer& server, const std::string& user, const std::string& type,
               const std::string& data_json = "{}") {
  auto res = PostNotice(
      server, R"({"user":")" + user + R"(","type":")" + type + R"(","data":)" + data_json + "}");
  if (res.status != 202) {
    ADD_FAILURE() << "notice: " << res.status << " " << res.body;
    return 0;
  }
  return json::parse(res.body).at("id").as_int64();
}

int64_t Id(const SseEvent& e) {
  EXPECT_TRUE(e.has_id) << "event without id: " << e.event;
  try {
    return std::stoll(e.id);
  } catch (...) {
    ADD_FAILURE() << "id is not a number: '" << e.id << "'";
    return -1;
  }
}

TEST(NotifyStreamTest, ConnectWrites200RetryAndOk) {
  TestServer server;
  auto sse = SseClient::Open(server.port(), kNotify, As("alice"));
  ASSERT_EQ(sse->status(), 200);
  EXPECT_EQ(sse->Header("content-type").rfind("text/event-stream", 0), 0u)
      << sse->Header("content-type");
  EXPECT_EQ(sse->Header("cache-control"), "no-cache, no-transform");
  // The contract (seed 004): ":ok" and a blank line are the very first
  // bytes; then retry:, which joins the next block.
  auto ok = sse->Next(2s);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->comment);
  EXPECT_EQ(ok->data, "ok");
  auto retry = sse->Next(2s);
  ASSERT_TRUE(retry);
  EXPECT_TRUE(retry->retry);
  EXPECT_EQ(retry->data, "5000");
  EXPECT_EQ(sse->raw_body().rfind(":ok\n\nretry: 5000\n", 0), 0u) << sse->raw_body();
  // Nothing else until something happens.
  EXPECT_FALSE(sse->Next(300ms));
  EXPECT_FALSE(sse->closed());
}

TEST(NotifyStreamTest, RefusesWithoutValidToken) {
  TestServer server;
  for (const Headers& headers : {Headers{}, TestServer::Bearer("not-a-token")}) {
    auto res = Request(server.port(), "GET", kNotify, headers);
    EXPECT_EQ(res.status, 401) << res.body;
    EXPECT_EQ(res.Header("content-type").rfind("application/json", 0), 0u);
    EXPECT_TRUE(json::parse(res.body).as_object().contains("error")) << res.body;
  }
  // EventSource passes the token in the query.
  auto query =
      SseClient::Open(server.port(), std::string(kNotify) + "?token=" + TestServer::Token("alice"));
  EXPECT_EQ(query->status(), 200);
}

TEST(NotifyStreamTest, JobEventsReachTheOwnerOnly) {
  TestServer server;
  auto alice = OpenNotify(server, "alice");
  auto bob = OpenNotify(server, "bob");

  int64_t job = server.CreateJob("alice", "translation");
  auto created = alice->NextEvent(2s);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->event, "job");
  auto c = Data(*created);
  EXPECT_EQ(c.at("job_id").as_int64(), job);
  EXPECT_EQ(c.at("type").as_string(), "translation");
  EXPECT_EQ(c.at("status").as_string(), "pending");

  ASSERT_EQ(server.Publish(job, R"({"progress":30,"message":"a third"})"), 202);
  auto update = alice->NextEvent(2s);
  ASSERT_TRUE(update);
  EXPECT_EQ(update->event, "job");
  auto u = Data(*update);
  EXPECT_EQ(u.at("job_id").as_int64(), job);
  EXPECT_EQ(u.at("progress").as_int64(), 30);
  EXPECT_EQ(u.at("status").as_string(), "running");
  EXPECT_EQ(u.at("message").as_string(), "a third");
  EXPECT_GT(Id(*update), Id(*created));

  // Bob's first event is his own job, not any of alice's.
  int64_t bobs = server.CreateJob("bob");
  auto first_for_bob = bob->NextEvent(2s);
  ASSERT_TRUE(first_for_bob);
  EXPECT_EQ(first_for_bob->event, "job");
  EXPECT_EQ(Data(*first_for_bob).at("job_id").as_int64(), bobs) << first_for_bob->data;
  // ...and alice does not see bob's.
  ASSERT_EQ(server.Publish(job, R"({"progress":40})"), 202);
  auto next_for_alice = alice->NextEvent(2s);
  ASSERT_TRUE(next_for_alice);
  EXPECT_EQ(Data(*next_for_alice).at("job_id").as_int64(), job) << next_for_alice->data;
  EXPECT_EQ(Data(*next_for_alice).at("progress").as_int64(), 40);
}

TEST(NotifyStreamTest, AuditEventsAreNamedAudit) {
  TestServer server([](config::Config& c) { c.audit_allow_private = false; });
  auto alice = OpenNotify(server, "alice");
  auto res = Request(server.port(), "POST", "/api/v1/audits", As("alice"),
                     R"({"url":"http://93.184.216.34/"})");
  ASSERT_EQ(res.status, 201) << res.body;
  int64_t id = json::parse(res.body).at("id").as_int64();
  auto e = alice->NextEvent(2s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "audit");
  auto d = Data(*e);
  EXPECT_EQ(d.at("audit_id").as_int64(), id);
  EXPECT_EQ(d.at("url").as_string(), "http://93.184.216.34/");
  EXPECT_FALSE(d.contains("job_id"));

  auto posted = Request(server.port(), "POST", "/api/v1/audits/" + std::to_string(id) + "/progress",
                        As("w", Role::kWorker), R"({"progress":25,"step":"crawl"})");
  ASSERT_EQ(posted.status, 202);
  e = alice->NextEvent(2s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "audit");
  EXPECT_EQ(Data(*e).at("progress").as_int64(), 25);
  EXPECT_EQ(Data(*e).at("step").as_string(), "crawl");
}

TEST(NotifyStreamTest, AdminGetsEveryUsersJobEvents) {
  TestServer server;
  auto admin = OpenNotify(server, "root", Role::kAdmin);
  int64_t a = server.CreateJob("alice");
  int64_t b = server.CreateJob("bob");
  ASSERT_EQ(server.Publish(b, R"({"progress":60})"), 202);
  std::vector<std::pair<int64_t, int64_t>> seen;  // job, progress
  for (int i = 0; i < 3; ++i) {
    auto e = admin->NextEvent(2s);
    ASSERT_TRUE(e) << "event " << i;
    EXPECT_EQ(e->event, "job");
    seen.emplace_back(Data(*e).at("job_id").as_int64(), Data(*e).at("progress").as_int64());
  }
  EXPECT_EQ(seen, (std::vector<std::pair<int64_t, int64_t>>{{a, 0}, {b, 0}, {b, 60}}));
}

TEST(NotifyStreamTest, PostingNoticesIsForWorkersAndAdminsWithValidInput) {
  TestServer server;
  const std::string good = R"({"user":"alice","type":"i18n_debug","data":{"k":1}})";
  auto user = PostNotice(server, good, As("alice"));
  EXPECT_EQ(user.status, 403) << user.body;
  EXPECT_TRUE(json::parse(user.body).as_object().contains("error"));
  EXPECT_EQ(PostNotice(server, good, {}).status, 401);

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"bad type", R"({"user":"alice","type":"Bad Type!","data":{}})"},
      {"uppercase type", R"({"user":"alice","type":"Notice","data":{}})"},
      {"long type", R"({"user":"alice","type":")" + std::string(65, 'x') + R"(","data":{}})"},
      {"missing type", R"({"user":"alice","data":{}})"},
      {"missing user", R"({"type":"i18n_debug","data":{}})"},
      {"empty user", R"({"user":"","type":"i18n_debug"})"},
      {"user not a string", R"({"user":5,"type":"i18n_debug"})"},
      {"invalid JSON", R"({"user":"alice",)"},
  };
  for (const auto& [what, body] : bad) {
    auto res = PostNotice(server, body);
    EXPECT_EQ(res.status, 400) << what << ": " << res.body;
    EXPECT_TRUE(json::parse(res.body).as_object().contains("error")) << what;
  }

  auto worker = PostNotice(server, good);
  ASSERT_EQ(worker.status, 202) << worker.body;
  int64_t first = json::parse(worker.body).at("id").as_int64();
  EXPECT_GT(first, 0);
  auto admin = PostNotice(server, R"({"user":"*","type":"a.b-c_9","data":{"x":true}})",
                          As("root", Role::kAdmin));
  ASSERT_EQ(admin.status, 202) << admin.body;
  EXPECT_GT(json::parse(admin.body).at("id").as_int64(), first);
  EXPECT_EQ(
      PostNotice(server, R"({"user":"alice","type":")" + std::string(64, 'x') + R"("})").status,
      202)
      << "64 characters are allowed";
}

TEST(NotifyStreamTest, NoticeReachesItsUserOnly) {
  TestServer server;
  auto alice = OpenNotify(server, "alice");
  auto bob = OpenNotify(server, "bob");
  int64_t id = Notice(server, "alice", "i18n_debug", R"({"key":"greeting","missing":["de","fr"]})");
  auto e = alice->NextEvent(2s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "i18n_debug");
  EXPECT_EQ(Id(*e), id);
  auto d = Data(*e);
  EXPECT_EQ(d.at("type").as_string(), "i18n_debug");
  EXPECT_EQ(d.at("data").at("key").as_string(), "greeting");
  EXPECT_EQ(d.at("data").at("missing").as_array().size(), 2u);
  ASSERT_TRUE(d.contains("created_at"));
  EXPECT_TRUE(d.at("created_at").is_string());
  EXPECT_EQ(d.size(), 3u) << e->data;

  // Bob's next event is his own sentinel, not alice's notice.
  int64_t sentinel = Notice(server, "bob", "ping");
  auto b = bob->NextEvent(2s);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->event, "ping");
  EXPECT_EQ(Id(*b), sentinel);
}

TEST(NotifyStreamTest, BroadcastReachesEveryone) {
  TestServer server;
  auto alice = OpenNotify(server, "alice");
  auto bob = OpenNotify(server, "bob");
  auto admin = OpenNotify(server, "root", Role::kAdmin);
  int64_t id = Notice(server, "*", "maintenance", R"({"at":"tonight"})");
  for (auto* sse : {alice.get(), bob.get(), admin.get()}) {
    auto e = sse->NextEvent(2s);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->event, "maintenance");
    EXPECT_EQ(Id(*e), id);
    EXPECT_EQ(Data(*e).at("data").at("at").as_string(), "tonight");
    EXPECT_FALSE(sse->NextEvent(200ms)) << "exactly once";
  }
}

TEST(NotifyStreamTest, IdsStrictlyIncrease) {
  TestServer server;
  auto alice = OpenNotify(server, "alice");
  int64_t job = server.CreateJob("alice");
  std::string posted = " one#" + std::to_string(Notice(server, "alice", "one"));
  ASSERT_EQ(server.Publish(job, R"({"progress":10})"), 202);
  posted += " two#" + std::to_string(Notice(server, "*", "two"));
  server.CreateJob("bob");  // not alice's: takes an id she never sees
  ASSERT_EQ(server.Publish(job, R"({"progress":20})"), 202);
  posted += " three#" + std::to_string(Notice(server, "alice", "three"));
  std::vector<std::string> names;
  std::string seen;  // what came, for the message if one does not
  int64_t last = 0;
  for (int i = 0; i < 6; ++i) {
    auto e = alice->NextEvent(2s);
    ASSERT_TRUE(e) << "event " << i << " did not come within 2 s; came before it:" << seen
                   << "; notices posted:" << posted;
    seen += " " + e->event + "#" + e->id;
    names.push_back(e->event);
    int64_t id = Id(*e);
    EXPECT_GT(id, last) << "event " << i << " (" << e->event << ")";
    last = id;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"job", "one", "job", "two", "job", "three"}));
}

TEST(NotifyStreamTest, ReconnectWithLastEventIdGetsExactlyWhatWasMissed) {
  TestServer server;
  int64_t job = server.CreateJob("alice");
  auto first = OpenNotify(server, "alice");
  int64_t seen = Notice(server, "alice", "before");
  auto e = first->NextEvent(2s);
  ASSERT_TRUE(e);
  ASSERT_EQ(Id(*e), seen);
  first->Close();

  // Missed while away: three notices and a job update for alice, plus
  // events that are not hers.
  std::vector<std::pair<int64_t, std::string>> missed;
  missed.emplace_back(Notice(server, "alice", "missed-1"), "missed-1");
  Notice(server, "bob", "not-yours");
  missed.emplace_back(Notice(server, "alice", "missed-2"), "missed-2");
  server.CreateJob("bob");
  ASSERT_EQ(server.Publish(job, R"({"progress":50})"), 202);
  missed.emplace_back(0, "job");
  missed.emplace_back(Notice(server, "alice", "missed-3"), "missed-3");

  auto again = OpenNotify(server, "alice", Role::kUser, {{"Last-Event-ID", std::to_string(seen)}});
  int64_t last = seen;
  for (const auto& [id, name] : missed) {
    auto m = again->NextEvent(2s);
    ASSERT_TRUE(m) << "missing " << name;
    EXPECT_EQ(m->event, name);
    if (id) {
      EXPECT_EQ(Id(*m), id) << name;
    }
    if (name == "job") {
      EXPECT_EQ(Data(*m).at("progress").as_int64(), 50);
    }
    EXPECT_GT(Id(*m), last);
    last = Id(*m);
  }
  EXPECT_FALSE(again->NextEvent(300ms)) << "nothing beyond what was missed";
  // Then live, without duplicates.
  int64_t live = Notice(server, "alice", "live");
  auto l = again->NextEvent(2s);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->event, "live");
  EXPECT_EQ(Id(*l), live);

  // A reconnect at the newest id replays nothing.
  auto latest = OpenNotify(server, "alice", Role::kUser, {{"Last-Event-ID", std::to_string(live)}});
  EXPECT_FALSE(latest->NextEvent(300ms));
}

TEST(NotifyStreamTest, SendsKeepaliveWhenIdle) {
  TestServer server([](config::Config& c) { c.sse.heartbeat = std::chrono::seconds(1); });
  auto sse = OpenNotify(server, "alice");
  auto start = std::chrono::steady_clock::now();
  auto c = sse->Next(3s);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->comment);
  EXPECT_EQ(c->data, "keepalive");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 800ms);
  auto again = sse->Next(3s);
  ASSERT_TRUE(again) << "keepalives keep coming";
  EXPECT_TRUE(again->comment);
  EXPECT_EQ(again->data, "keepalive");
  // Seed 004's bytes: ":keepalive", no space.
  EXPECT_NE(sse->raw_body().find("\n:keepalive\n"), std::string::npos) << sse->raw_body();
}

// The default, as seed 004's `onmessage` consumer expects: plain `data:`
// events (no `event:` line) carrying "event" in the data, replays too.
TEST(NotifyStreamTest, PlainDataEventsByDefaultCarryTheirEventInTheData) {
  TestServer server;
  auto sse = OpenNotify(server, "alice", Role::kUser, {}, "");
  const int64_t job = server.CreateJob("alice");
  auto created = sse->NextEvent(2s);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->event, "") << "no event: line";
  auto d = Data(*created);
  EXPECT_EQ(d.at("event").as_string(), "job");
  EXPECT_EQ(d.at("job_id").as_int64(), job);
  EXPECT_EQ(d.at("status").as_string(), "pending");
  const int64_t notice = Notice(server, "alice", "i18n_debug", R"({"key":"greeting"})");
  auto n = sse->NextEvent(2s);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->event, "");
  EXPECT_EQ(Id(*n), notice);
  auto nd = Data(*n);
  EXPECT_EQ(nd.at("event").as_string(), "notice");
  EXPECT_EQ(nd.at("type").as_string(), "i18n_debug");
  EXPECT_EQ(nd.at("data").at("key").as_string(), "greeting");
  EXPECT_TRUE(nd.contains("created_at"));
  EXPECT_EQ(sse->raw_body().find("event:"), std::string::npos) << sse->raw_body();

  // A reconnect replays in the same form.
  auto again = OpenNotify(server, "alice", Role::kUser,
                          {{"Last-Event-ID", std::to_string(Id(*created))}}, "");
  auto replayed = again->NextEvent(2s);
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replayed->event, "");
  EXPECT_EQ(Id(*replayed), notice);
  EXPECT_EQ(Data(*replayed).at("event").as_string(), "notice");
}

TEST(NotifyStreamTest, DoesNotEndWhenAJobCompletes) {
  TestServer server;
  auto sse = OpenNotify(server, "alice");
  int64_t job = server.CreateJob("alice");
  ASSERT_TRUE(sse->NextEvent(2s));
  ASSERT_EQ(server.Publish(job, R"({"status":"completed"})"), 202);
  auto done = sse->NextEvent(2s);
  ASSERT_TRUE(done);
  EXPECT_EQ(Data(*done).at("status").as_string(), "completed");
  int64_t failed = server.CreateJob("alice");
  ASSERT_EQ(server.Publish(failed, R"({"status":"failed","error_message":"x"})"), 202);
  ASSERT_TRUE(sse->NextEvent(2s));  // created
  auto f = sse->NextEvent(2s);
  ASSERT_TRUE(f);
  EXPECT_EQ(Data(*f).at("status").as_string(), "failed");
  EXPECT_FALSE(sse->closed());
  int64_t id = Notice(server, "alice", "after");
  auto after = sse->NextEvent(2s);
  ASSERT_TRUE(after) << "the stream must stay open after a job ends";
  EXPECT_EQ(Id(*after), id);
}

TEST(NotifyStreamTest, EndsWithStreamTimeoutAfterMaxDuration) {
  TestServer server([](config::Config& c) { c.sse.max_duration = std::chrono::seconds(2); });
  auto start = std::chrono::steady_clock::now();
  auto sse = OpenNotify(server, "alice");
  auto e = sse->NextEvent(5s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, "error");
  EXPECT_EQ(e->data, R"({"error": "Stream timeout"})");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1900ms);
  EXPECT_TRUE(sse->WaitClosed(2s));
}

TEST(NotifyStreamTest, ConcurrentUpdatesToManyJobsAllArrive) {
  // Several workers reporting at once on different jobs of one user: the
  // notification stream must carry every one of those changes.
  TestServer server;
  constexpr int kJobs = 6;
  constexpr int kUpdates = 40;
  std::vector<int64_t> jobs;
  for (int i = 0; i < kJobs; ++i) jobs.push_back(server.CreateJob("alice"));
  int64_t base = Notice(server, "w", "base");  // the newest id before the burst
  auto sse = OpenNotify(server, "alice");
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < kJobs; ++i) {
    workers.emplace_back([&, job = jobs[static_cast<size_t>(i)]] {
      for (int p = 1; p <= kUpdates; ++p)
        if (server.Publish(job, R"({"progress":)" + std::to_string(p) + "}") != 202) ++failures;
    });
  }
  std::map<int64_t, std::set<int64_t>> seen;
  int received = 0;
  int64_t last = 0;
  while (received < kJobs * kUpdates) {
    auto e = sse->NextEvent(2s);
    if (!e) break;
    ++received;
    int64_t id = Id(*e);
    EXPECT_GT(id, last);
    last = id;
    auto d = Data(*e);
    seen[d.at("job_id").as_int64()].insert(d.at("progress").as_int64());
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(received, kJobs * kUpdates)
      << "updates lost on the notification stream (conflated for slowness: "
      << server.runtime().metrics().events_dropped_slow.load() << ")";
  for (int64_t job : jobs)
    EXPECT_EQ(seen[job].size(), static_cast<size_t>(kUpdates)) << "job " << job;

  // The store has every one of them: a replay from before the burst gets all.
  auto replay = OpenNotify(server, "alice", Role::kUser, {{"Last-Event-ID", std::to_string(base)}});
  int replayed = 0;
  while (replayed < kJobs * kUpdates && replay->NextEvent(2s)) ++replayed;
  EXPECT_EQ(replayed, kJobs * kUpdates) << "replay after the burst";
}

}  // namespace
}  // namespace herald::test
