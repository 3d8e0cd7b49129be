// A small HTTP/1.1 client on one keep-alive connection, for the few
// requests the load generator makes besides the streams: creating the job and
// publishing updates. One request at a time; every wait has a deadline.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::bench {

struct HttpResponse {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  // `host_header` is the Host header value ("127.0.0.1:8000").
  HttpClient(const sockaddr_storage& server, socklen_t server_len, std::string host_header,
             bool nodelay);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `method target` with `extra_headers` (each ending in "\r\n") and a
  // JSON body, and reads the whole response. Opens or re-opens the connection
  // as needed; when a reused connection turns out closed before any response
  // byte, reconnects and sends once more. False with `error` set on failure.
  bool Request(std::string_view method, std::string_view target, std::string_view extra_headers,
               std::string_view body, int64_t deadline_ns, HttpResponse* response,
               std::string* error);

  // Closes the kept-alive connection, if any; the next request reconnects.
  void Close();

  // Number of TCP connections opened so far.
  int connects() const { return connects_; }

 private:
  bool Connect(int64_t deadline_ns, std::string* error);
  bool WriteAll(std::string_view data, int64_t deadline_ns, std::string* error);
  // Reads one response. `got_any` tells whether any byte arrived.
  bool ReadResponse(int64_t deadline_ns, HttpResponse* response, bool* keep_alive, bool* got_any,
                    std::string* error);
  // Waits for `events` on the socket until the deadline.
  bool Wait(short events, int64_t deadline_ns, std::string* error);

  sockaddr_storage server_;
  socklen_t server_len_;
  std::string host_header_;
  bool nodelay_;
  int fd_ = -1;
  int connects_ = 0;
  std::string buffer_;  // Bytes read past the previous response.
};

}  // namespace herald::bench
