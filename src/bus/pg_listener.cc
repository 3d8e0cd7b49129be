#include "bus/pg_listener.h"

// libpq's asynchronous API, driven by Asio. The connection is a small state
// machine on one strand:
//
//   idle ─Connect()─► connecting ─CONNECTION_OK─► listening ─LISTEN ok─► up
//     ▲   (PQconnectPoll on socket readiness)     (LISTEN sent)          │
//     └──── retry timer (backoff) ◄──── Fail(): PQfinish, health down ◄──┘
//
// Readiness comes from async_wait on a posix::stream_descriptor that wraps
// PQsocket(). The socket belongs to libpq (PQfinish closes it, and
// PQconnectPoll may close it and open another while it tries the next
// address), so the descriptor is always released, never closed, and while
// connecting it is re-wrapped after every PQconnectPoll.
//
// Every wait carries the generation of the connection it was armed for; any
// completion from an older connection is ignored. User handlers are never
// called from inside the state machine: they are posted to the strand as
// their own steps, so a handler that calls Stop() or Notify() cannot pull
// the connection out from under libpq calls in progress.

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "common/backoff.h"
#include "common/errors.h"
#include "common/log.h"
#include "config/service_url.h"

namespace herald::bus {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto kDefaultConnectTimeout = 10s;  // connect + LISTEN answered
constexpr auto kStopWait = 2s;                // Stop() waits this long for the strand
constexpr size_t kMaxChannelLength = 63;      // NAMEDATALEN - 1

Error OptionsError(std::string what) {
  return MakeError(Errc::kBadRequest, "PostgreSQL LISTEN: " + std::move(what));
}

// LISTEN takes an identifier, not a parameter, so the channel is spliced into
// SQL: only plain lower-case identifiers (which need no quoting) pass.
bool IsPlainIdentifier(std::string_view s) {
  if (s.empty() || s.size() > kMaxChannelLength) return false;
  if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z'))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

// Secrets that must never reach a log line: the password as written in the
// URL (percent-encoded) and as decoded (config::PostgresUrl::secrets).
// libpq's messages should not hold them; this makes sure.
class Scrubber {
 public:
  explicit Scrubber(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {}

  std::string operator()(std::string text) const {
    for (const auto& secret : secrets_) {
      for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
        text.replace(at, secret.size(), "***");
      }
    }
    return text;
  }

 private:
  std::vector<std::string> secrets_;
};

// What the listener takes from the URL before any connection. The URL is
// parsed by config::ParsePostgresUrl; libpq then checks the option names,
// which only it knows.
struct ParsedUrl {
  std::chrono::seconds connect_timeout = kDefaultConnectTimeout;
};

Result<ParsedUrl> ParseUrl(const std::string& url, const config::PostgresUrl& parsed,
                           const Scrubber& scrub) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &err);
  if (options == nullptr) {
    std::string why = err ? OneLine(err) : "out of memory";
    PQfreemem(err);
    return MakeError(Errc::kBadRequest, "DATABASE_URL: " + scrub(why));
  }
  PQconninfoFree(options);
  ParsedUrl out;
  // libpq honours connect_timeout only in its blocking calls; we enforce it
  // with a timer, with libpq's floor of 2 s. 0 or junk: our default.
  if (auto timeout = parsed.Option("connect_timeout")) {
    int seconds = std::atoi(std::string(*timeout).c_str());
    if (seconds > 0) out.connect_timeout = std::chrono::seconds(std::max(seconds, 2));
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------

class PgListener::Impl : public std::enable_shared_from_this<Impl> {
 public:
  using Strand = asio::strand<asio::io_context::executor_type>;

  Impl(asio::io_context& ioc, Options options, Scrubber scrub, ParsedUrl parsed)
      : ioc_(ioc),
        strand_(asio::make_strand(ioc)),
        options_(std::move(options)),
        listen_sql_("LISTEN " + options_.channel),
        scrub_(std::move(scrub)),
        connect_timeout_(parsed.connect_timeout),
        retry_(strand_),
        deadline_(strand_) {}

  ~Impl() {
    // Normally DoStop() ran on the strand. If the io_context never ran it,
    // nothing else can touch us now (every handler holds a reference).
    CloseConnection();
  }

  // --- Called from any thread --------------------------------------------

  void SetHandlers(NotifyHandler on_notify, HealthHandler on_health) {
    std::lock_guard lock(handler_mu_);
    on_notify_ = std::move(on_notify);
    on_health_ = std::move(on_health);
  }

  void Start() {
    start_requested_ = true;
    asio::post(strand_, [self = shared_from_this()] {
      if (self->started_ || self->stopping_) return;
      self->started_ = true;
      self->Connect();
    });
  }

  void Stop() {
    if (strand_.running_in_this_thread()) {  // from one of our own handlers
      stopped_ = true;
      DoStop();
      return;
    }
    bool already = false;
    {
      // Waits for a handler that is running right now; none starts after.
      std::lock_guard lock(handler_mu_);
      already = stopped_.exchange(true);
    }
    if (already) return;
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    asio::post(strand_, [self = shared_from_this(), done] {
      self->DoStop();
      done->set_value();
    });
    // Nothing to close before Start(). Waiting from a thread that runs the
    // io_context could deadlock a single-threaded one, and a stopped
    // io_context would never answer.
    if (!start_requested_ || ioc_.get_executor().running_in_this_thread() || ioc_.stopped()) {
      return;
    }
    future.wait_for(kStopWait);
  }

  void Notify(std::string payload) {
    if (payload.size() >= kMaxPayload) {
      log::Error("PostgreSQL NOTIFY payload of {} bytes dropped: the limit is {} bytes",
                 payload.size(), kMaxPayload - 1);
      return;
    }
    if (payload.find('\0') != std::string::npos) {
      log::Error("PostgreSQL NOTIFY payload dropped: it holds a NUL byte");
      return;
    }
    asio::post(strand_, [self = shared_from_this(), payload = std::move(payload)]() mutable {
      self->DoNotify(std::move(payload));
    });
  }

  bool up() const { return up_.load(); }

 private:
  enum class Phase { kIdle, kConnecting, kListening, kUp };
  enum class Command { kNone, kListen, kNotify };
  enum class Reported { kNothing, kUp, kDown };

  // --- Connection lifecycle (strand) --------------------------------------

  void Connect() {
    if (stopping_) return;
    // Defaults first: anything the URL (expanded from dbname, last) says wins.
    // Keepalives notice a server that vanished without closing the socket;
    // tcp_user_timeout one that stops acknowledging what we send.
    const char* keys[] = {"keepalives",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "tcp_user_timeout",
                          "fallback_application_name",
                          "dbname",
                          nullptr};
    const char* values[] = {"1", "15", "5", "3", "30000", "herald", options_.url.c_str(), nullptr};
    // Note: a host name is resolved synchronously by libpq (getaddrinfo).
    conn_ = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
    if (conn_ == nullptr) {
      Fail("cannot allocate a libpq connection");
      return;
    }
    PQsetNoticeProcessor(conn_, &OnNotice, this);
    if (PQstatus(conn_) == CONNECTION_BAD) {
      Fail(Reason());
      return;
    }
    phase_ = Phase::kConnecting;
    ArmDeadline();
    // libpq: before the first PQconnectPoll, wait as if it said WRITING.
    WaitForConnect(PGRES_POLLING_WRITING);
  }

  // Bounds connect + LISTEN: in non-blocking mode libpq has no timeout.
  void ArmDeadline() {
    deadline_.expires_after(connect_timeout_);
    deadline_.async_wait([self = shared_from_this(), gen = generation_](auto ec) {
      if (ec || gen != self->generation_ || self->phase_ == Phase::kUp) return;
      self->Fail(
          fmt::format("no answer from the server within {} s", self->connect_timeout_.count()));
    });
  }

  // (Re)wraps PQsocket(): it may be a different socket after any
  // PQconnectPoll, even one with the same number.
  bool WatchSocket() {
    ReleaseSocket();
    int fd = PQsocket(conn_);
    if (fd < 0) {
      Fail("libpq has no socket");
      return false;
    }
    try {
      socket_.emplace(strand_, fd);
    } catch (const std::exception& e) {
      socket_.reset();
      Fail(std::string("cannot watch the socket: ") + e.what());
      return false;
    }
    return true;
  }

  void ReleaseSocket() {
    if (!socket_) return;
    boost::system::error_code ignored;
    socket_->cancel(ignored);
    socket_->release();
    socket_.reset();
    read_armed_ = write_armed_ = false;
  }

  void WaitForConnect(PostgresPollingStatusType status) {
    if (!WatchSocket()) return;
    auto what = status == PGRES_POLLING_READING ? asio::posix::stream_descriptor::wait_read
                                                : asio::posix::stream_descriptor::wait_write;
    socket_->async_wait(what, [self = shared_from_this(), gen = generation_](auto ec) {
      if (gen != self->generation_) return;  // that connection is gone
      if (ec) {
        self->Fail("socket wait failed: " + ec.message());
        return;
      }
      self->ContinueConnect();
    });
  }

  void ContinueConnect() {
    switch (PQconnectPoll(conn_)) {
      case PGRES_POLLING_READING:
        WaitForConnect(PGRES_POLLING_READING);
        return;
      case PGRES_POLLING_OK:
        Connected();
        return;
      case PGRES_POLLING_FAILED:
        Fail(Reason());
        return;
      default:  // WRITING (ACTIVE is obsolete and never returned)
        WaitForConnect(PGRES_POLLING_WRITING);
        return;
    }
  }

  void Connected() {
    if (!WatchSocket()) return;  // fixed from now on
    if (PQsetnonblocking(conn_, 1) != 0) {
      Fail(Reason());
      return;
    }
    phase_ = Phase::kListening;
    if (!PQsendQuery(conn_, listen_sql_.c_str())) {
      Fail(Reason());
      return;
    }
    in_flight_ = Command::kListen;
    uint64_t gen = generation_;
    Flush();
    if (gen == generation_) ArmRead();
  }

  // The connection failed or dropped: free it, report, retry later.
  void Fail(const std::string& why) {
    std::string reason = why;
    if (!last_notice_.empty()) reason += " (server said: " + last_notice_ + ")";
    CloseConnection();
    if (stopping_) return;
    ReportHealth(false);
    if (!outage_logged_) {
      outage_logged_ = true;
      log::Warn("PostgreSQL LISTEN connection lost: {}; reconnecting", scrub_(reason));
    } else {
      log::Debug("PostgreSQL LISTEN still down: {}", scrub_(reason));
    }
    retry_.expires_after(backoff_.Next());
    retry_.async_wait([self = shared_from_this()](auto ec) {
      if (!ec) self->Connect();
    });
  }

  // Idempotent. A NOTIFY whose result never came goes back to the front.
  void CloseConnection() {
    ++generation_;
    ReleaseSocket();  // before PQfinish, which closes the socket
    if (conn_ != nullptr) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
    if (in_flight_ == Command::kNotify) pending_.push_front(std::move(in_flight_payload_));
    in_flight_ = Command::kNone;
    in_flight_error_.clear();
    flushing_ = false;
    last_notice_.clear();
    phase_ = Phase::kIdle;
    up_ = false;
    deadline_.cancel();
  }

  void BecameUp() {
    phase_ = Phase::kUp;
    up_ = true;
    backoff_.Reset();
    deadline_.cancel();
    if (outage_logged_) {
      outage_logged_ = false;
      log::Info("PostgreSQL LISTEN connection restored");
    } else {
      log::Info("PostgreSQL LISTEN on channel {}", options_.channel);
    }
    ReportHealth(true);
    SendNext();
  }

  void DoStop() {
    if (stopping_) return;
    stopping_ = true;
    retry_.cancel();
    CloseConnection();
    pending_.clear();
  }

  // --- I/O once connected (strand) ----------------------------------------

  // A read wait is always armed while connected: results and notifications
  // both arrive on it, and so does the end of the connection.
  void ArmRead() {
    if (read_armed_ || !socket_) return;
    read_armed_ = true;
    socket_->async_wait(asio::posix::stream_descriptor::wait_read,
                        [self = shared_from_this(), gen = generation_](auto ec) {
                          if (gen != self->generation_) return;
                          self->read_armed_ = false;
                          if (ec) {
                            self->Fail("socket wait failed: " + ec.message());
                            return;
                          }
                          self->OnReadable();
                        });
  }

  void ArmWrite() {
    if (write_armed_ || !socket_) return;
    write_armed_ = true;
    socket_->async_wait(asio::posix::stream_descriptor::wait_write,
                        [self = shared_from_this(), gen = generation_](auto ec) {
                          if (gen != self->generation_) return;
                          self->write_armed_ = false;
                          if (ec) {
                            self->Fail("socket wait failed: " + ec.message());
                            return;
                          }
                          // PQflush may have read input to make room; look.
                          self->OnReadable();
                        });
  }

  // libpq: after sending on a non-blocking connection, PQflush until it
  // returns 0, waiting for write readiness (and consuming input meanwhile).
  void Flush() {
    int r = PQflush(conn_);
    if (r < 0) {
      Fail(Reason());
      return;
    }
    flushing_ = (r == 1);
    if (flushing_) ArmWrite();
  }

  void OnReadable() {
    if (!PQconsumeInput(conn_)) {  // a read error or EOF: the server is gone
      Fail(Reason());
      return;
    }
    uint64_t gen = generation_;
    if (flushing_) {
      Flush();
      if (gen != generation_) return;
    }
    DrainResults();
    if (gen != generation_) return;
    // libpq stops parsing at a finished result until it is fetched, so parse
    // once more for notifications that came in behind the last one.
    PQisBusy(conn_);
    DrainNotifications();
    if (PQstatus(conn_) == CONNECTION_BAD) {
      Fail(Reason());
      return;
    }
    ArmRead();
  }

  // Only reads what PQconsumeInput parsed already: never blocks.
  void DrainResults() {
    uint64_t gen = generation_;
    while (gen == generation_ && in_flight_ != Command::kNone && !PQisBusy(conn_)) {
      PGresult* result = PQgetResult(conn_);
      if (result == nullptr) {  // the command is complete
        CommandDone();
        continue;
      }
      ExecStatusType status = PQresultStatus(result);
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && in_flight_error_.empty()) {
        const char* message = PQresultErrorMessage(result);
        in_flight_error_ = OneLine(message && *message ? message : PQresStatus(status));
      }
      PQclear(result);
    }
  }

  void CommandDone() {
    if (PQstatus(conn_) == CONNECTION_BAD) {  // an error result from a dying server
      Fail(Reason());                         // puts a NOTIFY back in the queue
      return;
    }
    Command done = std::exchange(in_flight_, Command::kNone);
    std::string error = std::exchange(in_flight_error_, {});
    if (done == Command::kListen) {
      if (!error.empty()) {
        Fail("LISTEN failed: " + error);
        return;
      }
      BecameUp();
      return;
    }
    std::string payload = std::move(in_flight_payload_);
    if (!error.empty()) {
      log::Error("PostgreSQL NOTIFY of {} bytes failed and was dropped: {}", payload.size(),
                 scrub_(error));
    }
    SendNext();
  }

  void DrainNotifications() {
    std::vector<std::string> batch;
    while (PGnotify* n = PQnotifies(conn_)) {
      if (options_.channel == n->relname) batch.emplace_back(n->extra);
      PQfreemem(n);
    }
    if (batch.empty()) return;
    asio::post(strand_, [self = shared_from_this(), batch = std::move(batch)] {
      self->DeliverNotifications(batch);
    });
  }

  // --- NOTIFY (strand) ------------------------------------------------------

  void DoNotify(std::string payload) {
    if (stopping_) return;
    if (pending_.size() >= kMaxPending) {
      pending_.pop_front();
      if (!overflow_logged_) {
        overflow_logged_ = true;
        log::Warn("PostgreSQL NOTIFY queue full ({}), dropping the oldest", kMaxPending);
      }
    }
    pending_.push_back(std::move(payload));
    SendNext();
  }

  // One command in flight at a time: a NOTIFY in its own implicit
  // transaction, so PostgreSQL neither merges equal payloads nor reorders.
  void SendNext() {
    if (phase_ != Phase::kUp || in_flight_ != Command::kNone) return;
    if (pending_.empty()) {
      overflow_logged_ = false;
      return;
    }
    in_flight_payload_ = std::move(pending_.front());
    pending_.pop_front();
    in_flight_ = Command::kNotify;
    const char* params[] = {options_.channel.c_str(), in_flight_payload_.c_str()};
    if (!PQsendQueryParams(conn_, "SELECT pg_notify($1, $2)", 2, nullptr, params, nullptr, nullptr,
                           0)) {
      Fail(Reason());  // puts the payload back
      return;
    }
    Flush();
  }

  // --- Handlers: their own strand steps, never inside libpq calls ----------

  void ReportHealth(bool up) {
    Reported now = up ? Reported::kUp : Reported::kDown;
    if (reported_ == now) return;
    reported_ = now;
    asio::post(strand_, [self = shared_from_this(), up] {
      std::lock_guard lock(self->handler_mu_);
      if (!self->stopped_ && self->on_health_) self->on_health_(up);
    });
  }

  void DeliverNotifications(const std::vector<std::string>& batch) {
    std::lock_guard lock(handler_mu_);
    for (const auto& payload : batch) {
      if (stopped_ || !on_notify_) return;  // a handler may Stop() us
      on_notify_(payload);
    }
  }

  // --- Messages ---------------------------------------------------------------

  std::string Reason() const {
    const char* message = conn_ ? PQerrorMessage(conn_) : nullptr;
    std::string reason = OneLine(message ? message : "");
    return reason.empty() ? "connection failed" : reason;
  }

  // The default processor prints to stderr. A server going down sends its
  // reason this way ("terminating connection due to ..."), so keep it for
  // the outage warning.
  static void OnNotice(void* arg, const char* message) {
    auto* self = static_cast<Impl*>(arg);
    self->last_notice_ = OneLine(message);
    log::Debug("PostgreSQL LISTEN connection notice: {}", self->scrub_(self->last_notice_));
  }

  asio::io_context& ioc_;
  Strand strand_;
  const Options options_;
  const std::string listen_sql_;
  const Scrubber scrub_;
  const std::chrono::seconds connect_timeout_;

  // Held while a handler runs, so Stop() can wait out one in progress.
  std::mutex handler_mu_;
  NotifyHandler on_notify_;
  HealthHandler on_health_;

  // Strand-only state.
  PGconn* conn_ = nullptr;
  std::optional<asio::posix::stream_descriptor> socket_;
  uint64_t generation_ = 0;  // bumped whenever `conn_` goes away
  Phase phase_ = Phase::kIdle;
  bool read_armed_ = false, write_armed_ = false;
  bool flushing_ = false;  // PQflush left data to send
  Command in_flight_ = Command::kNone;
  std::string in_flight_payload_;
  std::string in_flight_error_;  // first error result of the command in flight
  std::deque<std::string> pending_;
  std::string last_notice_;
  Backoff backoff_;  // reconnects: 100 ms doubling to 5 s
  asio::steady_timer retry_;
  asio::steady_timer deadline_;
  Reported reported_ = Reported::kNothing;
  bool started_ = false;
  bool stopping_ = false;
  bool outage_logged_ = false;
  bool overflow_logged_ = false;

  std::atomic<bool> up_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> start_requested_{false};
};

// ---------------------------------------------------------------------------

Result<std::unique_ptr<PgListener>> PgListener::Create(asio::io_context& ioc, Options options) {
  if (!IsPlainIdentifier(options.channel)) {
    return OptionsError(
        "the channel must be a plain lower-case identifier "
        "([a-z_][a-z0-9_]*, at most 63 bytes)");
  }
  auto url = config::ParsePostgresUrl(options.url);
  if (!url) return url.error();
  Scrubber scrub(url->secrets);
  auto parsed = ParseUrl(options.url, *url, scrub);
  if (!parsed) return parsed.error();
  return std::unique_ptr<PgListener>(
      new PgListener(std::make_shared<Impl>(ioc, std::move(options), std::move(scrub), *parsed)));
}

PgListener::PgListener(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

PgListener::~PgListener() {
  // A destructor must not throw; Stop() can only if the system cannot lock
  // or post, and then the process is going down anyway.
  try {
    impl_->Stop();
  } catch (...) {
  }
}

void PgListener::SetHandlers(NotifyHandler on_notify, HealthHandler on_health) {
  impl_->SetHandlers(std::move(on_notify), std::move(on_health));
}
void PgListener::Start() { impl_->Start(); }
void PgListener::Stop() { impl_->Stop(); }
void PgListener::Notify(std::string payload) { impl_->Notify(std::move(payload)); }
bool PgListener::up() const { return impl_->up(); }

}  // namespace herald::bus
