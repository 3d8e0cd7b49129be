#pragma once
// A real, throwaway PostgreSQL for tests: `initdb` into a temporary directory,
// `pg_ctl start` on a free loopback port (trust auth, fsync off), removed with
// its files on destruction. As root, the server runs as the `postgres` user,
// since PostgreSQL refuses to run as root.
//
// initdb costs a second or two, so a test binary normally shares one server
// (Shared()) and gives each test its own database (CreateDatabase).

#include <cstdint>
#include <string>
#include <vector>

namespace herald::test {

class PostgresServer {
 public:
  // initdb and start; throws std::runtime_error (with the server's log) when
  // PostgreSQL is missing or does not start.
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Started on first use, stopped when the test binary exits.
  static PostgresServer& Shared();

  uint16_t port() const { return port_; }
  // postgresql://herald@127.0.0.1:PORT/DB
  std::string Url(const std::string& db = "postgres") const;
  // A new empty database with a unique name (prefix + counter); its URL.
  std::string CreateDatabase(const std::string& prefix = "t");

  // The chaos tests' failure: stop at once (pg_ctl -m immediate), and start
  // again on the same port with the same data.
  void Stop();
  void Start();
  bool running() const { return running_; }
  // SIGSTOP / SIGCONT to the postmaster and every backend: a server that
  // hangs (sockets open, the kernel still acknowledging, nothing answered).
  // Nothing may call Exec while paused.
  void Pause();
  void Resume();

  // Runs one SQL statement on a fresh connection to `db`; throws on error.
  void Exec(const std::string& db, const std::string& sql) const;

 private:
  void Run(const std::string& what, std::vector<std::string> args) const;
  void SignalAll(int signal) const;  // the postmaster and its children

  std::string dir_;  // owns data/, the socket and server.log
  std::string bin_;  // .../postgresql/NN/bin
  uint16_t port_ = 0;
  bool as_postgres_user_ = false;
  bool running_ = false;
  int next_db_ = 0;
};

}  // namespace herald::test
