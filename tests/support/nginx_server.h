#pragma once
// nginx running the project's own deploy/nginx.conf in front of two Herald
// instances, for the cluster tests: only the two upstream addresses and the
// listen port of that file are changed, everything else (buffering, timeouts,
// keep-alive, retries) is what users deploy. Single process (master_process
// off), every path inside the test's directory, loopback only.

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace herald::test {

class NginxServer {
 public:
  // Writes the configuration into `dir` (which must exist); nothing runs yet.
  NginxServer(const std::string& dir, uint16_t upstream_a, uint16_t upstream_b);
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  // `nginx -t`, then nginx itself; true once /healthz answers 200 through it
  // (at most 10 s). On false, Logs() says why.
  bool Start();
  void Stop();

  uint16_t port() const { return port_; }
  // nginx's error and access logs (the access log names the upstream used).
  std::string Logs() const;

 private:
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace herald::test
