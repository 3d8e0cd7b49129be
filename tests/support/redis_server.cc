#include "support/redis_server.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "support/child_process.h"

namespace herald::test {

RedisServer::RedisServer(std::vector<std::string> extra_args)
    : extra_(std::move(extra_args)), port_(FreePort()) {}

RedisServer::~RedisServer() { Kill(); }

RedisServer& RedisServer::Shared() {
  static RedisServer* server = [] {
    auto* s = new RedisServer();  // lives until exit; killed by the atexit below
    if (!s->Start()) {
      std::fprintf(stderr, "redis-server did not start (run scripts/install-deps)\n");
      std::abort();
    }
    std::atexit([] { Shared().Kill(); });
    return s;
  }();
  return *server;
}

std::string RedisServer::Url() const {
  std::string auth = password_.empty() ? "" : ":" + password_ + "@";
  return "redis://" + auth + "127.0.0.1:" + std::to_string(port_);
}

bool RedisServer::Start() {
  std::vector<std::string> args = {
      "redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",  "--save", "",
      "--appendonly", "no",     "--daemonize",         "no",     "--loglevel", "warning"};
  args.insert(args.end(), extra_.begin(), extra_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    if (int devnull = ::open("/dev/null", O_WRONLY); devnull >= 0) {
      ::dup2(devnull, STDOUT_FILENO);  // keep the server's banner out of test output
      ::close(devnull);
    }
    ::execvp("redis-server", argv.data());
    ::_exit(127);
  }
  if (pid_ < 0) return false;
  auto deadline = SteadyClock::now() + 5s;
  while (SteadyClock::now() < deadline) {
    if (Ping()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return Ping();
}

void RedisServer::Pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::Resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::optional<long long> RedisServer::Command(const std::vector<std::string>& argv_in) const {
  timeval tv{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
  if (c == nullptr) return std::nullopt;
  std::unique_ptr<redisContext, decltype(&redisFree)> guard(c, &redisFree);
  if (c->err) return std::nullopt;
  if (!password_.empty()) {
    auto* r = static_cast<redisReply*>(redisCommand(c, "AUTH %s", password_.c_str()));
    if (r == nullptr) return std::nullopt;
    freeReplyObject(r);
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : argv_in) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (r == nullptr) return std::nullopt;
  std::optional<long long> out;
  if (r->type == REDIS_REPLY_INTEGER) out = r->integer;
  if (r->type == REDIS_REPLY_STATUS) out = 0;
  // PUBSUB NUMSUB ch -> [ch, n]
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
      r->element[1]->type == REDIS_REPLY_INTEGER) {
    out = r->element[1]->integer;
  }
  freeReplyObject(r);
  return out;
}

}  // namespace herald::test
