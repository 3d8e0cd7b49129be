#include "support/nginx_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/http_client.h"

namespace herald::test {
namespace {

const char kNginx[] = "/usr/sbin/nginx";

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// deploy/nginx.conf with the upstream lines and the listen line replaced
// (code lines only, not comments); throws if the file no longer has them.
std::string Configure(uint16_t a, uint16_t b, uint16_t listen) {
  std::string text = ReadFile(HERALD_SOURCE_DIR "/deploy/nginx.conf");
  if (text.empty()) throw std::runtime_error("cannot read deploy/nginx.conf");
  std::istringstream in(text);
  std::ostringstream out;
  std::string line;
  int replaced = 0;
  auto swap = [&](std::string& l, const std::string& from, const std::string& to) {
    size_t at = l.find(from);
    if (at == std::string::npos) return;
    l.replace(at, from.size(), to);
    ++replaced;
  };
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(" \t");
    if (start != std::string::npos && line[start] != '#') {
      std::string code = line.substr(start);
      if (code.starts_with("server 127.0.0.1:8000"))
        swap(line, "127.0.0.1:8000", "127.0.0.1:" + std::to_string(a));
      else if (code.starts_with("server 127.0.0.1:8001"))
        swap(line, "127.0.0.1:8001", "127.0.0.1:" + std::to_string(b));
      else if (code == "listen 80;")
        swap(line, "listen 80;", "listen 127.0.0.1:" + std::to_string(listen) + ";");
    }
    out << line << "\n";
  }
  if (replaced != 3)
    throw std::runtime_error(
        "deploy/nginx.conf: expected `server 127.0.0.1:8000`, `server 127.0.0.1:8001` and "
        "`listen 80;` lines");
  return out.str();
}

}  // namespace

NginxServer::NginxServer(const std::string& dir, uint16_t upstream_a, uint16_t upstream_b)
    : dir_(dir), port_(FreePort()) {
  WriteFile(dir_ + "/herald.conf", Configure(upstream_a, upstream_b, port_));
  const std::string& d = dir_;
  WriteFile(
      dir_ + "/nginx.conf",
      "daemon off;\n"
      "master_process off;\n"
      "pid " +
          d +
          "/nginx.pid;\n"
          "error_log " +
          d +
          "/error.log info;\n"
          "worker_rlimit_nofile 4096;\n"
          "events { worker_connections 2048; }\n"
          "http {\n"
          "  log_format upstream '$remote_addr \"$request\" $status upstream=$upstream_addr';\n"
          "  access_log " +
          d +
          "/access.log upstream;\n"
          "  client_body_temp_path " +
          d +
          "/client_body_temp;\n"
          "  proxy_temp_path " +
          d +
          "/proxy_temp;\n"
          "  fastcgi_temp_path " +
          d +
          "/fastcgi_temp;\n"
          "  uwsgi_temp_path " +
          d +
          "/uwsgi_temp;\n"
          "  scgi_temp_path " +
          d +
          "/scgi_temp;\n"
          "  include " +
          d +
          "/herald.conf;\n"
          "}\n");
}

NginxServer::~NginxServer() { Stop(); }

bool NginxServer::Start() {
  auto spawn = [&](bool test_only) {
    std::vector<std::string> args = {
        kNginx, "-p", dir_ + "/", "-c", dir_ + "/nginx.conf", "-e", dir_ + "/error.log"};
    if (test_only) args.push_back("-t");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string out = dir_ + (test_only ? "/nginx-t.out" : "/nginx.out");
    pid_t pid = ::fork();
    if (pid == 0) {
      int in = ::open("/dev/null", O_RDONLY);
      int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (in >= 0) ::dup2(in, 0);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return pid;
  };
  pid_t check = spawn(true);
  int status = 0;
  if (check < 0 || ::waitpid(check, &status, 0) != check || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0)
    return false;
  pid_ = spawn(false);
  if (pid_ < 0) return false;
  auto deadline = SteadyClock::now() + 10s;
  while (SteadyClock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    if (Request(port_, "GET", "/healthz", {}, "", 500ms).status == 200) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void NginxServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);  // one process: nothing is left behind
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string NginxServer::Logs() const {
  return "--- nginx -t\n" + ReadFile(dir_ + "/nginx-t.out") + "--- nginx\n" +
         ReadFile(dir_ + "/nginx.out") + "--- error.log\n" + ReadFile(dir_ + "/error.log") +
         "--- access.log (last 4 KB)\n" + [&] {
           std::string a = ReadFile(dir_ + "/access.log");
           return a.size() > 4096 ? a.substr(a.size() - 4096) : a;
         }();
}

}  // namespace herald::test
