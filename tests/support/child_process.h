#pragma once
// Child processes for end-to-end tests: the real `herald` binary started
// with an exact environment, its output captured to files, every wait
// bounded, and killed on destruction so a failing test leaves nothing behind.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace herald::test {

using Env = std::map<std::string, std::string>;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string ReadFile(const std::string& path);

// A port that was free a moment ago: bind port 0, read it, close.
uint16_t FreePort();

// One child process running the herald binary with exactly `env` (plus PATH),
// cwd `dir`, stdout and stderr captured to files in `dir`.
class Child {
 public:
  Child(const std::vector<std::string>& args, const Env& env, const std::string& dir,
        const std::string& name)
      : out_path_(dir + "/" + name + ".stdout"), err_path_(dir + "/" + name + ".stderr") {
    std::vector<std::string> argv_s = {HERALD_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s = {"PATH=/usr/local/bin:/usr/bin:/bin"};
    for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ == 0) {
      // Child: only async-signal-safe calls from here.
      if (::chdir(dir.c_str()) != 0) ::_exit(126);
      int in = ::open("/dev/null", O_RDONLY);
      int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || out < 0 || err < 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    EXPECT_GT(pid_, 0) << "fork failed";
  }

  ~Child() { Kill(); }

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !status_; }

  void Signal(int signo) {
    if (running()) ::kill(pid_, signo);
  }

  // The exit code (128 + signal when killed by one), or nullopt if it is
  // still running after `timeout`.
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
      if (r < 0) return std::nullopt;
      if (SteadyClock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(10ms);
    }
  }

  void Kill() {
    if (!running()) return;
    ::kill(pid_, SIGKILL);
    Wait(5s);
  }

  std::string Stdout() const { return ReadFile(out_path_); }
  std::string Stderr() const { return ReadFile(err_path_); }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_path_, err_path_;
};

}  // namespace herald::test
