#pragma once
// A real redis-server child on a loopback port, for tests: killable and
// restartable on the same port (the chaos tests), with a synchronous hiredis
// connection for the checks a test makes from outside (PUBLISH, NUMSUB).

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace herald::test {

class RedisServer {
 public:
  // Picks a free port now; nothing runs before Start().
  explicit RedisServer(std::vector<std::string> extra_args = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // One started server per test binary (never killed: chaos tests make
  // their own). Aborts the test binary when redis-server cannot start.
  static RedisServer& Shared();

  int port() const { return port_; }
  // redis://127.0.0.1:PORT (with the password set by set_password, if any)
  std::string Url() const;

  // Starts redis-server and waits (at most 5 s) until it answers PING.
  bool Start();
  void Kill();  // SIGKILL: the failure a chaos test wants
  // SIGSTOP / SIGCONT: a Redis that hangs (connections stay open, nothing
  // is answered). Command() must not be called while paused.
  void Pause();
  void Resume();
  bool running() const { return pid_ > 0; }

  // One command on a fresh synchronous connection; its integer answer (0 for
  // a status), the count of PUBSUB NUMSUB, or nullopt on any failure.
  std::optional<long long> Command(const std::vector<std::string>& argv) const;
  bool Ping() const { return Command({"PING"}).has_value(); }
  long long Subscribers(const std::string& channel) const {
    return Command({"PUBSUB", "NUMSUB", channel}).value_or(-1);
  }
  long long Publish(const std::string& channel, const std::string& payload) const {
    return Command({"PUBLISH", channel, payload}).value_or(-1);
  }
  // The password Command() authenticates with (tests of requirepass).
  void set_password(std::string p) { password_ = std::move(p); }

 private:
  std::vector<std::string> extra_;
  int port_ = -1;
  pid_t pid_ = -1;
  std::string password_;
};

}  // namespace herald::test
