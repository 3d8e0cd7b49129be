#include "http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "stats.h"

namespace herald::bench {
namespace {

constexpr std::size_t kMaxResponse = 16 * 1024 * 1024;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

HttpClient::HttpClient(const sockaddr_storage& server, socklen_t server_len,
                       std::string host_header, bool nodelay)
    : server_(server),
      server_len_(server_len),
      host_header_(std::move(host_header)),
      nodelay_(nodelay) {}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

bool HttpClient::Wait(short events, int64_t deadline_ns, std::string* error) {
  while (true) {
    int64_t left_ms = (deadline_ns - NowNs()) / 1'000'000;
    if (left_ms <= 0) {
      *error = "timed out";
      return false;
    }
    pollfd pfd{fd_, events, 0};
    int r = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) {
      *error = std::string("poll: ") + std::strerror(errno);
      return false;
    }
  }
}

bool HttpClient::Connect(int64_t deadline_ns, std::string* error) {
  Close();
  fd_ = ::socket(server_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  int one = 1;
  if (nodelay_) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ++connects_;
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&server_), server_len_) != 0) {
    if (errno != EINPROGRESS) {
      *error = std::string("connect: ") + std::strerror(errno);
      Close();
      return false;
    }
    if (!Wait(POLLOUT, deadline_ns, error)) {
      *error = "connect: " + *error;
      Close();
      return false;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      *error = std::string("connect: ") + std::strerror(err);
      Close();
      return false;
    }
  }
  return true;
}

bool HttpClient::WriteAll(std::string_view data, int64_t deadline_ns, std::string* error) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!Wait(POLLOUT, deadline_ns, error)) return false;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      *error = std::string("send: ") + std::strerror(errno);
      return false;
    }
  }
  return true;
}

bool HttpClient::ReadResponse(int64_t deadline_ns, HttpResponse* response, bool* keep_alive,
                              bool* got_any, std::string* error) {
  *got_any = !buffer_.empty();
  bool eof = false;
  // Reads more bytes into buffer_; false on error, timeout or EOF.
  auto read_more = [&]() -> bool {
    char buf[16384];
    while (true) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        buffer_.append(buf, static_cast<std::size_t>(n));
        *got_any = true;
        if (buffer_.size() > kMaxResponse) {
          *error = "response too large";
          return false;
        }
        return true;
      }
      if (n == 0) {
        eof = true;
        *error = "connection closed by server";
        return false;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        *error = std::string("recv: ") + std::strerror(errno);
        return false;
      }
      if (!Wait(POLLIN, deadline_ns, error)) return false;
    }
  };

  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more()) return false;
  }
  std::string_view head(buffer_.data(), head_end);
  std::size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  std::size_t sp = status_line.find(' ');
  if (status_line.substr(0, 5) != "HTTP/" || sp == std::string_view::npos ||
      sp + 4 > status_line.size()) {
    *error = "bad status line";
    return false;
  }
  response->status = 0;
  std::from_chars(status_line.data() + sp + 1, status_line.data() + sp + 4, response->status);
  *keep_alive = status_line.substr(0, 8) != "HTTP/1.0";
  bool chunked = false;
  bool have_length = false;
  std::size_t length = 0;
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = LowerCopy(Trim(line.substr(0, colon)));
    std::string value = LowerCopy(Trim(line.substr(colon + 1)));
    if (name == "content-length") {
      std::from_chars(value.data(), value.data() + value.size(), length);
      have_length = true;
    } else if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) {
      chunked = true;
    } else if (name == "connection") {
      if (value.find("close") != std::string::npos) *keep_alive = false;
      if (value.find("keep-alive") != std::string::npos) *keep_alive = true;
    }
  }
  buffer_.erase(0, head_end + 4);
  response->body.clear();
  int status = response->status;
  if (status == 204 || status == 304 || (status >= 100 && status < 200)) return true;

  if (chunked) {
    while (true) {
      std::size_t nl;
      while ((nl = buffer_.find("\r\n")) == std::string::npos) {
        if (!read_more()) return false;
      }
      std::size_t size = 0;
      auto [ptr, ec] = std::from_chars(buffer_.data(), buffer_.data() + nl, size, 16);
      if (ec != std::errc()) {
        *error = "bad chunk size";
        return false;
      }
      buffer_.erase(0, nl + 2);
      if (size == 0) {
        // Trailers end with an empty line.
        while (true) {
          while ((nl = buffer_.find("\r\n")) == std::string::npos) {
            if (!read_more()) return false;
          }
          buffer_.erase(0, nl + 2);
          if (nl == 0) return true;
        }
      }
      while (buffer_.size() < size + 2) {
        if (!read_more()) return false;
      }
      response->body.append(buffer_, 0, size);
      buffer_.erase(0, size + 2);
    }
  }
  if (have_length) {
    while (buffer_.size() < length) {
      if (!read_more()) return false;
    }
    response->body.assign(buffer_, 0, length);
    buffer_.erase(0, length);
    return true;
  }
  // Close-delimited.
  *keep_alive = false;
  while (read_more()) {
  }
  if (!eof) return false;
  response->body.swap(buffer_);
  buffer_.clear();
  return true;
}

bool HttpClient::Request(std::string_view method, std::string_view target,
                         std::string_view extra_headers, std::string_view body, int64_t deadline_ns,
                         HttpResponse* response, std::string* error) {
  std::string request;
  request.reserve(256 + extra_headers.size() + body.size());
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  request.append("Host: ").append(host_header_).append("\r\n");
  request.append(extra_headers);
  if (!body.empty() || method == "POST") {
    request.append("Content-Type: application/json\r\n");
    request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  request.append("\r\n").append(body);

  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = fd_ >= 0;
    if (!reused && !Connect(deadline_ns, error)) return false;
    bool keep_alive = true;
    bool got_any = false;
    if (WriteAll(request, deadline_ns, error) &&
        ReadResponse(deadline_ns, response, &keep_alive, &got_any, error)) {
      if (!keep_alive) Close();
      return true;
    }
    Close();
    // Only a kept-alive connection the server had already closed is retried.
    if (!reused || got_any || NowNs() >= deadline_ns) return false;
  }
  return false;
}

}  // namespace herald::bench
