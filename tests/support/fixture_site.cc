#include "support/fixture_site.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace herald::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kIoTimeout = std::chrono::seconds(2);
constexpr int kSliceMs = 50;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string ContentType(std::string_view path) {
  auto ends = [&](std::string_view ext) { return path.ends_with(ext); };
  if (ends(".html") || ends(".htm")) return "text/html; charset=utf-8";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  if (ends(".xml")) return "application/xml";
  if (ends(".css")) return "text/css";
  if (ends(".js")) return "application/javascript";
  if (ends(".json")) return "application/json";
  if (ends(".png")) return "image/png";
  if (ends(".jpg") || ends(".jpeg")) return "image/jpeg";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".pdf")) return "application/pdf";
  return "application/octet-stream";
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return data;
  }
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct Response {
  int status = 200;
  std::string reason = "OK";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

std::string Head(const Response& r, std::size_t content_length) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + r.reason + "\r\n";
  for (const auto& [name, value] : r.headers) out += name + ": " + value + "\r\n";
  out += "Content-Length: " + std::to_string(content_length) + "\r\n";
  out += "Connection: close\r\n\r\n";
  return out;
}

Response Redirect(std::string location) {
  Response r;
  r.status = 302;
  r.reason = "Found";
  r.headers.emplace_back("Location", std::move(location));
  r.headers.emplace_back("Content-Type", "text/html");
  r.body = "<html><body>Moved</body></html>";
  return r;
}

Response NotFound() {
  Response r;
  r.status = 404;
  r.reason = "Not Found";
  r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  r.body =
      "<!doctype html><html lang=\"en\"><head><title>Not found</title></head>"
      "<body><h1>Not found</h1></body></html>";
  return r;
}

Response Html(std::string body) {
  Response r;
  r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  r.body = std::move(body);
  return r;
}

}  // namespace

FixtureSite::FixtureSite(std::string root_dir) : root_(std::move(root_dir)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("FixtureSite: socket failed");
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(listen_fd_);
    throw std::runtime_error("FixtureSite: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FixtureSite::~FixtureSite() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (std::thread& w : workers) w.join();
  close(listen_fd_);
}

std::string FixtureSite::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::vector<std::string> FixtureSite::RequestedTargetsForTest() const {
  std::lock_guard lock(mu_);
  return targets_;
}

void FixtureSite::AcceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, kSliceMs) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    workers_.emplace_back([this, fd] {
      Serve(fd);
      close(fd);
    });
  }
}

void FixtureSite::Serve(int fd) {
  // Sends all of `data`, polling the stop flag; false on error, stop or a
  // peer that accepts nothing for kIoTimeout.
  auto send_all = [&](std::string_view data) {
    auto deadline = Clock::now() + kIoTimeout;
    while (!data.empty()) {
      if (stop_ || Clock::now() > deadline) return false;
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, kSliceMs) <= 0) continue;
      ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
      deadline = Clock::now() + kIoTimeout;
    }
    return true;
  };
  // Waits `ms`, in slices; false when stopping.
  auto pause = [&](int ms) {
    for (int waited = 0; waited < ms; waited += kSliceMs) {
      if (stop_) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(kSliceMs));
    }
    return !stop_;
  };

  std::string request;
  auto deadline = Clock::now() + kIoTimeout;
  while (request.find("\r\n\r\n") == std::string::npos) {
    if (stop_ || Clock::now() > deadline || request.size() > 16 * 1024) return;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, kSliceMs) <= 0) continue;
    char buffer[4096];
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    request.append(buffer, static_cast<std::size_t>(n));
  }

  std::istringstream lines(request.substr(0, request.find("\r\n\r\n")));
  std::string method, target, version;
  lines >> method >> target >> version;
  std::string accept_encoding;
  for (std::string line; std::getline(lines, line);) {
    std::string lower = Lower(line);
    if (lower.starts_with("accept-encoding:")) accept_encoding = lower.substr(16);
  }
  {
    std::lock_guard lock(mu_);
    targets_.push_back(target);
  }
  std::string path = target.substr(0, target.find('?'));
  std::string query =
      target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);

  Response response;
  if (path == "/slow") {
    // Headers now, then 20 chunks 250 ms apart: about 5 s for the body.
    constexpr int kChunks = 20;
    const std::string chunk = "<p>slow.....</p>\n";  // 17 bytes
    Response head = Html("");
    if (!send_all(Head(head, chunk.size() * kChunks))) return;
    for (int i = 0; i < kChunks; ++i) {
      if (!pause(250) || !send_all(chunk)) return;
    }
    return;
  }
  if (path == "/slow-page") {
    // A complete page that takes about 2.4 s (12 chunks 200 ms apart): slow
    // enough for the audit's performance.slow check, short enough for tests.
    const std::string top =
        "<!doctype html><html lang=\"en\"><head><title>Roasting schedule this week</title>"
        "<meta name=\"description\" content=\"When each coffee is roasted this week.\">"
        "</head><body><h1>Roasting schedule</h1>\n";
    const std::string chunk = "<p>Monday to Sunday, small batches roasted to order.</p>\n";
    constexpr int kChunks = 12;
    const std::string bottom = "</body></html>\n";
    Response head = Html("");
    if (!send_all(Head(head, top.size() + chunk.size() * kChunks + bottom.size()))) return;
    if (!send_all(top)) return;
    for (int i = 0; i < kChunks; ++i) {
      if (!pause(200) || !send_all(chunk)) return;
    }
    send_all(bottom);
    return;
  }
  if (path == "/redirect-loop") {
    response = Redirect("/redirect-loop");
  } else if (path.starts_with("/redirect/")) {
    int n = std::atoi(path.c_str() + 10);
    response = n > 0 ? Redirect("/redirect/" + std::to_string(n - 1))
                     : Html(
                           "<!doctype html><html lang=\"en\"><head><title>End of the "
                           "chain</title></head><body><h1>Arrived</h1></body></html>");
  } else if (path == "/redirect-to") {
    std::string to;
    if (query.starts_with("url=")) to = PercentDecode(query.substr(4));
    response = to.empty() ? NotFound() : Redirect(to);
  } else if (path == "/big") {
    std::string body =
        "<!doctype html><html lang=\"en\"><head><title>A big page</title></head><body>"
        "<h1>Big</h1><a href=\"/index.html\">home</a>\n";
    const std::string paragraph = "<p>" + std::string(1000, 'x') + "</p>\n";
    while (body.size() < 3 * 1024 * 1024) body += paragraph;
    body += "</body></html>\n";
    response = Html(std::move(body));
  } else if (path == "/gzip") {
    std::string html =
        "<!doctype html><html lang=\"en\"><head><title>Compressed</title></head><body>"
        "<h1>Compressed page</h1><p>This page travelled gzip-encoded.</p></body></html>\n";
    response = Html(html);
    if (accept_encoding.find("gzip") != std::string::npos) {
      response.body = Gzip(html);
      response.headers.emplace_back("Content-Encoding", "gzip");
    }
    response.headers.emplace_back("Vary", "Accept-Encoding");
  } else if (path == "/doc.pdf") {
    response.headers.emplace_back("Content-Type", "application/pdf");
    response.body = "%PDF-1.4\n%fixture\n";
  } else if (path.find("..") != std::string::npos || path.empty() || path[0] != '/') {
    response = NotFound();
  } else {
    std::string file = PercentDecode(path);
    if (file.ends_with("/")) file += "index.html";
    std::ifstream in(root_ + file, std::ios::binary);
    std::ostringstream content;
    if (in && (content << in.rdbuf())) {
      response.headers.emplace_back("Content-Type", ContentType(file));
      response.body = content.str();
      // "{{origin}}" in a file is this server's origin, so fixtures can
      // carry absolute same-site URLs (canonical, hreflang) whatever the port.
      const std::string origin = "http://127.0.0.1:" + std::to_string(port_);
      for (size_t at = response.body.find("{{origin}}"); at != std::string::npos;
           at = response.body.find("{{origin}}", at + origin.size())) {
        response.body.replace(at, 10, origin);
      }
      // FILE.headers beside FILE: extra response headers, "Name: value"
      // per line (X-Robots-Tag, Last-Modified for the audit's fixtures).
      std::ifstream extra(root_ + file + ".headers");
      for (std::string line; std::getline(extra, line);) {
        if (auto colon = line.find(':'); colon != std::string::npos && colon > 0) {
          std::string value = line.substr(colon + 1);
          while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
          while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
          response.headers.emplace_back(line.substr(0, colon), value);
        }
      }
    } else {
      response = NotFound();
    }
  }
  std::string wire = Head(response, response.body.size());
  if (method != "HEAD") wire += response.body;
  send_all(wire);
}

}  // namespace herald::test
