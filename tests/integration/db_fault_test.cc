// A database that hangs or fills up, against the real server: every call
// ends within HERALD_DB_TIMEOUT_SECONDS with 503 {"error": "database
// unavailable"} naming nothing, /healthz says "db":"down", nothing answered
// 202 is lost, and all of it recovers without a restart.
//
// PostgreSQL is stopped with SIGSTOP (its own throwaway cluster: the shared
// one serves other tests); SQLite lives on a small tmpfs that is filled up.
// Every wait is bounded.

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/test_server.h"
#include "support/postgres_server.h"

namespace herald::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using Millis = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const Headers& Worker() {
  static const Headers h = TestServer::Bearer(TestServer::Token("worker-1", auth::Role::kWorker));
  return h;
}
const Headers& Alice() {
  static const Headers h = TestServer::Bearer(TestServer::Token("alice"));
  return h;
}

struct Timed {
  HttpResponse response;
  Millis took;
};
Timed TimedRequest(uint16_t port, const std::string& method, const std::string& path,
                   const Headers& headers, const std::string& body = "") {
  const auto start = SteadyClock::now();
  auto res = Request(port, method, path, headers, body, 10s);
  return {res, std::chrono::duration_cast<Millis>(SteadyClock::now() - start)};
}

std::string Progress(int p) {
  return R"({"status":"running","progress":)" + std::to_string(p) + "}";
}

// What a client may see of a database outage: the one sentence.
void ExpectUnavailable(const Timed& t, const std::string& what) {
  EXPECT_EQ(t.response.status, 503) << what << ": " << t.response.body;
  EXPECT_EQ(t.response.body, R"({"error":"database unavailable"})") << what;
}

bool WaitHealthy(uint16_t port, Millis limit) {
  const auto end = SteadyClock::now() + limit;
  while (SteadyClock::now() < end) {
    if (Request(port, "GET", "/healthz", {}, "", 5s).status == 200) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// Reads progress events until `want` arrives; false if it does not.
bool StreamReaches(SseClient& sse, int want, Millis limit) {
  const auto end = SteadyClock::now() + limit;
  while (SteadyClock::now() < end) {
    auto e = sse.NextEvent(std::chrono::duration_cast<Millis>(end - SteadyClock::now()));
    if (!e) return false;
    auto v = json::parse(e->data);
    if (auto* p = v.as_object().if_contains("progress");
        p && static_cast<int>(p->to_number<double>()) == want) {
      return true;
    }
  }
  return false;
}

// A server on `database_url` (1 s database timeout) with one job of
// alice's and a stream open on it.
struct Watched {
  explicit Watched(const std::string& database_url)
      : server([&](config::Config& c) {
          c.database_url = database_url;
          c.db_timeout = 1s;
        }),
        port(server.port()),
        id(server.CreateJob("alice")) {
    EXPECT_GT(id, 0);
    sse = SseClient::Open(port, "/api/v1/sse/jobs/" + std::to_string(id) + "/progress", Alice());
    EXPECT_EQ(sse->status(), 200);
  }
  TestServer server;
  uint16_t port;
  int64_t id;
  std::unique_ptr<SseClient> sse;
};

TEST(DbFaultTest, HungPostgresFailsEachCallWithinTheTimeoutAndRecovers) {
  PostgresServer pg;  // its own: this test stops it
  Watched w(pg.CreateDatabase("hung"));
  auto& [server, port, id, sse] = w;
  ASSERT_EQ(server.Publish(id, Progress(10)), 202);
  ASSERT_TRUE(StreamReaches(*sse, 10, 5s));

  pg.Pause();
  const std::string path = "/api/v1/jobs/" + std::to_string(id);
  auto publish = TimedRequest(port, "POST", path + "/progress", Worker(), Progress(20));
  ExpectUnavailable(publish, "a publish");
  EXPECT_LT(publish.took, 3s) << "a publish hung for " << publish.took.count() << " ms";
  auto list = TimedRequest(port, "GET", "/api/v1/jobs", Alice());
  ExpectUnavailable(list, "the job list");
  EXPECT_LT(list.took, 3s) << "the job list hung for " << list.took.count() << " ms";
  auto health = TimedRequest(port, "GET", "/healthz", {});
  EXPECT_EQ(health.response.status, 503) << health.response.body;
  EXPECT_NE(health.response.body.find(R"("db":"down")"), std::string::npos);
  EXPECT_LT(health.took, 3s) << "/healthz hung for " << health.took.count() << " ms";
  for (const auto* body : {&publish.response.body, &list.response.body}) {
    EXPECT_EQ(body->find("127.0.0.1"), std::string::npos);
    EXPECT_EQ(body->find(std::to_string(pg.port())), std::string::npos);
  }

  pg.Resume();
  ASSERT_TRUE(WaitHealthy(port, 15s)) << "never healthy again after PostgreSQL answered";
  ASSERT_EQ(server.Publish(id, Progress(30)), 202);
  // The refused update was never applied; the accepted ones all arrive.
  EXPECT_TRUE(StreamReaches(*sse, 30, 5s));
  auto status = json::parse(Request(port, "GET", path + "/status", Alice()).body);
  EXPECT_EQ(static_cast<int>(status.at("progress").to_number<double>()), 30);
  EXPECT_FALSE(sse->closed());
}

// A tmpfs of its own, so the disk can be filled without touching the
// machine's. Needs the right to mount (root, as the test suite runs in CI).
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) {
    dir_ = (fs::temp_directory_path() / ("herald-full-" + std::to_string(::getpid()))).string();
    fs::create_directories(dir_);
    const std::string options = "size=" + size;
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  bool mounted() const { return mounted_; }
  const std::string& dir() const { return dir_; }
  // Writes a filler file until the disk is full.
  void Fill() {
    std::ofstream out(dir_ + "/filler", std::ios::binary);
    const std::string block(64 * 1024, 'x');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  void Free() { fs::remove(dir_ + "/filler"); }

 private:
  std::string dir_;
  bool mounted_ = false;
};

TEST(DbFaultTest, FullSqliteDiskAnswers503LosesNothingAndRecovers) {
  SmallDisk disk("8m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  Watched w("sqlite://" + disk.dir() + "/herald.db");
  auto& [server, port, id, sse] = w;

  disk.Fill();
  // Updates that still fit (in space SQLite had already) are accepted; the
  // first that needs more is refused. Progress must not go down, so each
  // update carries the next percentage up to 99 and then repeats it.
  const std::string path = "/api/v1/jobs/" + std::to_string(id);
  int accepted = 0;
  Timed refused{};
  for (int i = 1; i <= 5000; ++i) {
    auto t = TimedRequest(port, "POST", path + "/progress", Worker(),
                          R"({"status":"running","progress":)" + std::to_string(std::min(i, 99)) +
                              R"(,"message":"update )" + std::to_string(i) + R"("})");
    if (t.response.status != 202) {
      refused = t;
      break;
    }
    accepted = i;
  }
  ExpectUnavailable(refused, "an update on a full disk");
  EXPECT_EQ(refused.response.body.find(disk.dir()), std::string::npos);
  auto health = Request(port, "GET", "/healthz", {}, "", 5s);
  EXPECT_EQ(health.status, 503) << health.body;
  EXPECT_NE(health.body.find(R"("db":"down")"), std::string::npos) << health.body;

  disk.Free();
  ASSERT_TRUE(WaitHealthy(port, 10s)) << "never healthy again after space was freed";
  ASSERT_EQ(server.Publish(id, R"({"status":"running","progress":99,"message":"after"})"), 202);
  // The accepted updates reached the stream in order, then the one after.
  int seen = 0;
  bool after = false;
  const auto end = SteadyClock::now() + 10s;
  while (!after && SteadyClock::now() < end) {
    auto e = sse->NextEvent(2s);
    if (!e) break;
    auto o = json::parse(e->data).as_object();
    const auto* m = o.if_contains("message");
    if (m == nullptr || !m->is_string()) continue;
    const std::string text(m->as_string());
    if (text == "after") {
      after = true;
    } else if (text.starts_with("update ")) {
      // A client that falls behind may skip intermediate states, never
      // see them out of order, and always gets the newest.
      EXPECT_GT(std::stoi(text.substr(7)), seen);
      seen = std::stoi(text.substr(7));
    }
  }
  EXPECT_EQ(seen, accepted) << "the last accepted update never arrived";
  EXPECT_TRUE(after);
}

}  // namespace
}  // namespace herald::test
