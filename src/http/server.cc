#include "http/server.h"

#include <array>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>

#include "common/log.h"
#include "common/metrics.h"
#include "http/handler.h"

namespace herald::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
using HttpStream = beast::basic_stream<tcp, asio::io_context::executor_type>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Request ToRequest(const bhttp::request<bhttp::string_body>& req, const std::string& remote) {
  Request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  std::string_view target = r.target;
  size_t q = target.find('?');
  r.path = PercentDecode(target.substr(0, q), false);
  if (q != std::string_view::npos) r.query = ParseQuery(target.substr(q + 1));
  for (const auto& field : req) r.headers.emplace_back(Lower(field.name_string()), field.value());
  r.body = req.body();
  r.version = req.version();
  r.keep_alive = req.keep_alive();
  r.remote_address = remote;
  return r;
}

bhttp::response<bhttp::string_body> ToResponse(Reply&& reply, int version, bool keep_alive) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(reply.status), version};
  res.set(bhttp::field::server, "herald/" HERALD_VERSION);
  if (!reply.body.empty() || reply.status != 204)
    res.set(bhttp::field::content_type, reply.content_type);
  for (auto& [k, v] : reply.headers) res.insert(k, v);
  res.body() = std::move(reply.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// Answers a request that could not be parsed, then the connection closes.
asio::awaitable<void> WriteError(HttpStream& stream, int status, std::string_view msg,
                                 Metrics& metrics) {
  auto res = ToResponse(Reply::Error(status, msg), 11, false);
  stream.expires_after(std::chrono::seconds(5));
  co_await bhttp::async_write(stream, res, kNoThrow);
  metrics.ObserveRequest(status, 0);
}

// After refusing a request whose body was not read (413, 431, 400), read
// and discard what the client is still sending, for a while, before
// closing: closing with unread data makes the kernel send a reset, and the
// client (or a proxy such as nginx, which then answers 502 and takes the
// instance out of rotation) may lose the answer. Like nginx's lingering_close.
constexpr std::size_t kLingerBytes = 16 * 1024 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(2);

asio::awaitable<void> LingeringClose(HttpStream& stream) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  stream.expires_after(kLingerTime);
  std::array<char, 16 * 1024> scratch;
  std::size_t drained = 0;
  while (drained < kLingerBytes) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(scratch), kNoThrow);
    if (rec) break;
    drained += n;
  }
}

asio::awaitable<void> Session(Socket socket, const config::HttpConfig& config,
                              Handler& handler, Metrics& metrics) {
  boost::system::error_code ec;
  std::string remote;
  if (auto ep = socket.remote_endpoint(ec); !ec) remote = ep.address().to_string();
  HttpStream stream(std::move(socket));
  beast::flat_buffer buffer;
  bool first = true;

  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
    parser.body_limit(config.max_body_bytes);
    if (!first && buffer.size() == 0) {
      // Idle keep-alive: wait for the first bytes of the next request under
      // the idle timeout...
      stream.expires_after(config.keepalive_timeout);
      auto [iec, in] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
      if (iec) break;
      buffer.commit(in);
    }
    // ...then one deadline covers the whole request, so a client trickling
    // bytes (slowloris) is dropped.
    stream.expires_after(config.request_timeout);
    auto [rec, n] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
    first = false;
    if (rec == bhttp::error::end_of_stream || rec == asio::error::eof ||
        rec == beast::error::timeout || rec == asio::error::connection_reset ||
        rec == asio::error::operation_aborted) {
      break;
    }
    if (rec == bhttp::error::body_limit) {
      co_await WriteError(stream, 413, "request body too large", metrics);
      co_await LingeringClose(stream);
      co_return;
    }
    if (rec == bhttp::error::header_limit) {
      co_await WriteError(stream, 431, "request headers too large", metrics);
      co_await LingeringClose(stream);
      co_return;
    }
    if (rec) {
      co_await WriteError(stream, 400, "malformed HTTP request: " + rec.message(), metrics);
      co_await LingeringClose(stream);
      co_return;
    }

    auto started = std::chrono::steady_clock::now();
    Request request = ToRequest(parser.get(), remote);
    Outcome outcome = co_await handler.Handle(request);
    if (outcome.stream) {
      // The stream owns the connection from here; this frame, the parser and
      // the buffer go away, so an idle stream keeps none of them.
      stream.expires_never();
      outcome.stream(stream.release_socket());
      co_return;
    }
    int status = outcome.reply.status;
    bool keep_alive = request.keep_alive && status != 400;
    auto res = ToResponse(std::move(outcome.reply), request.version, keep_alive);
    stream.expires_after(config.request_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, kNoThrow);
    metrics.ObserveRequest(
        status, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (wec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

Server::Server(asio::io_context& ioc, std::vector<asio::io_context*> connections,
               const config::HttpConfig& config, Handler& handler, Metrics& metrics)
    : ioc_(ioc),
      connections_(std::move(connections)),
      config_(config), handler_(handler), metrics_(metrics), acceptor_(ioc) {}

Result<void> Server::Listen() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(config_.host, ec);
  if (ec) return MakeError(Errc::kBadRequest, "HERALD_LISTEN: '" + config_.host +
                                                  "' is not an IP address");
  tcp::endpoint endpoint(address, config_.port);
  auto fail = [&](std::string_view what) {
    return MakeError(Errc::kUnavailable, "cannot " + std::string(what) + " " + config_.host +
                                             ":" + std::to_string(config_.port) + ": " +
                                             ec.message());
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (config_.reuse_port) {
    int one = 1;
    ::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  port_ = acceptor_.local_endpoint().port();
  return {};
}

void Server::Start() {
  asio::co_spawn(
      acceptor_.get_executor(),
      [this]() -> asio::awaitable<void> {
        asio::steady_timer backoff(acceptor_.get_executor());
        bool warned = false;
        for (;;) {
          asio::io_context& home = *connections_[next_connection_];
          auto [ec, socket] = co_await acceptor_.async_accept(home, kNoThrow);
          if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
          if (ec) {
            // Out of file descriptors (EMFILE) or similar: wait a little
            // rather than spin; the connection stays in the backlog.
            if (!warned) log::Warn("accept failed: {}; backing off", ec.message());
            warned = true;
            backoff.expires_after(std::chrono::milliseconds(50));
            co_await backoff.async_wait(kNoThrow);
            continue;
          }
          warned = false;
          next_connection_ = (next_connection_ + 1) % connections_.size();
          socket.set_option(tcp::no_delay(config_.tcp_nodelay), ec);
          auto executor = socket.get_executor();
          asio::co_spawn(executor, Session(std::move(socket), config_, handler_, metrics_),
                         [](std::exception_ptr e) {
                           if (!e) return;
                           try {
                             std::rethrow_exception(e);
                           } catch (const std::exception& ex) {
                             log::Error("HTTP session failed: {}", ex.what());
                           }
                         });
        }
      },
      [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::Error("accept loop failed: {}", ex.what());
        }
      });
}

void Server::StopAccepting() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

}  // namespace herald::http
