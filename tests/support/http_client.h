#pragma once
// A small blocking HTTP/1.1 and SSE client on plain POSIX sockets for the
// integration tests: independent of the server's Beast code, so a bug there
// cannot hide itself, and every wait has a timeout so a hang fails a test
// instead of freezing CI.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace herald::test {

using Headers = std::vector<std::pair<std::string, std::string>>;
using namespace std::chrono_literals;

struct HttpResponse {
  int status = 0;                              // 0: no response (connect failed, timeout)
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One request on a fresh connection (Connection: close).
HttpResponse Request(uint16_t port, const std::string& method, const std::string& target,
                     const Headers& headers = {}, const std::string& body = "",
                     std::chrono::milliseconds timeout = 10s);

struct SseEvent {
  std::string id;  // last `id:` field of the event ("" if none)
  bool has_id = false;
  std::string event;     // `event:` ("" means message)
  std::string data;      // data lines joined with "\n"
  bool comment = false;  // a `:` line; text in `data`
  bool retry = false;    // a `retry:` line; value in `data`
};

// An open event stream.
class SseClient {
 public:
  // Connects, sends GET `target` with `headers`, reads the response head.
  // status() is 0 when nothing arrived within `timeout`.
  static std::unique_ptr<SseClient> Open(uint16_t port, const std::string& target,
                                         const Headers& headers = {},
                                         std::chrono::milliseconds timeout = 10s,
                                         int receive_buffer = 0);
  ~SseClient();

  int status() const { return status_; }
  const std::map<std::string, std::string>& headers() const { return headers_; }
  std::string Header(const std::string& name) const;

  // The next event, comment or retry line within `timeout`; nullopt on
  // timeout or end of stream (then closed() is true).
  std::optional<SseEvent> Next(std::chrono::milliseconds timeout = 10s);
  // The next data event (skipping comments and retry lines).
  std::optional<SseEvent> NextEvent(std::chrono::milliseconds timeout = 10s);
  // True when the server ends the stream within `timeout` (reading and
  // discarding anything before the end).
  bool WaitClosed(std::chrono::milliseconds timeout = 10s);
  bool closed() const { return closed_; }
  // The first 64 KiB of the body received after the response head (with
  // any chunked framing removed), capped so long tests do not grow the test
  // process.
  const std::string& raw_body() const { return raw_body_; }
  void Close();

 private:
  SseClient() = default;
  bool Fill(std::chrono::steady_clock::time_point deadline);  // false: timeout or EOF
  void Take(const std::string& bytes);  // body bytes, de-chunked when chunked_

  int fd_ = -1;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  bool chunked_ = false;   // Transfer-Encoding: chunked (through a proxy)
  std::string chunk_raw_;  // chunked bytes not decoded yet
  std::string buffer_;     // unparsed body bytes
  std::string raw_body_;
  bool closed_ = false;
  SseEvent pending_;  // fields of the event being assembled
  bool pending_has_data_ = false;
};

}  // namespace herald::test
