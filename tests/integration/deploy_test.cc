// The deployment files, exercised for real: two `herald serve` processes on
// one SQLite database (SSE_SOURCE=db, so each sees the other's updates
// within a second) behind an nginx that runs deploy/nginx.conf itself (only
// the upstream addresses and the listen port are substituted, and a minimal
// main config wraps it). Through nginx: `nginx -t` accepts the file; a
// stream's first event arrives at once and later updates within 2 s (no
// buffering); heartbeats pass; a reconnect with Last-Event-ID (header,
// cookie token, query token) gets exactly the missed events from either
// instance; requests alternate between the instances; stopping or killing
// one instance breaks no new request; REST and the notification stream work.
// Also: deploy/herald.env.example is accepted by the binary and names every
// variable config.cc reads, and the systemd units pass `systemd-analyze
// verify` (skipped where nginx or systemd-analyze is not installed).
// Everything listens on 127.0.0.1; every wait is bounded; every child
// process is stopped and every temp dir removed in teardown.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth/jwt.h"
#include "support/child_process.h"
#include "support/http_client.h"
#include "support/nginx_server.h"

#ifndef HERALD_BINARY
#error "HERALD_BINARY must name the herald executable"
#endif
#ifndef HERALD_SOURCE_DIR
#error "HERALD_SOURCE_DIR must name the source tree"
#endif

namespace herald::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

const std::string kDeployDir = HERALD_SOURCE_DIR "/deploy";

std::string FindProgram(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates)
    if (::access(c.c_str(), X_OK) == 0) return c;
  return "";
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// A program other than herald (nginx, systemd-analyze), started with `args`
// and a bare PATH, output captured to files; killed (with the processes it
// forked, found by parent pid) if still running on destruction.
class Program {
 public:
  Program(const std::string& path, const std::vector<std::string>& args, const std::string& dir,
          const std::string& name)
      : out_path_(dir + "/" + name + ".stdout"), err_path_(dir + "/" + name + ".stderr") {
    std::vector<std::string> argv_s = {path};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    std::vector<char*> argv, envp;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::chdir(dir.c_str()) != 0) ::_exit(126);
      int in = ::open("/dev/null", O_RDONLY);
      int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (in < 0 || out < 0 || err < 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    EXPECT_GT(pid_, 0) << "fork failed";
  }
  ~Program() { Stop(); }

  bool running() const { return pid_ > 0 && !status_; }

  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    if (pid_ <= 0) return std::nullopt;
    auto deadline = SteadyClock::now() + timeout;
    for (;;) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(status) ? WEXITSTATUS(status)
                                    : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        return status_;
      }
      if (r < 0 || SteadyClock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(10ms);
    }
  }

  // SIGTERM (nginx: fast shutdown, workers included), then SIGKILL for the
  // process and its children if it does not exit within 5 s.
  void Stop() {
    if (!running()) return;
    std::vector<pid_t> children = Children();
    ::kill(pid_, SIGTERM);
    if (Wait(5s)) return;
    for (pid_t c : children) ::kill(c, SIGKILL);
    ::kill(pid_, SIGKILL);
    Wait(5s);
  }

  std::string Output() const { return ReadFile(out_path_) + ReadFile(err_path_); }

 private:
  // Processes whose parent is this one (nginx's workers).
  std::vector<pid_t> Children() const {
    std::vector<pid_t> out;
    DIR* proc = ::opendir("/proc");
    if (!proc) return out;
    while (dirent* e = ::readdir(proc)) {
      pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
      if (pid <= 0) continue;
      std::string stat = ReadFile("/proc/" + std::string(e->d_name) + "/stat");
      size_t paren = stat.rfind(')');
      if (paren == std::string::npos) continue;
      std::istringstream rest(stat.substr(paren + 1));
      std::string state;
      pid_t ppid = 0;
      rest >> state >> ppid;
      if (ppid == pid_) out.push_back(pid);
    }
    ::closedir(proc);
    return out;
  }

  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_path_, err_path_;
};

// Runs a program to completion (at most 10 s); returns its exit code (-1 on
// timeout) and its stdout+stderr in *output.
int RunProgram(const std::string& path, const std::vector<std::string>& args,
               const std::string& dir, const std::string& name, std::string* output) {
  Program p(path, args, dir, name);
  auto code = p.Wait(10s);
  if (output) *output = p.Output();
  if (!code) {
    p.Stop();
    return -1;
  }
  return *code;
}

// A stream opened the way a browser's EventSource opens it, including
// Accept-Encoding: a compressing proxy would hold events back until a block
// fills. nginx answers in chunked encoding, which SseClient decodes.
std::unique_ptr<SseClient> OpenThroughProxy(uint16_t port, const std::string& target,
                                            Headers headers,
                                            std::chrono::milliseconds timeout = 5s) {
  headers.emplace_back("Cache-Control", "no-cache");
  headers.emplace_back("Accept-Encoding", "gzip, deflate, br");
  return SseClient::Open(port, target, headers, timeout);
}

json::object Data(const SseEvent& e) { return json::parse(e.data).as_object(); }

// herald_http_requests_total{code="2xx"} from a /metrics text; -1 if absent.
int64_t Requests2xx(const std::string& metrics) {
  const std::string key = "herald_http_requests_total{code=\"2xx\"} ";
  size_t at = metrics.find(key);
  if (at == std::string::npos) return -1;
  return std::stoll(metrics.substr(at + key.size()));
}

// Established TCP connections whose local port is `port` (the server side of
// connections to it), from /proc/net/tcp.
int EstablishedAt(uint16_t port) {
  std::istringstream in(ReadFile("/proc/net/tcp"));
  std::string line;
  std::getline(in, line);  // header
  int n = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state;
    f >> slot >> local >> remote >> state;
    size_t colon = local.find(':');
    if (colon == std::string::npos) continue;
    if (std::stoul(local.substr(colon + 1), nullptr, 16) == port && state == "01") ++n;
  }
  return n;
}

// A temp dir removed on scope exit, whatever the test's outcome.
struct TempDir {
  explicit TempDir(const std::string& prefix) {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
  std::string path;
};

// KEY=value lines of a systemd EnvironmentFile (comments and blanks skipped).
Env ParseEnvFile(const std::string& text) {
  Env env;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    env[line.substr(start, eq - start)] = line.substr(eq + 1);
  }
  return env;
}

// ---------------------------------------------------------------------------
// Two herald serve + nginx running deploy/nginx.conf.

class DeployTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/herald-deploy-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // nginx's workers run as an unprivileged user when the test runs as root:
    // they must be able to reach the temp paths under this directory.
    ::chmod(dir_.c_str(), 0755);
    std::random_device rd;
    secret_ = "deploy-secret-" + std::to_string(rd()) + "-" + std::to_string(rd());

    std::set<uint16_t> used;
    for (uint16_t* port : {&ports_[0], &ports_[1]}) {
      do *port = FreePort();
      while (used.count(*port));
      used.insert(*port);
    }
    // One after the other, so the schema migration runs once.
    StartHerald(0);
    StartHerald(1);
    ASSERT_FALSE(HasFatalFailure());
    // deploy/nginx.conf itself: only the upstream ports and `listen` change.
    nginx_ = std::make_unique<NginxServer>(dir_, ports_[0], ports_[1]);
    ASSERT_TRUE(nginx_->Start()) << "nginx with deploy/nginx.conf did not start:\n"
                                 << nginx_->Logs();
    nginx_port_ = nginx_->port();
    nginx_test_output_ = ReadFile(dir_ + "/nginx-t.out");
  }

  void TearDown() override {
    nginx_.reset();
    heralds_[0].reset();  // SIGKILL whatever still runs
    heralds_[1].reset();
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  Env ServeEnv(int i) const {
    return {{"JWT_SECRET", secret_},
            {"HERALD_LISTEN", "127.0.0.1:" + std::to_string(ports_[i])},
            {"DATABASE_URL", "sqlite://" + dir_ + "/h.db"},
            {"SSE_SOURCE", "db"},
            {"SSE_FALLBACK_DB_INTERVAL_SECONDS", "1"},
            {"SSE_HEARTBEAT_SECONDS", "1"},
            {"HERALD_WORKERS", "0"},
            {"HERALD_THREADS", "2"},
            {"HERALD_DRAIN_SECONDS", "1"},
            {"HERALD_LOG_LEVEL", "info"}};
  }

  void StartHerald(int i) {
    heralds_[i] = std::make_unique<Child>(std::vector<std::string>{"serve"}, ServeEnv(i), dir_,
                                          "herald" + std::to_string(i));
    auto deadline = SteadyClock::now() + 10s;
    while (SteadyClock::now() < deadline) {
      if (heralds_[i]->Wait(0ms)) break;
      if (Request(ports_[i], "GET", "/healthz", {}, "", 500ms).status == 200) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "herald " << i << " did not become healthy: " << heralds_[i]->Stderr();
  }

  std::string Diagnostics() const {
    std::string s = "\n--- nginx access.log\n" + ReadFile(dir_ + "/access.log") +
                    "--- nginx error.log\n" + ReadFile(dir_ + "/error.log");
    for (int i = 0; i < 2; ++i)
      if (heralds_[i]) s += "--- herald " + std::to_string(i) + "\n" + heralds_[i]->Stderr();
    return s;
  }

  std::string Mint(const std::string& sub, auth::Role role = auth::Role::kUser) const {
    auth::MintOptions o;
    o.subject = sub;
    o.role = role;
    return auth::MintHs256(secret_, o, std::chrono::system_clock::now());
  }
  Headers Bearer(const std::string& token) const { return {{"Authorization", "Bearer " + token}}; }
  Headers Alice() const { return Bearer(Mint("alice")); }
  Headers Worker() const { return Bearer(Mint("robot", auth::Role::kWorker)); }

  // Creates a job through nginx; returns its id (0 on failure).
  int64_t CreateJob() {
    auto res = Request(nginx_port_, "POST", "/api/v1/jobs", Alice(),
                       R"({"type":"translation","title":"docs to French"})");
    if (res.status != 201) {
      ADD_FAILURE() << "create job through nginx: " << res.status << " " << res.body
                    << Diagnostics();
      return 0;
    }
    return json::parse(res.body).at("id").as_int64();
  }

  // A progress update through nginx; returns the HTTP status.
  int Publish(int64_t id, const std::string& body) {
    return Request(nginx_port_, "POST", "/api/v1/jobs/" + std::to_string(id) + "/progress",
                   Worker(), body)
        .status;
  }
  int Progress(int64_t id, int p) {
    return Publish(id, R"({"progress":)" + std::to_string(p) + R"(,"message":"step )" +
                           std::to_string(p) + "\"}");
  }

  static std::string StreamPath(int64_t id) {
    return "/api/v1/sse/jobs/" + std::to_string(id) + "/progress";
  }

  std::unique_ptr<SseClient> OpenStream(int64_t id, const Headers& headers,
                                        const std::string& query = "") {
    auto s = OpenThroughProxy(nginx_port_, StreamPath(id) + query, headers);
    EXPECT_EQ(s->status(), 200) << Diagnostics();
    return s;
  }

  // How often instance i logged "SSE connection established for job {id}".
  size_t Established(int i, int64_t id) const {
    if (!heralds_[i]) return 0;
    const std::string line = "SSE connection established for job " + std::to_string(id) + "\n";
    std::string log = heralds_[i]->Stderr();
    size_t n = 0;
    for (size_t at = log.find(line); at != std::string::npos; at = log.find(line, at + 1)) ++n;
    return n;
  }

  // Which instance serves the only stream of job `id` (from the logs, within
  // 3 s); -1 if none says so.
  int InstanceServing(int64_t id) const {
    auto deadline = SteadyClock::now() + 3s;
    while (SteadyClock::now() < deadline) {
      if (Established(0, id) > 0) return 0;
      if (Established(1, id) > 0) return 1;
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  // Reads `count` data events; checks their ids are first, first+1, ... and
  // their progress values are `progress` in order.
  void ExpectEvents(SseClient& s, int64_t first, const std::vector<int>& progress,
                    std::chrono::milliseconds each = 3s) {
    for (size_t i = 0; i < progress.size(); ++i) {
      auto e = s.NextEvent(each);
      ASSERT_TRUE(e) << "event " << first + static_cast<int64_t>(i) << " missing" << Diagnostics();
      EXPECT_EQ(e->id, std::to_string(first + static_cast<int64_t>(i)));
      EXPECT_EQ(Data(*e).at("progress").as_int64(), progress[i]) << e->data;
    }
  }

  std::string dir_;
  std::string secret_;
  uint16_t ports_[2] = {0, 0};
  uint16_t nginx_port_ = 0;
  std::unique_ptr<Child> heralds_[2];
  std::unique_ptr<NginxServer> nginx_;
  std::string nginx_test_output_;
};

TEST_F(DeployTest, NginxAcceptsTheConfigAndProxiesHealth) {
  EXPECT_NE(nginx_test_output_.find("syntax is ok"), std::string::npos) << nginx_test_output_;
  EXPECT_NE(nginx_test_output_.find("test is successful"), std::string::npos) << nginx_test_output_;

  auto health = Request(nginx_port_, "GET", "/healthz");
  ASSERT_EQ(health.status, 200) << health.body << Diagnostics();
  auto o = json::parse(health.body).as_object();
  EXPECT_EQ(o.at("status").as_string(), "ok");
  EXPECT_EQ(o.at("sse_source").as_string(), "db");
  EXPECT_EQ(o.at("db").as_string(), "up");
  EXPECT_TRUE(o.contains("redis")) << health.body;

  // /metrics is allowed from loopback (the monitoring network).
  auto metrics = Request(nginx_port_, "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("herald_sse_streams_open"), std::string::npos);
}

TEST_F(DeployTest, RestWorksThroughNginx) {
  int64_t id = CreateJob();
  ASSERT_GT(id, 0);
  const std::string base = "/api/v1/jobs/" + std::to_string(id);

  auto status = Request(nginx_port_, "GET", base + "/status", Alice());
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(json::parse(status.body).at("status").as_string(), "pending");

  auto posted = Request(nginx_port_, "POST", base + "/progress", Worker(),
                        R"({"progress":30,"step":"translate","message":"Page 3/10"})");
  ASSERT_EQ(posted.status, 202) << posted.body;
  EXPECT_EQ(json::parse(posted.body).at("id").as_int64(), 2);

  // Read back twice: round robin sends the two reads to both instances, and
  // both read the one database.
  for (int i = 0; i < 2; ++i) {
    status = Request(nginx_port_, "GET", base + "/status", Alice());
    ASSERT_EQ(status.status, 200) << status.body;
    auto o = json::parse(status.body).as_object();
    EXPECT_EQ(o.at("status").as_string(), "running");
    EXPECT_EQ(o.at("progress").as_int64(), 30);
  }
  auto job = Request(nginx_port_, "GET", base, Alice());
  EXPECT_EQ(job.status, 200) << job.body;
  auto list = Request(nginx_port_, "GET", "/api/v1/jobs?limit=5", Alice());
  EXPECT_EQ(list.status, 200) << list.body;

  // Herald's own JSON errors pass through nginx unchanged.
  auto anonymous = Request(nginx_port_, "GET", base + "/status");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_NE(anonymous.body.find("\"error\""), std::string::npos) << anonymous.body;
  auto other = Request(nginx_port_, "GET", base + "/status", Bearer(Mint("mallory")));
  EXPECT_EQ(other.status, 403) << other.body;
  auto missing = Request(nginx_port_, "GET", "/api/v1/jobs/999999/status", Alice());
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("\"error\""), std::string::npos) << missing.body;

  // The dashboard too.
  auto page = Request(nginx_port_, "GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.Header("content-type").find("text/html"), std::string::npos);
}

TEST_F(DeployTest, OversizedBodyIsRefusedWithoutTakingAnInstanceOut) {
  // Beyond HERALD_MAX_BODY_BYTES (1 MiB): nginx answers itself, in Herald's
  // error format. (Were it passed on, Herald would answer 413 and close
  // unread, nginx would fail writing, answer 502 and count the instance as
  // failed for fail_timeout.)
  std::string big(1500 * 1000, 'a');
  for (int i = 0; i < 3; ++i) {
    auto res = Request(nginx_port_, "POST", "/api/v1/jobs", Alice(), big);
    EXPECT_EQ(res.status, 413) << res.body << Diagnostics();
    EXPECT_NE(res.body.find("\"error\""), std::string::npos) << res.body;
  }
  // Both instances still take requests, at once.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Request(nginx_port_, "GET", "/healthz").status, 200) << Diagnostics();
    EXPECT_GT(CreateJob(), 0);
  }
  // Just under the limit, the body reaches Herald, which answers it.
  std::string title(1000 * 1000, 'x');
  auto res = Request(nginx_port_, "POST", "/api/v1/jobs", Alice(),
                     R"({"type":"big","title":")" + title + "\"}");
  EXPECT_TRUE(res.status == 201 || res.status == 400)
      << res.status << " " << res.body.substr(0, 200);
}

TEST_F(DeployTest, RequestsAlternateBetweenInstances) {
  // Herald counts a request once its answer is written, which can be just
  // after the client has read it. So a sample is taken when the count has
  // settled: the next direct read 50 ms later sees only that read added.
  struct Sample {
    int64_t value;  // herald_http_requests_total{code="2xx"}
    int reads;      // direct /metrics reads of that instance before this one
  };
  int reads[2] = {0, 0};
  auto read = [&](int i) {
    Sample s{Requests2xx(Request(ports_[i], "GET", "/metrics").body), reads[i]};
    ++reads[i];
    return s;
  };
  auto settled = [&](int i) {
    Sample s = read(i);
    auto deadline = SteadyClock::now() + 3s;
    while (SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
      Sample next = read(i);
      if (next.value == s.value + 1) break;
      s = next;
    }
    return s;
  };
  Sample before[2] = {settled(0), settled(1)};
  ASSERT_GE(before[0].value, 0);
  ASSERT_GE(before[1].value, 0);
  constexpr int kRequests = 10;
  for (int i = 0; i < kRequests; ++i)
    ASSERT_EQ(Request(nginx_port_, "GET", "/healthz").status, 200) << Diagnostics();
  Sample after[2] = {settled(0), settled(1)};
  int64_t served[2];
  for (int i = 0; i < 2; ++i)
    served[i] = after[i].value - before[i].value - (after[i].reads - before[i].reads);
  EXPECT_EQ(served[0] + served[1], kRequests) << Diagnostics();
  EXPECT_GE(served[0], kRequests / 2 - 1) << "instance 0 served " << served[0] << Diagnostics();
  EXPECT_GE(served[1], kRequests / 2 - 1) << "instance 1 served " << served[1] << Diagnostics();

  // Upstream keep-alive: the ten requests left idle connections from nginx
  // to each instance open (one each: the requests came one at a time).
  // Without `proxy_http_version 1.1` and `Connection ""`, nginx would have
  // closed every one after its response.
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 2; ++i) {
    int open = EstablishedAt(ports_[i]);
    EXPECT_GE(open, 1) << "no kept-alive connection from nginx to instance " << i;
    EXPECT_LE(open, 2) << "nginx opened a connection per request to instance " << i;
  }
}

TEST_F(DeployTest, StreamIsNotBufferedAndHeartbeatsPassThrough) {
  int64_t id = CreateJob();
  ASSERT_GT(id, 0);

  auto opened = SteadyClock::now();
  auto s = OpenStream(id, Alice());
  ASSERT_EQ(s->status(), 200);
  EXPECT_NE(s->Header("content-type").find("text/event-stream"), std::string::npos);
  EXPECT_NE(s->Header("cache-control").find("no-cache"), std::string::npos);
  EXPECT_EQ(s->Header("content-encoding"), "") << "the event stream must not be compressed";

  // At once: retry, then the current state (event 1). Not after a buffer
  // fills, nor after the next heartbeat.
  auto retry = s->Next(2s);
  ASSERT_TRUE(retry) << "nothing within 2 s of connecting" << Diagnostics();
  ASSERT_TRUE(retry->retry) << retry->data;
  EXPECT_EQ(retry->data, "5000");
  auto first = s->Next(2s);
  ASSERT_TRUE(first) << Diagnostics();
  ASSERT_FALSE(first->comment) << "a heartbeat came before the initial state: " << first->data;
  EXPECT_EQ(first->id, "1");
  EXPECT_EQ(Data(*first).at("status").as_string(), "pending");
  EXPECT_LT(SteadyClock::now() - opened, 2s);

  // An update reaches the stream within 2 s, whichever instance took it
  // (the other one polls the shared database every second).
  auto sent = SteadyClock::now();
  ASSERT_EQ(Progress(id, 40), 202);
  auto update = s->NextEvent(2s);
  ASSERT_TRUE(update) << "update not delivered within 2 s" << Diagnostics();
  EXPECT_LT(SteadyClock::now() - sent, 2s);
  EXPECT_EQ(update->id, "2");
  EXPECT_EQ(Data(*update).at("progress").as_int64(), 40);

  // Idle: the heartbeat comment (SSE_HEARTBEAT_SECONDS=1) comes through.
  bool heartbeat = false;
  auto deadline = SteadyClock::now() + 3s;
  while (!heartbeat && SteadyClock::now() < deadline) {
    auto e = s->Next(3s);
    if (!e) break;
    ASSERT_TRUE(e->comment) << "unexpected event while idle: " << e->data;
    heartbeat = e->data == "heartbeat";
  }
  EXPECT_TRUE(heartbeat) << "no heartbeat through nginx within 3 s" << Diagnostics();

  // The terminal event, then the response ends (nginx's last chunk).
  ASSERT_EQ(Publish(id, R"({"status":"completed","data":{"pages":10}})"), 202);
  auto done = s->NextEvent(3s);
  ASSERT_TRUE(done) << Diagnostics();
  EXPECT_EQ(done->id, "3");
  EXPECT_EQ(Data(*done).at("status").as_string(), "completed");
  EXPECT_TRUE(s->WaitClosed(3s)) << "the stream did not end after the terminal event";
}

TEST_F(DeployTest, ReconnectWithLastEventIdGetsExactlyTheMissedEvents) {
  int64_t id = CreateJob();
  ASSERT_GT(id, 0);
  {
    auto s = OpenStream(id, Alice());
    ExpectEvents(*s, 1, {0});
    ASSERT_EQ(Progress(id, 10), 202);
    ExpectEvents(*s, 2, {10});
  }  // the client goes away after event 2

  for (int p : {20, 30, 40}) ASSERT_EQ(Progress(id, p), 202);  // events 3, 4, 5

  // Two clients reconnect with Last-Event-ID: 2 at the same moment, one with
  // the token in the Authorization header, one in the auth_token cookie
  // (headers and cookies pass through nginx). Round robin puts them on
  // different instances; each gets exactly 3, 4, 5 (no initial state, no
  // duplicate), then goes live.
  size_t before[2] = {Established(0, id), Established(1, id)};
  {
    auto a = OpenStream(id, {{"Authorization", "Bearer " + Mint("alice")}, {"Last-Event-ID", "2"}});
    auto b = OpenStream(
        id, {{"Cookie", "theme=dark; auth_token=" + Mint("alice")}, {"Last-Event-ID", "2"}});
    ASSERT_EQ(a->status(), 200);
    ASSERT_EQ(b->status(), 200);
    for (SseClient* s : {a.get(), b.get()}) ExpectEvents(*s, 3, {20, 30, 40});
    for (SseClient* s : {a.get(), b.get()}) {
      auto extra = s->NextEvent(1500ms);
      EXPECT_FALSE(extra) << "unexpected event after the replay: " << extra->id << " "
                          << extra->data;
    }
    ASSERT_EQ(Progress(id, 50), 202);  // event 6, from one instance, seen by both
    for (SseClient* s : {a.get(), b.get()}) ExpectEvents(*s, 6, {50});
    EXPECT_EQ(Established(0, id), before[0] + 1) << Diagnostics();
    EXPECT_EQ(Established(1, id), before[1] + 1) << Diagnostics();
  }
  ASSERT_EQ(Progress(id, 60), 202);  // event 7

  // And as EventSource does it without headers: ?token= and ?last_event_id=.
  ASSERT_EQ(Publish(id, R"({"status":"completed"})"), 202);  // event 8
  {
    auto s = OpenStream(id, {}, "?token=" + Mint("alice") + "&last_event_id=6");
    ASSERT_EQ(s->status(), 200);
    ExpectEvents(*s, 7, {60});
    auto done = s->NextEvent(3s);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->id, "8");
    EXPECT_TRUE(s->WaitClosed(3s));
  }
  // At the terminal event: 204 through nginx, so EventSource stops.
  auto end =
      OpenThroughProxy(nginx_port_, StreamPath(id),
                       {{"Authorization", "Bearer " + Mint("alice")}, {"Last-Event-ID", "8"}});
  EXPECT_EQ(end->status(), 204) << Diagnostics();
}

TEST_F(DeployTest, NotificationStreamThroughNginx) {
  auto s = OpenThroughProxy(nginx_port_, "/notify/events", Alice());
  ASSERT_EQ(s->status(), 200) << Diagnostics();
  // At once: the `:ok` comment, then retry.
  auto ok = s->Next(2s);
  ASSERT_TRUE(ok) << "no :ok within 2 s" << Diagnostics();
  EXPECT_TRUE(ok->comment);
  EXPECT_EQ(ok->data, "ok");
  auto retry = s->Next(2s);
  ASSERT_TRUE(retry) << "no retry within 2 s" << Diagnostics();
  EXPECT_TRUE(retry->retry);

  int64_t id = CreateJob();
  ASSERT_GT(id, 0);
  auto created = s->NextEvent(3s);
  ASSERT_TRUE(created) << "the new job did not reach /notify/events" << Diagnostics();
  EXPECT_EQ(created->event, "") << "plain data events by default";
  EXPECT_EQ(Data(*created).at("event").as_string(), "job");
  EXPECT_EQ(Data(*created).at("job_id").as_int64(), id);
  EXPECT_TRUE(created->has_id);

  bool keepalive = false;
  auto deadline = SteadyClock::now() + 3s;
  while (!keepalive && SteadyClock::now() < deadline) {
    auto e = s->Next(3s);
    if (!e) break;
    keepalive = e->comment && e->data == "keepalive";
  }
  EXPECT_TRUE(keepalive) << "no :keepalive through nginx within 3 s";
}

TEST_F(DeployTest, StoppingOneInstanceBreaksNoNewRequest) {
  int64_t id = CreateJob();
  ASSERT_GT(id, 0);
  auto s = OpenStream(id, Alice());
  ExpectEvents(*s, 1, {0});
  int serving = InstanceServing(id);
  ASSERT_NE(serving, -1) << Diagnostics();

  // systemd's stop: SIGTERM; Herald ends its streams and exits 0 within 5 s
  // (deploy/herald.service allows 15).
  heralds_[serving]->Signal(SIGTERM);
  auto code = heralds_[serving]->Wait(5s);
  ASSERT_TRUE(code) << "herald did not exit within 5 s of SIGTERM";
  EXPECT_EQ(*code, 0) << heralds_[serving]->Stderr();
  // nginx ends the client's response when its instance goes away.
  EXPECT_TRUE(s->WaitClosed(5s)) << "the stream through nginx stayed open" << Diagnostics();

  // Every new request works: nginx retries the refused connection on the
  // survivor (GET and POST alike, since nothing was sent yet).
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Progress(id, 10 * (i + 1)), 202) << Diagnostics();  // events 2..6
    auto st =
        Request(nginx_port_, "GET", "/api/v1/jobs/" + std::to_string(id) + "/status", Alice());
    EXPECT_EQ(st.status, 200) << st.body << Diagnostics();
    EXPECT_EQ(Request(nginx_port_, "GET", "/healthz").status, 200);
  }
  // The client's EventSource reconnects with what it saw last and resumes.
  auto again =
      OpenStream(id, {{"Authorization", "Bearer " + Mint("alice")}, {"Last-Event-ID", "1"}});
  ASSERT_EQ(again->status(), 200);
  ExpectEvents(*again, 2, {10, 20, 30, 40, 50});
}

TEST_F(DeployTest, KillingOneInstanceBreaksNoNewRequest) {
  int64_t id = CreateJob();
  ASSERT_GT(id, 0);
  // Warm up both instances' keep-alive connections in nginx's pool first, so
  // the crash also leaves dead pooled connections behind.
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Request(nginx_port_, "GET", "/healthz").status, 200);

  heralds_[0]->Kill();  // SIGKILL: a crash
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Progress(id, 10 * (i + 1)), 202) << Diagnostics();
    EXPECT_EQ(Request(nginx_port_, "GET", "/api/v1/jobs/" + std::to_string(id) + "/status", Alice())
                  .status,
              200)
        << Diagnostics();
    auto s = OpenStream(id, Alice());
    auto e = s->NextEvent(2s);
    ASSERT_TRUE(e) << Diagnostics();
    EXPECT_EQ(e->id, std::to_string(i + 2));
  }
}

// ---------------------------------------------------------------------------
// The other deployment files.

TEST(DeployFiles, EnvExampleIsAcceptedByTheBinary) {
  std::string text = ReadFile(kDeployDir + "/herald.env.example");
  ASSERT_FALSE(text.empty());
  Env env = ParseEnvFile(text);
  ASSERT_TRUE(env.count("JWT_SECRET"));
  EXPECT_TRUE(env.at("DATABASE_URL").starts_with("postgresql://")) << env.at("DATABASE_URL");
  EXPECT_TRUE(env.at("REDIS_URL").starts_with("redis://"));
  EXPECT_EQ(env.at("SSE_SOURCE"), "redis");

  // `herald token` loads (and validates) the whole configuration first: exit
  // 0 means every value in the file parses.
  TempDir dir("herald-deploy-env");
  ASSERT_FALSE(dir.path.empty());
  Child token({"token", "--sub", "ops"}, env, dir.path, "token");
  auto code = token.Wait(10s);
  ASSERT_TRUE(code) << "herald token did not exit";
  EXPECT_EQ(*code, 0) << token.Stderr();
  std::string printed = token.Stdout();
  EXPECT_EQ(std::count(printed.begin(), printed.end(), '.'), 2) << printed;
}

TEST(DeployFiles, EnvExampleNamesEveryVariableTheConfigReads) {
  std::string example = ReadFile(kDeployDir + "/herald.env.example");
  std::string config = ReadFile(HERALD_SOURCE_DIR "/src/config/config.cc");
  ASSERT_FALSE(config.empty());
  std::regex var("\"((HERALD|SSE|JWT|AUDIT|CORS|DATABASE|REDIS)_[A-Z0-9_]+)\"");
  std::set<std::string> names;
  for (std::sregex_iterator it(config.begin(), config.end(), var), end; it != end; ++it)
    names.insert((*it)[1]);
  EXPECT_GE(names.size(), 20u);
  for (const auto& name : names) {
    // Set, or shown commented out (`#NAME=`).
    std::regex line("(^|\\n)#?" + name + "=");
    EXPECT_TRUE(std::regex_search(example, line))
        << name << " is read by src/config/config.cc but not in deploy/herald.env.example";
  }
}

TEST(DeployFiles, SystemdUnitsVerify) {
  std::string analyze = FindProgram({"/usr/bin/systemd-analyze", "/bin/systemd-analyze"});
  ASSERT_FALSE(analyze.empty())
      << "systemd-analyze is not installed (scripts/install-deps installs systemd)";
  TempDir tmp("herald-deploy-units");
  ASSERT_FALSE(tmp.path.empty());
  const std::string& dir = tmp.path;
  std::vector<std::string> units;
  for (std::string name : {"herald.service", "herald-worker.service"}) {
    std::string text = ReadFile(kDeployDir + "/" + name);
    ASSERT_FALSE(text.empty()) << name;
    EXPECT_NE(text.find("EnvironmentFile=/etc/herald/herald.env"), std::string::npos) << name;
    // verify checks that ExecStart= exists: point it at the built binary.
    const std::string installed = "/usr/local/bin/herald";
    ASSERT_NE(text.find("\nExecStart=" + installed), std::string::npos) << name;
    for (size_t at = text.find(installed); at != std::string::npos;
         at = text.find(installed, at + 1))
      text.replace(at, installed.size(), HERALD_BINARY);
    WriteFile(dir + "/" + name, text);
    units.push_back(dir + "/" + name);
  }
  std::vector<std::string> args = {"verify"};
  args.insert(args.end(), units.begin(), units.end());
  std::string out;
  int code = RunProgram(analyze, args, dir, "verify", &out);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "") << "systemd-analyze verify complained:\n" << out;
}

}  // namespace
}  // namespace herald::test
