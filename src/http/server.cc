#include "http/server.h"

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <fstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <random>

#include "common/log.h"
#include "common/metrics.h"
#include "http/beast_request.h"
#include "http/handler.h"

namespace herald::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
using HttpStream = beast::basic_stream<tcp, asio::io_context::executor_type>;
constexpr int kAcceptBatch = 256;

bhttp::response<bhttp::string_body> ToResponse(Reply&& reply, int version, bool keep_alive) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(reply.status), version};
  res.set(bhttp::field::server, "herald/" HERALD_VERSION);
  // Every answer is what its Content-Type says: never sniffed into HTML.
  res.set("X-Content-Type-Options", "nosniff");
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
                                 Metrics& metrics, int retry_after_seconds = 0) {
  Reply reply = Reply::Error(status, msg);
  if (retry_after_seconds > 0) {
    reply.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  }
  auto res = ToResponse(std::move(reply), 11, false);
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

// A client told to come back later comes back spread out, not in step.
int JitteredRetryAfter() {
  thread_local std::minstd_rand rng{std::random_device{}()};
  return 1 + static_cast<int>(rng() % 5);  // 1..5 s
}

// Counts a connection that is not (yet) a stream for HERALD_MAX_CONNECTIONS.
class SessionCount {
 public:
  explicit SessionCount(Metrics& metrics) : metrics_(metrics) {
    metrics_.http_sessions_open.fetch_add(1, std::memory_order_relaxed);
  }
  ~SessionCount() { metrics_.http_sessions_open.fetch_sub(1, std::memory_order_relaxed); }
  SessionCount(const SessionCount&) = delete;
  SessionCount& operator=(const SessionCount&) = delete;

 private:
  Metrics& metrics_;
};

// Why a new connection is turned away: its request is read (closing on an
// unread request would reset it) and answered 503 with Retry-After.
enum class Refusal {
  kNone,
  kConnectionLimit,  // the server holds HERALD_MAX_CONNECTIONS already
  kAcceptRate,       // more new connections per second than HERALD_ACCEPT_RATE
};

asio::awaitable<void> Session(Socket socket, const config::HttpConfig& config, Handler& handler,
                              Metrics& metrics, Refusal refusal) {
  SessionCount counted(metrics);
  boost::system::error_code ec;
  std::string remote;
  if (auto ep = socket.remote_endpoint(ec); !ec) remote = ep.address().to_string();
  HttpStream stream(std::move(socket));
  beast::flat_buffer buffer;
  bool first = true;

  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    ApplyLimits(parser, config);
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
    if (rec) {
      auto [status, message] = ReadProblem(rec);
      co_await WriteError(stream, status, message, metrics);
      co_await LingeringClose(stream);
      co_return;
    }
    if (std::string problem = HeadProblem(parser.get()); !problem.empty()) {
      co_await WriteError(stream, 400, problem, metrics);
      co_await LingeringClose(stream);
      co_return;
    }
    if (refusal != Refusal::kNone) {
      const bool full = refusal == Refusal::kConnectionLimit;
      (full ? metrics.refused_connection_limit : metrics.refused_accept_rate)
          .fetch_add(1, std::memory_order_relaxed);
      co_await WriteError(
          stream, 503,
          full ? "server at its connection limit" : "too many new connections; retry later",
          metrics, JitteredRetryAfter());
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

// co_spawn's completion handler: a coroutine that threw is logged, by name.
auto LogFailure(std::string_view what) {
  return [what](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::Error("{} failed: {}", what, ex.what());
    }
  };
}

// Enough accept queues (each net.core.somaxconn long) for as many
// connections as the process may have files, so that all its streams
// reconnecting at once fit; at least one per connection thread; at most 16.
std::size_t ListenerCount(std::size_t threads) {
  std::size_t somaxconn = 4096;
  if (std::ifstream in("/proc/sys/net/core/somaxconn"); in) in >> somaxconn;
  somaxconn = std::max<std::size_t>(somaxconn, 128);
  rlimit files{};
  std::size_t limit = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY)
    limit = files.rlim_cur;
  return std::clamp<std::size_t>((limit + somaxconn - 1) / somaxconn, threads, 16);
}

}  // namespace

Server::Server(asio::io_context& ioc, std::vector<asio::io_context*> connections,
               const config::HttpConfig& config, Handler& handler, Metrics& metrics)
    : ioc_(ioc),
      connections_(std::move(connections)),
      config_(config),
      handler_(handler),
      metrics_(metrics) {}

Server::~Server() = default;

Result<void> Server::Listen() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(config_.host, ec);
  if (ec)
    return MakeError(Errc::kBadRequest,
                     "HERALD_LISTEN: '" + config_.host + "' is not an IP address");
  tcp::endpoint endpoint(address, config_.port);
  auto fail = [&](std::string_view what) {
    return MakeError(Errc::kUnavailable, "cannot " + std::string(what) + " " + config_.host + ":" +
                                             std::to_string(config_.port) + ": " + ec.message());
  };
  // Several listening sockets, all on the port with SO_REUSEPORT (see
  // ListenerCount): a full accept queue drops the handshake and the client
  // retries only a second later, so a reconnect storm needs room for every
  // connection the process can hold. They are all accepted on `ioc_`,
  // whose thread has little else to do, so accepting keeps pace while the
  // connection threads are busy with streams.
  // SO_REUSEPORT would also let a second server bind the port unnoticed:
  // unless HERALD_REUSE_PORT asks for that, first make sure nobody holds it.
  if (!config_.reuse_port && endpoint.port() != 0) {
    tcp::acceptor probe(ioc_);
    probe.open(endpoint.protocol(), ec);
    if (ec) return fail("open");
    probe.set_option(asio::socket_base::reuse_address(true), ec);
    probe.bind(endpoint, ec);
    if (ec) return fail("bind");
  }
  const std::size_t listeners = ListenerCount(connections_.size());
  for (std::size_t i = 0; i < listeners; ++i) {
    auto& acceptor = acceptors_.emplace_back(std::make_unique<tcp::acceptor>(ioc_));
    acceptor->open(endpoint.protocol(), ec);
    if (ec) return fail("open");
    acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    int one = 1;
    ::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    acceptor->bind(endpoint, ec);
    if (ec) return fail("bind");
    acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen on");
    acceptor->non_blocking(true, ec);  // for the batches in Accept
    // Port 0 picked a free port: the other listeners join that one.
    endpoint.port(acceptor->local_endpoint().port());
  }
  port_ = endpoint.port();
  return {};
}

// Descriptors kept back from HERALD_MAX_CONNECTIONS' default for what is
// not a client: listeners, the database and Redis, the audit crawler, the
// reactor's own, and the connections being refused meanwhile.
constexpr int64_t kFileReserve = 128;

void Server::Start() {
  max_connections_ = config_.max_connections;
  if (max_connections_ <= 0) {
    rlimit files{};
    max_connections_ = INT64_MAX;
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
      max_connections_ = std::max<int64_t>(16, static_cast<int64_t>(files.rlim_cur) - kFileReserve);
    }
  }
  log::Info("accepting up to {} connections (HERALD_MAX_CONNECTIONS)", max_connections_);
  for (auto& acceptor : acceptors_) Accept(*acceptor);
}

void Server::Accept(tcp::acceptor& acceptor) {
  asio::co_spawn(
      acceptor.get_executor(),
      [this, &acceptor]() -> asio::awaitable<void> {
        asio::steady_timer backoff(acceptor.get_executor());
        // One warning a second at most, with how many failed meanwhile: a
        // storm past the open-file limit would otherwise log thousands.
        auto last_warned = std::chrono::steady_clock::time_point{};
        int64_t unreported = 0;
        for (;;) {
          auto [ec, socket] = co_await acceptor.async_accept(NextContext(), kNoThrow);
          if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
          if (ec) {
            // Out of file descriptors (EMFILE) or similar: wait a moment
            // rather than spin; the connection stays in the backlog. In a
            // reconnect storm the old sockets are closing meanwhile, so
            // the wait is short.
            ++unreported;
            const auto now = std::chrono::steady_clock::now();
            if (now - last_warned >= std::chrono::seconds(1)) {
              log::Warn("accept failed {} time(s): {}; backing off", unreported, ec.message());
              last_warned = now;
              unreported = 0;
            }
            backoff.expires_after(std::chrono::milliseconds(5));
            co_await backoff.async_wait(kNoThrow);
            continue;
          }
          Serve(std::move(socket));
          // Whatever else is queued is taken now, not one per wakeup: a
          // storm fills the queue faster than the reactor turns round.
          for (int i = 0; i < kAcceptBatch; ++i) {
            auto more = acceptor.accept(NextContext(), ec);
            if (ec) break;  // would_block: the queue is empty (or EMFILE: as above)
            Serve(std::move(more));
          }
        }
      },
      LogFailure("accept loop"));
}

asio::io_context& Server::NextContext() {
  asio::io_context& context = *connections_[next_context_];
  next_context_ = (next_context_ + 1) % connections_.size();
  return context;
}

// On the control thread (every acceptor runs there): a token bucket of
// HERALD_ACCEPT_RATE new connections per second, bursts of one second's.
bool Server::TakeAcceptToken() {
  if (config_.accept_rate <= 0) return true;
  const auto now = std::chrono::steady_clock::now();
  const double burst = config_.accept_rate;
  if (accept_refilled_ == std::chrono::steady_clock::time_point{}) accept_tokens_ = burst;
  accept_tokens_ = std::min(
      burst, accept_tokens_ + std::chrono::duration<double>(now - accept_refilled_).count() *
                                  config_.accept_rate);
  accept_refilled_ = now;
  if (accept_tokens_ < 1) return false;
  accept_tokens_ -= 1;
  return true;
}

void Server::Serve(Socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(config_.tcp_nodelay), ec);
  const bool rate_ok = TakeAcceptToken();
  auto executor = socket.get_executor();
  // The session's coroutine frame is made on the connection's own thread:
  // memory is then allocated and freed by one thread (glibc's per-thread
  // arenas), not allocated here and freed there under the arena's lock.
  asio::post(executor, [this, rate_ok, socket = std::move(socket)]() mutable {
    auto executor = socket.get_executor();
    // Sockets open now: sessions and streams (a handover is counted by
    // both for a moment, which errs on the side of refusing).
    const int64_t open = metrics_.http_sessions_open.load(std::memory_order_relaxed) +
                         metrics_.streams_open.load(std::memory_order_relaxed) +
                         metrics_.notify_streams_open.load(std::memory_order_relaxed);
    const Refusal refusal = open >= max_connections_ ? Refusal::kConnectionLimit
                            : !rate_ok               ? Refusal::kAcceptRate
                                                     : Refusal::kNone;
    asio::co_spawn(executor, Session(std::move(socket), config_, handler_, metrics_, refusal),
                   LogFailure("HTTP session"));
  });
}

void Server::StopAccepting() {
  // Each acceptor is closed on its own thread (Asio objects are not
  // thread-safe); listening() says when all are.
  for (auto& acceptor : acceptors_) {
    asio::post(acceptor->get_executor(), [this, a = acceptor.get()] {
      boost::system::error_code ec;
      a->close(ec);
      closed_acceptors_.fetch_add(1, std::memory_order_release);
    });
  }
}

bool Server::listening() const {
  return closed_acceptors_.load(std::memory_order_acquire) < acceptors_.size();
}

}  // namespace herald::http
