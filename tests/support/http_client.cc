#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace herald::test {
namespace {

using SteadyClock = std::chrono::steady_clock;

int Connect(uint16_t port, int receive_buffer) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (receive_buffer > 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads into `buffer`; false on timeout, EOF (sets *eof) or error.
bool ReadSome(int fd, std::string& buffer, SteadyClock::time_point deadline, bool* eof) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(left.count()));
  if (r <= 0) return false;
  char chunk[16384];
  ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
  if (n <= 0) {
    *eof = true;
    return false;
  }
  buffer.append(chunk, static_cast<size_t>(n));
  return true;
}

std::string BuildRequest(const std::string& method, const std::string& target,
                         const Headers& headers, const std::string& body, bool close) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (close) req += "Connection: close\r\n";
  req += "\r\n" + body;
  return req;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses "HTTP/1.1 200 OK\r\nA: b\r\n\r\n"; returns the header length or 0.
size_t ParseHead(const std::string& buffer, int* status,
                 std::map<std::string, std::string>* headers) {
  size_t end = buffer.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  std::string head = buffer.substr(0, end);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() >= 12) *status = std::atoi(status_line.substr(9, 3).c_str());
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(pos, next - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      (*headers)[Lower(line.substr(0, colon))] = value;
    }
    pos = next + 2;
  }
  return end + 4;
}

}  // namespace

HttpResponse Request(uint16_t port, const std::string& method, const std::string& target,
                     const Headers& headers, const std::string& body,
                     std::chrono::milliseconds timeout) {
  HttpResponse response;
  int fd = Connect(port, 0);
  if (fd < 0) return response;
  auto deadline = SteadyClock::now() + timeout;
  if (!SendAll(fd, BuildRequest(method, target, headers, body, true))) {
    ::close(fd);
    return response;
  }
  std::string buffer;
  bool eof = false;
  size_t head_len = 0;
  int status = 0;
  while ((head_len = ParseHead(buffer, &status, &response.headers)) == 0) {
    if (!ReadSome(fd, buffer, deadline, &eof)) break;
  }
  if (head_len == 0) {
    ::close(fd);
    return response;
  }
  std::string rest = buffer.substr(head_len);
  auto cl = response.headers.find("content-length");
  if (cl != response.headers.end()) {
    size_t want = std::stoul(cl->second);
    while (rest.size() < want && ReadSome(fd, rest, deadline, &eof)) {
    }
    rest.resize(std::min(rest.size(), want));
  } else if (response.headers["transfer-encoding"] == "chunked") {
    // Read until the terminating chunk, then decode.
    while (rest.find("\r\n0\r\n\r\n") == std::string::npos && rest.rfind("0\r\n\r\n", 0) != 0 &&
           ReadSome(fd, rest, deadline, &eof)) {
    }
    std::string decoded;
    size_t pos = 0;
    while (pos < rest.size()) {
      size_t nl = rest.find("\r\n", pos);
      if (nl == std::string::npos) break;
      size_t len = std::stoul(rest.substr(pos, nl - pos), nullptr, 16);
      if (len == 0) break;
      decoded += rest.substr(nl + 2, len);
      pos = nl + 2 + len + 2;
    }
    rest = decoded;
  } else if (status != 204 && status != 304) {
    while (ReadSome(fd, rest, deadline, &eof)) {
    }
  }
  ::close(fd);
  response.status = status;
  response.body = rest;
  return response;
}

std::unique_ptr<SseClient> SseClient::Open(uint16_t port, const std::string& target,
                                           const Headers& headers,
                                           std::chrono::milliseconds timeout, int receive_buffer) {
  std::unique_ptr<SseClient> client(new SseClient());
  client->fd_ = Connect(port, receive_buffer);
  if (client->fd_ < 0) return client;
  Headers all = headers;
  all.emplace_back("Accept", "text/event-stream");
  if (!SendAll(client->fd_, BuildRequest("GET", target, all, "", false))) return client;
  auto deadline = SteadyClock::now() + timeout;
  std::string buffer;
  bool eof = false;
  size_t head_len = 0;
  while ((head_len = ParseHead(buffer, &client->status_, &client->headers_)) == 0) {
    if (!ReadSome(client->fd_, buffer, deadline, &eof)) break;
  }
  if (head_len == 0) {
    client->status_ = 0;
    return client;
  }
  client->closed_ = eof;
  auto te = client->headers_.find("transfer-encoding");
  client->chunked_ =
      te != client->headers_.end() && te->second.find("chunked") != std::string::npos;
  client->Take(buffer.substr(head_len));
  return client;
}

// Body bytes as they arrive. A proxy (nginx) re-frames the stream in chunked
// transfer encoding, which Herald itself never sends; the event grammar
// inside is the same.
void SseClient::Take(const std::string& bytes) {
  std::string decoded;
  if (!chunked_) {
    decoded = bytes;
  } else {
    chunk_raw_ += bytes;
    for (;;) {
      size_t eol = chunk_raw_.find("\r\n");
      if (eol == std::string::npos) break;
      size_t size = std::strtoul(chunk_raw_.substr(0, eol).c_str(), nullptr, 16);
      if (size == 0) {  // the last chunk: the response is complete
        closed_ = true;
        chunk_raw_.clear();
        break;
      }
      if (chunk_raw_.size() < eol + 2 + size + 2) break;  // wait for the rest
      decoded += chunk_raw_.substr(eol + 2, size);
      chunk_raw_.erase(0, eol + 2 + size + 2);
    }
  }
  buffer_ += decoded;
  constexpr size_t kRawBodyCap = 64 * 1024;
  if (raw_body_.size() < kRawBodyCap)
    raw_body_.append(decoded, 0, std::min(decoded.size(), kRawBodyCap - raw_body_.size()));
}

SseClient::~SseClient() { Close(); }

void SseClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string SseClient::Header(const std::string& name) const {
  auto it = headers_.find(name);
  return it == headers_.end() ? "" : it->second;
}

bool SseClient::Fill(SteadyClock::time_point deadline) {
  if (fd_ < 0 || closed_) return false;
  std::string fresh;
  bool eof = false;
  if (!ReadSome(fd_, fresh, deadline, &eof)) {
    if (eof) closed_ = true;
    return false;
  }
  Take(fresh);
  return true;
}

std::optional<SseEvent> SseClient::Next(std::chrono::milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    // Take complete lines (the SSE grammar: CRLF, LF or CR end a line).
    for (;;) {
      size_t eol = buffer_.find_first_of("\r\n");
      if (eol == std::string::npos) break;
      size_t next = eol + 1;
      if (buffer_[eol] == '\r') {
        if (eol + 1 >= buffer_.size()) break;  // wait: may be CRLF
        if (buffer_[eol + 1] == '\n') next = eol + 2;
      }
      std::string line = buffer_.substr(0, eol);
      buffer_.erase(0, next);
      if (line.empty()) {
        if (pending_has_data_) {
          SseEvent out = pending_;
          pending_ = SseEvent{};
          pending_has_data_ = false;
          return out;
        }
        pending_ = SseEvent{};
        continue;
      }
      if (line[0] == ':') {
        SseEvent c;
        c.comment = true;
        c.data = line.substr(1);
        if (!c.data.empty() && c.data[0] == ' ') c.data.erase(0, 1);
        return c;
      }
      size_t colon = line.find(':');
      std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      if (field == "data") {
        if (pending_has_data_) pending_.data += "\n";
        pending_.data += value;
        pending_has_data_ = true;
      } else if (field == "id") {
        pending_.id = value;
        pending_.has_id = true;
      } else if (field == "event") {
        pending_.event = value;
      } else if (field == "retry") {
        SseEvent r;
        r.retry = true;
        r.data = value;
        return r;
      }
    }
    if (!Fill(deadline)) return std::nullopt;
  }
}

std::optional<SseEvent> SseClient::NextEvent(std::chrono::milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return std::nullopt;
    auto e = Next(left);
    if (!e) return std::nullopt;
    if (!e->comment && !e->retry) return e;
  }
}

bool SseClient::WaitClosed(std::chrono::milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (!closed_) {
    if (SteadyClock::now() >= deadline) return false;
    Fill(deadline);
  }
  return true;
}

}  // namespace herald::test
