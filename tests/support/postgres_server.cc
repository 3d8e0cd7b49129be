#include "support/postgres_server.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "support/child_process.h"

namespace herald::test {
namespace {

namespace fs = std::filesystem;

// Debian keeps the server binaries off PATH, under one directory per major
// version; take the newest.
std::string FindBinDir() {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (fs::exists(entry.path() / "bin" / "initdb")) found.push_back(entry.path() / "bin");
  }
  if (found.empty())
    throw std::runtime_error(
        "PostgreSQL server binaries not found under /usr/lib/postgresql (run "
        "scripts/install-deps)");
  std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoi(a.parent_path().filename()) < std::stoi(b.parent_path().filename());
  });
  return found.back().string();
}

}  // namespace

PostgresServer::PostgresServer() : bin_(FindBinDir()), port_(FreePort()) {
  std::string pattern = (fs::temp_directory_path() / "herald_pg_XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr)
      throw std::runtime_error("running as root and there is no postgres user to run PostgreSQL");
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("chown " + dir_ + " failed");
    as_postgres_user_ = true;
  }
  Run("initdb", {bin_ + "/initdb", "-D", dir_ + "/data", "-U", "herald", "-A", "trust", "-E",
                 "UTF8", "--locale=C", "--no-sync"});
  Start();
}

PostgresServer::~PostgresServer() {
  try {
    if (running_)
      Run("pg_ctl stop", {bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"});
  } catch (...) {
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

PostgresServer& PostgresServer::Shared() {
  static PostgresServer server;
  return server;
}

std::string PostgresServer::Url(const std::string& db) const {
  return "postgresql://herald@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string PostgresServer::CreateDatabase(const std::string& prefix) {
  static std::mutex mu;
  std::string name;
  {
    std::lock_guard lock(mu);
    name = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++next_db_);
  }
  Exec("postgres", "CREATE DATABASE " + name);
  return Url(name);
}

void PostgresServer::Start() {
  // fsync off: a test database need not survive a power cut, and it makes
  // every commit cheap.
  std::string options = "-p " + std::to_string(port_) + " -k " + dir_ +
                        " -c listen_addresses=127.0.0.1 -c fsync=off"
                        " -c synchronous_commit=off -c full_page_writes=off"
                        " -c max_connections=200";
  Run("pg_ctl start", {bin_ + "/pg_ctl", "-D", dir_ + "/data", "-o", options, "-l",
                       dir_ + "/server.log", "-w", "-t", "30", "start"});
  running_ = true;
}

void PostgresServer::Stop() {
  Run("pg_ctl stop", {bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"});
  running_ = false;
}

void PostgresServer::Pause() { SignalAll(SIGSTOP); }
void PostgresServer::Resume() { SignalAll(SIGCONT); }

void PostgresServer::SignalAll(int signal) const {
  // The first line of postmaster.pid is the postmaster's pid; its children
  // (backends, checkpointer, walwriter, ...) are found by their parent.
  std::ifstream pid_file(dir_ + "/data/postmaster.pid");
  pid_t postmaster = 0;
  if (!(pid_file >> postmaster) || postmaster <= 0) {
    throw std::runtime_error("PostgresServer: no postmaster.pid in " + dir_);
  }
  std::vector<pid_t> pids{postmaster};
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so read after ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == postmaster) pids.push_back(std::stoi(name));
  }
  for (pid_t pid : pids) ::kill(pid, signal);
}

void PostgresServer::Exec(const std::string& db, const std::string& sql) const {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(Url(db).c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("connect to " + Url(db) + ": " + PQerrorMessage(conn.get()));
  std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), &PQclear);
  auto status = PQresultStatus(res.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
}

void PostgresServer::Run(const std::string& what, std::vector<std::string> args) const {
  if (as_postgres_user_) args.insert(args.begin(), {"runuser", "-u", "postgres", "--"});
  std::string log = dir_ + "/" + what.substr(0, what.find(' ')) + ".out";
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0) ::dup2(in, 0);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    throw std::runtime_error(what + " failed:\n" + ReadFile(log) + ReadFile(dir_ + "/server.log"));
  }
}

}  // namespace herald::test
