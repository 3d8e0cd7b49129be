#include "runtime/runtime.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "api/app.h"
#include "auth/jwt.h"
#include "bus/db_poll_bus.h"
#include "bus/memory_bus.h"
#include "bus/pg_notify_bus.h"
#include "bus/redis_bus.h"
#include "bus/redis_fallback_bus.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "http/server.h"
#include "publish/publisher.h"
#include "sse/hub.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "worker/worker_pool.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

namespace herald::runtime {
namespace asio = boost::asio;

namespace {

// Blocking SQLite calls run here, never on an I/O thread.
constexpr int kBlockingThreads = 2;
// After the drain, shutdown waits at most this long for streams to close.
constexpr auto kDrainTimeout = std::chrono::seconds(2);

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(Errc::kBadRequest, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::shared_ptr<const auth::TokenVerifier>> MakeVerifier(const config::Config& config) {
  auth::VerifierOptions options;
  options.hs256_secret = config.auth.jwt_secret;
  if (!config.auth.public_key_file.empty()) {
    auto pem = ReadFile(config.auth.public_key_file);
    if (!pem) return MakeError(Errc::kBadRequest, "JWT_PUBLIC_KEY_FILE: " + pem.error().message);
    options.public_key_pem = *pem;
  }
  options.issuer = config.auth.issuer;
  options.audience = config.auth.audience;
  options.leeway = config.auth.leeway;
  if (options.hs256_secret.empty() && options.public_key_pem.empty())
    return MakeError(Errc::kBadRequest, "JWT_SECRET: required (or set JWT_PUBLIC_KEY_FILE)");
  return auth::TokenVerifier::Create(options);
}

Result<std::unique_ptr<store::JobStore>> OpenStore(const config::Config& config,
                                                   const Clock* clock) {
  const std::string& url = config.database_url;
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    store::PostgresOptions options;
    options.url = url;
    options.event_retention = config.event_retention;
    options.clock = clock;
    // One connection per thread that may call the store at once: the
    // blocking pool, the audit workers and a spare for the bus's poller.
    options.connections = kBlockingThreads + std::max(0, config.workers) + 1;
    options.call_timeout = config.db_timeout;
    options.lock_timeout = std::min(options.lock_timeout, config.db_timeout);
    auto opened = store::PostgresStore::Open(options);
    // At start the operator reads it: the detail (address, reason) included.
    if (!opened) return MakeError(opened.error().code, "DATABASE_URL: " + Describe(opened.error()));
    return std::unique_ptr<store::JobStore>(std::move(*opened));
  }
  if (!url.starts_with("sqlite://"))
    return MakeError(Errc::kBadRequest, "DATABASE_URL: must start with sqlite:// or postgresql://");
  store::SqliteOptions options;
  options.path = url.substr(std::string_view("sqlite://").size());
  options.event_retention = config.event_retention;
  options.clock = clock;
  options.busy_timeout = config.db_timeout;
  auto opened = store::SqliteStore::Open(options);
  if (!opened) return MakeError(opened.error().code, "DATABASE_URL: " + Describe(opened.error()));
  return std::unique_ptr<store::JobStore>(std::move(*opened));
}

// The bus `serve` reads live updates from (config::SseSource).
Result<std::unique_ptr<bus::Bus>> MakeBus(const config::Config& config, asio::io_context& ioc,
                                          store::JobStore& store, Metrics& metrics) {
  switch (config.sse_source) {
    case config::SseSource::kDb:
      return std::unique_ptr<bus::Bus>(
          std::make_unique<bus::DbPollBus>(store, config.sse.fallback_db_interval));
    case config::SseSource::kRedis: {
      auto redis = bus::RedisFallbackBus::Create(ioc, config.redis_url.value_or(""), store,
                                                 config.sse.fallback_db_interval, metrics,
                                                 config.sse.redis_timeout);
      if (!redis) return redis.error();
      return std::unique_ptr<bus::Bus>(std::move(*redis));
    }
    case config::SseSource::kPostgres: {
      auto postgres = bus::PgNotifyBus::Create(ioc, config.database_url, store,
                                               config.sse.fallback_db_interval, metrics);
      if (!postgres) return postgres.error();
      return std::unique_ptr<bus::Bus>(std::move(*postgres));
    }
    case config::SseSource::kMemory:
      break;
  }
  return std::unique_ptr<bus::Bus>(std::make_unique<bus::MemoryBus>());
}

worker::PoolOptions MakePoolOptions(const config::Config& config, int threads) {
  worker::PoolOptions options;
  options.threads = threads;
  options.lease = config.audit_lease;
  char host[256] = "host";
  ::gethostname(host, sizeof host - 1);
  options.worker_id = std::string(host) + ":" + std::to_string(::getpid());
  options.runner.allow_private = config.audit_allow_private;
  options.runner.crawl.user_agent = "HeraldAudit/" HERALD_VERSION;
  return options;
}

// Every stream is a file: take the hard limit, not the soft default (often
// 1,024), as nginx's worker_rlimit_nofile and Go's runtime do.
void RaiseFileLimit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return;
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
}

}  // namespace

class Runtime::Impl {
 public:
  Impl(const config::Config& config, const Clock* clock)
      : config_(config),
        clock_(clock ? clock : &system_clock_),
        ioc_(1),
        blocking_(kBlockingThreads),
        signals_(ioc_),
        drain_(ioc_),
        sweep_(ioc_) {}

  Result<void> Init() {
    if (log::Level level; log::ParseLevel(config_.log_level, &level)) log::SetLevel(level);
    if (log::Format format; log::ParseFormat(config_.log_format, &format)) log::SetFormat(format);
    auto verifier = MakeVerifier(config_);
    if (!verifier) return verifier.error();
    verifier_ = *verifier;
    auto opened = OpenStore(config_, clock_);
    if (!opened) return opened.error();
    store_ = std::move(*opened);

    auto bus = MakeBus(config_, ioc_, *store_, metrics_);
    if (!bus) return bus.error();
    bus_ = std::move(*bus);
    hub_ = std::make_unique<sse::Hub>(*bus_);
    publish::PublisherOptions publishing;
    // Publishing happens on the publisher's fan-out thread, after the 202,
    // and a bus may poll: the hub's windows hear of this process's commits
    // first, so a stream opened right after a 202 starts from that update.
    publishing.on_commit = [hub = hub_.get()](std::string_view channel, std::string_view payload) {
      hub->OnLocalCommit(channel, payload);
    };
    publisher_ =
        std::make_unique<publish::Publisher>(*store_, *bus_, metrics_, std::move(publishing));
    app_ = std::make_unique<api::App>(api::AppDeps{config_, *store_, *bus_, *hub_, *publisher_,
                                                   *verifier_, blocking_, metrics_, *clock_});
    // One context and one thread per I/O thread for the connections (and the
    // streams they become); ioc_ keeps the acceptor, the bus and the timers.
    std::vector<asio::io_context*> connections;
    for (int i = 0; i < config_.http.threads; ++i) {
      auto& context = connection_contexts_.emplace_back(std::make_unique<asio::io_context>(1));
      connection_work_.emplace_back(asio::make_work_guard(*context));
      connections.push_back(context.get());
    }
    server_ =
        std::make_unique<http::Server>(ioc_, std::move(connections), config_.http, *app_, metrics_);
    workers_ = std::make_unique<worker::WorkerPool>(*store_, *publisher_,
                                                    MakePoolOptions(config_, config_.workers));
    return {};
  }

  Result<void> Start() {
    RaiseFileLimit();
    if (auto listening = server_->Listen(); !listening) return listening.error();
    bus_->Start();
    server_->Start();
    SweepWindows();
    workers_->Start();
    log::Info("herald {} listening on http://{}:{} (sse_source={}, db={})", HERALD_VERSION,
              config_.http.host, server_->port(), config::ToString(config_.sse_source),
              config_.database_url.substr(0, config_.database_url.find(':')));
    // The io_contexts have work (the acceptor, the guards) until RequestStop.
    threads_.emplace_back([this] { ioc_.run(); });
    for (auto& context : connection_contexts_)
      threads_.emplace_back([c = context.get()] { c->run(); });
    return {};
  }

  void StopOnSignals() {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      log::Info("signal {}: shutting down", signo);
      BeginStop();
    });
  }

  void RequestStop() {
    asio::post(ioc_, [this] { BeginStop(); });
  }

  void Wait() {
    for (auto& t : threads_) t.join();
    threads_.clear();
    workers_->Stop();
    publisher_->Stop();  // what was accepted is committed and published first
    bus_->Stop();
    blocking_.join();
    log::Info("herald stopped");
  }

  uint16_t port() const { return server_->port(); }
  Metrics& metrics() { return metrics_; }
  store::JobStore& store() { return *store_; }
  publish::Publisher& publisher() { return *publisher_; }

 private:
  void SweepWindows() {
    sweep_.expires_after(std::chrono::seconds(5));
    sweep_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      hub_->Sweep();
      SweepWindows();
    });
  }

  void BeginStop() {
    if (stopping_) return;
    stopping_ = true;
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    server_->StopAccepting();
    sweep_.cancel();
    // Each open stream ends at a random moment of the drain, so its client's
    // reconnect (to another instance) is not part of one synchronized storm.
    draining_ = hub_->All();
    std::shuffle(draining_.begin(), draining_.end(), std::mt19937_64{std::random_device{}()});
    drain_started_ = std::chrono::steady_clock::now();
    drain_deadline_ = drain_started_ + config_.drain + kDrainTimeout;
    if (!draining_.empty()) {
      log::Info("draining {} streams over {} s", draining_.size(), config_.drain.count());
    }
    WaitForDrain();
  }

  // Stops the streams whose moment has come: after a fraction f of the
  // drain, the first f of the shuffled list. At its end, every stream
  // joined meanwhile too.
  void StopDueStreams() {
    const auto elapsed = std::chrono::steady_clock::now() - drain_started_;
    std::size_t due = draining_.size();
    if (elapsed < config_.drain) {
      due = static_cast<std::size_t>(static_cast<double>(draining_.size()) *
                                     std::chrono::duration<double>(elapsed) /
                                     std::chrono::duration<double>(config_.drain));
    }
    for (; drained_count_ < due; ++drained_count_) {
      draining_[drained_count_]->Stop();
      draining_[drained_count_].reset();
    }
    if (elapsed >= config_.drain && !stopped_all_) {
      stopped_all_ = true;
      hub_->StopAll();
    }
  }

  void WaitForDrain() {
    StopDueStreams();
    bool drained = metrics_.streams_open.load() == 0 && metrics_.notify_streams_open.load() == 0 &&
                   !server_->listening();
    if (drained || std::chrono::steady_clock::now() >= drain_deadline_) {
      // Idle keep-alive connections are dropped with the io_contexts.
      for (auto& work : connection_work_) work.reset();
      for (auto& context : connection_contexts_) context->stop();
      ioc_.stop();
      return;
    }
    drain_.expires_after(std::chrono::milliseconds(20));
    drain_.async_wait([this](const boost::system::error_code&) { WaitForDrain(); });
  }

  const config::Config config_;
  SystemClock system_clock_;
  const Clock* clock_;
  Metrics metrics_;
  asio::io_context ioc_;
  std::vector<std::unique_ptr<asio::io_context>> connection_contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> connection_work_;
  asio::thread_pool blocking_;
  asio::signal_set signals_;
  asio::steady_timer drain_;
  asio::steady_timer sweep_;  // ends the windows of jobs nobody watches
  std::chrono::steady_clock::time_point drain_deadline_;
  std::chrono::steady_clock::time_point drain_started_;
  std::vector<std::shared_ptr<sse::Subscriber>> draining_;  // shuffled; stopped in order
  std::size_t drained_count_ = 0;
  bool stopped_all_ = false;
  bool stopping_ = false;  // only touched on the io_context

  std::shared_ptr<const auth::TokenVerifier> verifier_;
  std::unique_ptr<store::JobStore> store_;
  std::unique_ptr<bus::Bus> bus_;
  std::unique_ptr<sse::Hub> hub_;
  std::unique_ptr<publish::Publisher> publisher_;
  std::unique_ptr<api::App> app_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<worker::WorkerPool> workers_;
  std::vector<std::thread> threads_;
};

Result<void> RunWorker(const config::Config& config) {
  if (log::Level level; log::ParseLevel(config.log_level, &level)) log::SetLevel(level);
  if (log::Format format; log::ParseFormat(config.log_format, &format)) log::SetFormat(format);
  if (config.sse_source == config::SseSource::kMemory)
    log::Warn(
        "herald worker: with SSE_SOURCE=memory the streams of `herald serve` only see "
        "this worker's progress when they poll; set REDIS_URL (or run serve with "
        "SSE_SOURCE=db)");
  // Block SIGINT/SIGTERM before any thread starts (threads inherit the
  // mask) and wait for them synchronously below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  SystemClock clock;
  auto store = OpenStore(config, &clock);
  if (!store) return store.error();
  Metrics metrics;
  // A worker only publishes. With Redis, publishes wait in the bus's queue
  // while it is down; the store has them anyway, and serve polls it then.
  asio::io_context ioc(1);
  auto work = asio::make_work_guard(ioc);
  std::unique_ptr<bus::Bus> bus;
  if (config.sse_source == config::SseSource::kRedis) {
    auto redis = bus::RedisBus::Create(ioc, config.redis_url.value_or(""),
                                       bus::RedisBusOptions{config.sse.redis_timeout});
    if (!redis) return redis.error();
    bus = std::move(*redis);
  } else if (config.sse_source == config::SseSource::kPostgres) {
    auto postgres = bus::PgNotifyBus::Create(ioc, config.database_url, **store,
                                             config.sse.fallback_db_interval, metrics,
                                             /*publish_only=*/true);
    if (!postgres) return postgres.error();
    bus = std::move(*postgres);
  }
  if (!bus) {
    bus = std::make_unique<bus::MemoryBus>();  // progress reaches serve through the store
  }
  std::thread io_thread([&ioc] { ioc.run(); });
  bus->Start();
  publish::Publisher publisher(**store, *bus, metrics);
  worker::WorkerPool pool(**store, publisher, MakePoolOptions(config, std::max(1, config.workers)));
  pool.Start();
  int signo = 0;
  sigwait(&signals, &signo);
  log::Info("signal {}: stopping audit workers", signo);
  pool.Stop();
  publisher.Stop();
  bus->Stop();
  work.reset();
  ioc.stop();
  io_thread.join();
  return {};
}

Result<std::unique_ptr<Runtime>> Runtime::Create(const config::Config& config, const Clock* clock) {
  auto impl = std::make_unique<Impl>(config, clock);
  if (auto r = impl->Init(); !r) return r.error();
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Runtime::~Runtime() = default;
Result<void> Runtime::Start() { return impl_->Start(); }
void Runtime::StopOnSignals() { impl_->StopOnSignals(); }
void Runtime::RequestStop() { impl_->RequestStop(); }
void Runtime::Wait() { impl_->Wait(); }
uint16_t Runtime::port() const { return impl_->port(); }
Metrics& Runtime::metrics() { return impl_->metrics(); }
store::JobStore& Runtime::store() { return impl_->store(); }
publish::Publisher& Runtime::publisher() { return impl_->publisher(); }

}  // namespace herald::runtime
