// The terminal client (herald audit / herald watch) against a real server
// on loopback: the commands' output and exit codes, end to end.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "integration/test_server.h"

namespace herald::cli {
namespace {

using namespace std::chrono_literals;
using test::TestServer;

struct Captured {
  std::ostringstream out;
  std::ostringstream err;
  Console console{out, err};
  Captured() {
    console.tty = false;
    console.width = 80;
    console.stream.default_retry = 50ms;
  }
};

ClientOptions OptionsFor(const TestServer& server, const std::string& user = "alice") {
  ClientOptions options;
  options.server = "http://127.0.0.1:" + std::to_string(server.port());
  options.token = TestServer::Token(user);
  return options;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(CliTest, WatchShowsProgressOfAGenericJobAndExitsZero) {
  TestServer server;
  int64_t id = server.CreateJob("alice", "translation");
  ASSERT_GT(id, 0);
  std::thread worker([&] {
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(
        server.Publish(
            id,
            R"({"status":"running","progress":40,"step":"translate","message":"Translating chapter 2"})"),
        202);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(server.Publish(id, R"({"status":"completed","message":"All done"})"), 202);
  });
  Captured io;
  int rc = RunWatch(OptionsFor(server), id, io.console);
  worker.join();
  EXPECT_EQ(rc, 0) << io.err.str();
  std::string out = io.out.str();
  EXPECT_TRUE(Contains(out, "0% pending")) << out;
  EXPECT_TRUE(Contains(out, "40% translate: Translating chapter 2")) << out;
  EXPECT_TRUE(Contains(out, "100%")) << out;
  EXPECT_TRUE(Contains(out, "Job " + std::to_string(id) + " completed: All done")) << out;
}

TEST(CliTest, WatchInTtyModeRedrawsOneLine) {
  TestServer server;
  int64_t id = server.CreateJob("alice");
  std::thread worker([&] {
    std::this_thread::sleep_for(300ms);
    server.Publish(id, R"({"status":"completed","message":"ok"})");
  });
  Captured io;
  io.console.tty = true;
  int rc = RunWatch(OptionsFor(server), id, io.console);
  worker.join();
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(Contains(io.out.str(), "\r[####################] 100%  ok\x1b[K\n")) << io.out.str();
}

TEST(CliTest, WatchOfAFailedJobExitsOneWithTheError) {
  TestServer server;
  int64_t id = server.CreateJob("alice");
  std::thread worker([&] {
    std::this_thread::sleep_for(300ms);
    server.Publish(id, R"({"status":"failed","error_message":"disk full"})");
  });
  Captured io;
  int rc = RunWatch(OptionsFor(server), id, io.console);
  worker.join();
  EXPECT_EQ(rc, 1);
  EXPECT_TRUE(Contains(io.out.str(), "Job " + std::to_string(id) + " failed: disk full"))
      << io.out.str();
}

TEST(CliTest, WatchOfAnAlreadyFinishedJobPrintsItsOutcome) {
  TestServer server;
  int64_t id = server.CreateJob("alice");
  ASSERT_EQ(server.Publish(id, R"({"status":"completed","message":"earlier"})"), 202);
  Captured io;
  EXPECT_EQ(RunWatch(OptionsFor(server), id, io.console), 0);
  EXPECT_TRUE(Contains(io.out.str(), "completed: earlier")) << io.out.str();
}

TEST(CliTest, WatchReconnectsAfterTheServerEndsTheStream) {
  TestServer server([](config::Config& c) {
    c.sse.max_duration = 1s;  // the server ends each stream after a second
    c.sse.retry = 50ms;
  });
  int64_t id = server.CreateJob("alice");
  std::thread worker([&] {
    std::this_thread::sleep_for(200ms);
    server.Publish(id, R"({"status":"running","progress":30,"message":"first"})");
    std::this_thread::sleep_for(1800ms);  // past the first stream's end
    server.Publish(id, R"({"status":"completed","message":"second"})");
  });
  Captured io;
  int rc = RunWatch(OptionsFor(server), id, io.console);
  worker.join();
  EXPECT_EQ(rc, 0) << io.err.str();
  EXPECT_TRUE(Contains(io.out.str(), "30% first")) << io.out.str();
  EXPECT_TRUE(Contains(io.out.str(), "completed: second")) << io.out.str();
}

TEST(CliTest, StopWatchingLeavesTheJobRunningAndExits130) {
  TestServer server;
  int64_t id = server.CreateJob("alice");
  Captured io;
  std::atomic<bool> stop{false};
  io.console.should_stop = [&] { return stop.load(); };
  std::thread user([&] {
    std::this_thread::sleep_for(300ms);
    stop = true;  // what the SIGINT handler does
  });
  int rc = RunWatch(OptionsFor(server), id, io.console);
  user.join();
  EXPECT_EQ(rc, 130);
  std::string n = std::to_string(id);
  EXPECT_TRUE(
      Contains(io.err.str(), "stopped watching; job " + n + " continues (herald watch " + n + ")"))
      << io.err.str();
  // The job itself is untouched and still accepts updates.
  EXPECT_EQ(server.Publish(id, R"({"status":"running","progress":5})"), 202);
}

TEST(CliTest, AuditWithABadUrlExitsTwoWithTheServersError) {
  TestServer server;
  Captured io;
  int rc = RunAudit(OptionsFor(server), "ftp://x", 5, io.console);
  EXPECT_EQ(rc, 2);
  EXPECT_TRUE(io.err.str().starts_with("herald: ")) << io.err.str();
  EXPECT_GT(io.err.str().size(), std::string("herald: \n").size());
  EXPECT_EQ(io.out.str(), "");
}

// The test server runs no audit workers, so the test plays the worker: it
// publishes to the audit (the first job of a fresh server, id 1) as soon as
// RunAudit has created it.
void PlayWorker(TestServer& server, const std::string& first, const std::string& last) {
  for (int i = 0; i < 200 && server.Publish(1, first) != 202; ++i)
    std::this_thread::sleep_for(20ms);
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(server.Publish(1, last), 202);
}

TEST(CliTest, AuditShowsProgressThenTheReportSummary) {
  TestServer server([](config::Config& c) { c.audit_allow_private = true; });
  std::thread worker([&] {
    PlayWorker(
        server,
        R"js({"status":"running","progress":50,"step":"crawl","message":"Crawling pages (1/2)"})js",
        R"js({"status":"completed","geo_score":72.5,"critical_issues":1,"high_issues":0,
                   "medium_issues":0,"low_issues":2,
                   "report":{"geo_score":72.5,"issue_counts":{"critical":1,"high":0,"medium":0,"low":2},
                     "findings":{"critical":[{"check_id":"llms_txt","page":"http://127.0.0.1:1/",
                       "message":"No llms.txt","fix":"Add /llms.txt"}],"high":[],"medium":[],
                       "low":[{"check_id":"meta","page":"http://127.0.0.1:1/","message":"Short description","fix":"Write more"}]}}})js");
  });
  Captured io;
  int rc = RunAudit(OptionsFor(server), "http://127.0.0.1:1/", 2, io.console);
  worker.join();
  EXPECT_EQ(rc, 0) << io.err.str();
  std::string out = io.out.str();
  EXPECT_TRUE(Contains(out, "Audit 1 started for http://127.0.0.1:1/")) << out;
  EXPECT_TRUE(Contains(out, "50% crawl: Crawling pages (1/2)")) << out;
  EXPECT_TRUE(Contains(out, "GEO score 72.5 / 100\nIssues: 1 critical, 0 high, 0 medium, 2 low\n"))
      << out;
  EXPECT_TRUE(Contains(out,
                       "  [critical] No llms.txt (llms_txt)\n      page: http://127.0.0.1:1/\n"
                       "      fix:  Add /llms.txt\n  [low] Short description (meta)"))
      << out;
  // Where the full report is.
  EXPECT_TRUE(out.ends_with("Full report: herald watch 1 --report audit-1.md (or .json)\n")) << out;
}

TEST(CliTest, AuditReportFileIsWrittenAndTheSummarySaysWhere) {
  TestServer server([](config::Config& c) { c.audit_allow_private = true; });
  std::thread worker([&] {
    PlayWorker(server, R"js({"status":"running","progress":50})js",
               R"js({"status":"completed","geo_score":72.5,
                   "report":{"geo_score":72.5,"issue_counts":{"critical":1,"high":0,"medium":0,"low":0},
                     "findings":{"critical":[{"check_id":"llms_txt","page":"http://127.0.0.1:1/",
                       "message":"No llms.txt","fix":"Add /llms.txt"}]}}})js");
  });
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("herald-cli-report-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ClientOptions options = OptionsFor(server);
  options.report_path = (dir / "site.md").string();
  Captured io;
  int rc = RunAudit(options, "http://127.0.0.1:1/", 2, io.console);
  worker.join();
  EXPECT_EQ(rc, 0) << io.err.str();
  EXPECT_TRUE(Contains(io.out.str(), "Full report (Markdown): " + options.report_path + "\n"))
      << io.out.str();
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string md = read(options.report_path);
  EXPECT_TRUE(md.starts_with("# GEO audit of http://127.0.0.1:1/\n")) << md;
  EXPECT_TRUE(Contains(md, "**GEO score: 72.5 / 100**")) << md;
  EXPECT_FALSE(std::filesystem::exists(options.report_path + ".part"));

  // herald watch of the finished audit writes the JSON one.
  options.report_path = (dir / "site.JSON").string();
  Captured again;
  EXPECT_EQ(RunWatch(options, 1, again.console), 0) << again.err.str();
  EXPECT_TRUE(Contains(again.out.str(), "Full report (JSON): " + options.report_path + "\n"))
      << again.out.str();
  auto saved = boost::json::parse(read(options.report_path)).as_object();
  EXPECT_EQ(saved.at("id").as_int64(), 1);
  EXPECT_EQ(saved.at("report").at("geo_score").as_double(), 72.5);
  std::filesystem::remove_all(dir);
}

TEST(CliTest, AReportFileThatCannotBeWrittenIsRefusedBeforeTheAuditStarts) {
  TestServer server([](config::Config& c) { c.audit_allow_private = true; });
  for (const std::string path : {"report.pdf", "/nonexistent-dir/report.md", "/tmp"}) {
    ClientOptions options = OptionsFor(server);
    options.report_path = path;
    Captured io;
    EXPECT_EQ(RunAudit(options, "http://127.0.0.1:1/", 2, io.console), kExitBadInput) << path;
    EXPECT_TRUE(io.err.str().starts_with("herald: --report " + path)) << io.err.str();
    EXPECT_EQ(io.err.str().find('\n'), io.err.str().size() - 1) << "one line: " << io.err.str();
  }
  // Nothing was started.
  auto list = test::Request(server.port(), "GET", "/api/v1/audits",
                            TestServer::Bearer(TestServer::Token("alice")));
  EXPECT_TRUE(Contains(list.body, "\"items\":[]")) << list.body;
  // A generic job has no report.
  int64_t job = server.CreateJob("alice");
  ClientOptions options = OptionsFor(server);
  options.report_path = "job.md";
  Captured io;
  EXPECT_EQ(RunWatch(options, job, io.console), kExitBadInput);
  EXPECT_TRUE(Contains(io.err.str(), "--report is for audits")) << io.err.str();
}

TEST(CliTest, AuditThatFailsExitsOneWithItsError) {
  TestServer server([](config::Config& c) { c.audit_allow_private = true; });
  std::thread worker([&] {
    PlayWorker(server, R"js({"status":"running","progress":10})js",
               R"js({"status":"failed","error_message":"site unreachable"})js");
  });
  Captured io;
  int rc = RunAudit(OptionsFor(server), "http://127.0.0.1:1/", 2, io.console);
  worker.join();
  EXPECT_EQ(rc, 1);
  EXPECT_TRUE(Contains(io.out.str(), "Audit 1 failed: site unreachable\n")) << io.out.str();
  // herald watch on the finished audit finds it is an audit and says the same.
  Captured again;
  EXPECT_EQ(RunWatch(OptionsFor(server), 1, again.console), 1);
  EXPECT_TRUE(Contains(again.out.str(), "Audit 1 failed: site unreachable\n")) << again.out.str();
}

TEST(CliTest, WatchWithoutTheRightTokenExplains) {
  TestServer server;
  int64_t id = server.CreateJob("alice");
  Captured io;
  ClientOptions options = OptionsFor(server);
  options.token.clear();
  EXPECT_EQ(RunWatch(options, id, io.console), kExitAuth);
  EXPECT_TRUE(Contains(io.err.str(), "401")) << io.err.str();
  const std::string err = io.err.str();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one line: " << err;
  // Someone else's job: 403 or 404, never 1 (which means "the job failed").
  Captured other;
  options.token = TestServer::Token("mallory");
  const int rc = RunWatch(options, id, other.console);
  EXPECT_TRUE(rc == kExitAuth || rc == kExitNotFound) << rc << " " << other.err.str();
}

TEST(CliTest, ExitCodesTellNotFoundFromFailedFromUnreachable) {
  TestServer server;
  Captured missing;
  EXPECT_EQ(RunWatch(OptionsFor(server), 999, missing.console), kExitNotFound);
  EXPECT_EQ(missing.err.str(), "herald: no job or audit 999\n");
  Captured bad;
  EXPECT_EQ(RunAudit(OptionsFor(server), "ftp://example.com/", 5, bad.console), kExitBadInput);
}

TEST(CliTest, UnreachableServerGivesAReadableMessage) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // nothing listens there now
  ClientOptions options;
  options.server = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  Captured io;
  EXPECT_EQ(RunWatch(options, 7, io.console), kExitUnavailable);
  EXPECT_EQ(io.err.str(),
            "herald: cannot reach Herald at " + options.server + " (is `herald serve` running?)\n");
  Captured io2;
  EXPECT_EQ(RunAudit(options, "https://example.com", 5, io2.console), kExitUnavailable);
  EXPECT_TRUE(Contains(io2.err.str(), "cannot reach Herald at")) << io2.err.str();
}

}  // namespace
}  // namespace herald::cli
