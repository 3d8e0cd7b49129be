#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1 (port 0) for the audit tests. It serves
// the files under `root_dir` (content type by extension; "/" and "dir/" map
// to index.html; 404 otherwise; the lines of FILE.headers, if present, are
// added as response headers; "{{origin}}" in a file is replaced by
// http://127.0.0.1:<port>) plus a few special routes:
//
//   /redirect-loop        302 to itself
//   /redirect/N           302 to /redirect/N-1; /redirect/0 is a small page
//   /redirect-to?url=X    302 to X (X percent-decoded)
//   /slow-page            a whole page in about 2.4 s (performance.slow)
//   /slow                 headers at once, then a small HTML body trickled
//                         over about 5 s
//   /big                  a 3 MB HTML page
//   /gzip                 an HTML page, gzip-encoded when the request's
//                         Accept-Encoding names gzip
//   /doc.pdf              a small application/pdf response
//
// Every response closes its connection. One thread accepts; each connection
// gets its own thread, so /slow does not hold up other requests. Every socket
// operation waits at most 2 s and polls a stop flag, so the destructor
// returns promptly even while /slow is sending.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace herald::test {

class FixtureSite {
 public:
  // Starts serving at once; throws std::runtime_error if it cannot listen.
  explicit FixtureSite(std::string root_dir);
  ~FixtureSite();  // Stops accepting, ends open connections, joins threads.
  FixtureSite(const FixtureSite&) = delete;
  FixtureSite& operator=(const FixtureSite&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>" + path; `path` starts with '/'.
  std::string url(std::string_view path) const;
  // The request targets received so far, in arrival order. Thread-safe.
  std::vector<std::string> RequestedTargetsForTest() const;

 private:
  void AcceptLoop();
  void Serve(int fd);

  std::string root_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> targets_;  // guarded by mu_
  std::vector<std::thread> workers_;  // guarded by mu_
  std::thread acceptor_;
};

}  // namespace herald::test
