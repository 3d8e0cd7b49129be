#include "bus/pg_listener.h"

#include "support/log_capture.h"

#include "common/errors.h"
#include "common/log.h"
#include "support/child_process.h"
#include "support/postgres_server.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <iostream>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace herald::bus {
namespace {

using test::LogCapture;

using test::PostgresServer;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::duration<double, std::milli>;

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return done();
}

// postgresql://herald@127.0.0.1:PORT/NAME -> NAME, for PostgresServer::Exec.
std::string DbName(const std::string& url) { return url.substr(url.rfind('/') + 1); }

// What a listener hands its handlers, with arrival times.
class Recorder {
 public:
  PgListener::NotifyHandler OnNotify() {
    return [this](std::string_view payload) {
      std::lock_guard lock(mu_);
      payloads_.emplace_back(payload);
      arrivals_.push_back(Clock::now());
      cv_.notify_all();
    };
  }
  PgListener::HealthHandler OnHealth() {
    return [this](bool up) {
      std::lock_guard lock(mu_);
      health_.push_back(up);
      cv_.notify_all();
    };
  }

  bool WaitForCount(size_t n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return payloads_.size() >= n; });
  }
  bool WaitForPayload(const std::string& payload, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] {
      return std::find(payloads_.begin(), payloads_.end(), payload) != payloads_.end();
    });
  }
  // Waits until the latest health report is `up`.
  bool WaitForHealth(bool up, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return !health_.empty() && health_.back() == up; });
  }

  std::vector<std::string> payloads() {
    std::lock_guard lock(mu_);
    return payloads_;
  }
  std::vector<Clock::time_point> arrivals() {
    std::lock_guard lock(mu_);
    return arrivals_;
  }
  std::vector<bool> health() {
    std::lock_guard lock(mu_);
    return health_;
  }
  size_t events() {
    std::lock_guard lock(mu_);
    return payloads_.size() + health_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> payloads_;
  std::vector<Clock::time_point> arrivals_;
  std::vector<bool> health_;
};

// A TCP server on loopback that is not PostgreSQL: kSilent accepts and never
// answers (libpq waits for the SSL/startup reply forever), kCloseAtOnce
// accepts and closes. Counts connections and the peer's closes.
class FakeServer {
 public:
  enum class Mode { kSilent, kCloseAtOnce };

  explicit FakeServer(Mode mode) : mode_(mode) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }

  ~FakeServer() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : clients_) ::close(fd);
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }
  int closed_by_peer() const { return closed_by_peer_; }

 private:
  void Loop() {
    while (!done_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (int fd : clients_) fds.push_back({fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 10) <= 0) continue;
      if (fds[0].revents & POLLIN) Accept();
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        char buf[512];
        if (::read(fds[i].fd, buf, sizeof buf) > 0) continue;  // the SSL request: ignored
        ++closed_by_peer_;
        ::close(fds[i].fd);
        std::erase(clients_, fds[i].fd);
      }
    }
  }

  void Accept() {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    ++accepted_;
    if (mode_ == Mode::kCloseAtOnce) {
      ::close(fd);
    } else {
      clients_.push_back(fd);
    }
  }

  Mode mode_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::vector<int> clients_;  // the loop thread's (and the destructor's, after it)
  std::atomic<int> accepted_{0};
  std::atomic<int> closed_by_peer_{0};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Makes libpq change sockets mid-connect: the first connection answers the
// SSL request with 'S' and then bytes that are not TLS, so libpq
// (sslmode=prefer) closes that socket and opens a new one, without SSL; that
// one, and any later, is piped to PostgreSQL.
class SslBreakingProxy {
 public:
  explicit SslBreakingProxy(uint16_t target) : target_(target) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }

  ~SslBreakingProxy() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
    for (auto [a, b] : pipes_) {
      ::close(a);
      if (b >= 0) ::close(b);
    }
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  static sockaddr_in Loopback(uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
  }

  void Loop() {
    while (!done_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (auto [a, b] : pipes_) {
        fds.push_back({a, POLLIN, 0});
        if (b >= 0) fds.push_back({b, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 10) <= 0) continue;
      if (fds[0].revents & POLLIN) Accept();
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents != 0) Pump(fds[i].fd);
      }
    }
  }

  void Accept() {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    if (++accepted_ == 1) {
      char request[8];  // the SSL request
      if (::read(fd, request, sizeof request) == 8) (void)!::write(fd, "S", 1);
      pipes_.emplace_back(fd, -1);  // Pump() answers the TLS hello
      return;
    }
    int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(target_);
    if (upstream < 0 || ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (upstream >= 0) ::close(upstream);
      ::close(fd);
      return;
    }
    pipes_.emplace_back(fd, upstream);
  }

  // Copies what `fd` has to its partner; closes both at the end.
  void Pump(int fd) {
    auto it = std::find_if(pipes_.begin(), pipes_.end(),
                           [&](auto p) { return p.first == fd || p.second == fd; });
    if (it == pipes_.end()) return;  // closed earlier in this round
    int other = it->first == fd ? it->second : it->first;
    char buf[16384];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0 && other < 0) {  // the TLS client hello: not TLS in return
      static constexpr char kNotTls[] = "not TLS, not TLS, not TLS, not TLS\n";
      (void)!::write(fd, kNotTls, sizeof kNotTls - 1);
      return;
    }
    bool ok = n > 0;
    for (ssize_t sent = 0; ok && sent < n;) {
      ssize_t w = ::write(other, buf + sent, static_cast<size_t>(n - sent));
      ok = w > 0;
      sent += w;
    }
    if (ok) return;
    ::close(it->first);
    if (it->second >= 0) ::close(it->second);
    pipes_.erase(it);
  }

  uint16_t target_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::vector<std::pair<int, int>> pipes_;  // (client, upstream or -1)
  std::atomic<int> accepted_{0};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// One io_context on one thread, and the listeners on it.
class IoThread {
 public:
  IoThread() : thread_([this] { Run(); }) {}
  ~IoThread() { Join(); }

  boost::asio::io_context& ioc() { return ioc_; }

  PgListener& NewListener(Recorder* recorder, const std::string& url,
                          const std::string& channel = "herald_feed") {
    listeners_.push_back(
        PgListener::Create(ioc_, PgListener::Options{.url = url, .channel = channel}).value());
    if (recorder) listeners_.back()->SetHandlers(recorder->OnNotify(), recorder->OnHealth());
    return *listeners_.back();
  }

  // Listeners first (their Stop waits for the running io_context), then the
  // thread: once nothing is pending run() returns; bounded either way.
  void Join() {
    listeners_.clear();
    if (!thread_.joinable()) return;
    work_.reset();
    if (finished_.get_future().wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "the io_context still had work 5 s after every listener stopped";
      ioc_.stop();
    }
    thread_.join();
  }

 private:
  void Run() {
    ioc_.run();
    finished_.set_value();
  }

  boost::asio::io_context ioc_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      ioc_.get_executor()};
  std::promise<void> finished_;
  std::vector<std::unique_ptr<PgListener>> listeners_;
  std::thread thread_;  // last: starts after everything above exists
};

// ---------------------------------------------------------------------------
// Options

TEST(PgListenerOptions, RejectsChannelsThatAreNotPlainIdentifiers) {
  boost::asio::io_context ioc;
  auto create = [&](std::string channel) {
    return PgListener::Create(ioc, {.url = "postgresql://h/db", .channel = std::move(channel)});
  };
  for (const char* bad :
       {"", "Herald_feed", "herald-feed", "1feed", "feed;drop", "feed name", "\"feed\""}) {
    auto listener = create(bad);
    ASSERT_FALSE(listener) << bad;
    EXPECT_EQ(listener.error().code, Errc::kBadRequest) << bad;
  }
  EXPECT_FALSE(create(std::string(64, 'a')));
  EXPECT_TRUE(create(std::string(63, 'a')));
  EXPECT_TRUE(create("_feed_2"));
}

TEST(PgListenerOptions, BadUrlsAreRefusedWithoutShowingThePassword) {
  boost::asio::io_context ioc;
  for (const char* bad : {"", "postgresql://u:s3cr%zzet@host/db", "postgresql://host/db?bogus=1",
                          "postgresql://u:s3cr%zzet@[::1/db", "postgresql://u:s3cr/et@host/db",
                          "host=h port", "host=h password=s3cret"}) {
    auto listener = PgListener::Create(ioc, {.url = bad});
    ASSERT_FALSE(listener) << bad;
    EXPECT_EQ(listener.error().code, Errc::kBadRequest) << bad;
    EXPECT_EQ(listener.error().message.find("s3cr"), std::string::npos) << listener.error().message;
  }
}

TEST(PgListenerOptions, StopBeforeStartIsImmediateAndSilent) {
  boost::asio::io_context ioc;
  Recorder recorder;
  auto created = PgListener::Create(ioc, {.url = "postgresql://herald@127.0.0.1:1/db"});
  ASSERT_TRUE(created) << created.error().message;
  PgListener& listener = **created;
  listener.SetHandlers(recorder.OnNotify(), recorder.OnHealth());
  listener.Notify("queued");
  EXPECT_FALSE(listener.up());
  auto started = Clock::now();
  listener.Stop();  // the io_context is not running: posted, not waited for
  listener.Stop();
  EXPECT_LT(Clock::now() - started, 100ms);
  listener.Start();  // ignored after Stop()
  ioc.run_for(300ms);
  EXPECT_EQ(recorder.events(), 0u);
  EXPECT_FALSE(listener.up());
}

// ---------------------------------------------------------------------------
// Against a real PostgreSQL (one server for the binary, a database per test)

class PgListenerLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = &PostgresServer::Shared();
    url_ = server_->CreateDatabase("pgl");
    db_ = DbName(url_);
  }

  PgListener& NewListener(Recorder* recorder, std::string url = {}) {
    return io_.NewListener(recorder, url.empty() ? url_ : url);
  }
  // Owned here, so they outlive the listeners (which io_ stops first).
  Recorder& NewRecorder() { return recorders_.emplace_back(); }

  PostgresServer* server_ = nullptr;
  std::string url_;
  std::string db_;
  std::list<Recorder> recorders_;
  IoThread io_;
};

TEST_F(PgListenerLiveTest, ComesUpAndReportsHealthOnce) {
  Recorder& recorder = NewRecorder();
  PgListener& listener = NewListener(&recorder);
  EXPECT_FALSE(listener.up());
  auto started = Clock::now();
  listener.Start();
  ASSERT_TRUE(recorder.WaitForHealth(true, 5000ms));
  std::cout << "[ measured ] connect + LISTEN confirmed in " << Ms(Clock::now() - started).count()
            << " ms\n";
  EXPECT_TRUE(listener.up());
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(recorder.health(), std::vector<bool>{true});
}

TEST_F(PgListenerLiveTest, ExternalNotifyArrivesWithin100ms) {
  Recorder& recorder = NewRecorder();
  PgListener& listener = NewListener(&recorder);
  listener.Start();
  ASSERT_TRUE(recorder.WaitForHealth(true, 5000ms));

  server_->Exec(db_, "NOTIFY other_channel, 'not for us'");
  auto sent = Clock::now();  // Exec connects first: the bound is generous
  server_->Exec(db_, "NOTIFY herald_feed, 'x'");
  ASSERT_TRUE(recorder.WaitForCount(1, 2000ms));
  auto latency = recorder.arrivals().at(0) - sent;
  std::cout << "[ measured ] external NOTIFY (incl. Exec's connect) reached the handler in "
            << Ms(latency).count() << " ms\n";
  EXPECT_LT(latency, 100ms);

  // The same from a connection opened beforehand: the listener's own share.
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url_.c_str()), &PQfinish);
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  sent = Clock::now();
  PQclear(PQexec(conn.get(), "NOTIFY herald_feed, 'y'"));
  ASSERT_TRUE(recorder.WaitForCount(2, 2000ms));
  latency = recorder.arrivals().at(1) - sent;
  std::cout << "[ measured ] external NOTIFY on an open connection reached the handler in "
            << Ms(latency).count() << " ms\n";
  EXPECT_LT(latency, 100ms);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(recorder.payloads(), (std::vector<std::string>{"x", "y"}));
}

// libpq closes a socket and opens another (often with the same number) while
// it connects; the listener must follow it.
TEST_F(PgListenerLiveTest, FollowsLibpqToANewSocketWhileConnecting) {
  SslBreakingProxy proxy(server_->port());
  Recorder& recorder = NewRecorder();
  PgListener& listener = NewListener(
      &recorder, "postgresql://herald@127.0.0.1:" + std::to_string(proxy.port()) + "/" + db_);
  listener.Start();
  ASSERT_TRUE(recorder.WaitForHealth(true, 5000ms));
  EXPECT_EQ(proxy.accepted(), 2);  // SSL refused by garbage, then plain
  server_->Exec(db_, "NOTIFY herald_feed, 'via a second socket'");
  EXPECT_TRUE(recorder.WaitForPayload("via a second socket", 2000ms));
  EXPECT_EQ(recorder.health(), std::vector<bool>{true});
}

TEST_F(PgListenerLiveTest, NotifyReachesASecondListenerInOrder) {
  Recorder& sender_inbox = NewRecorder();
  Recorder& receiver_inbox = NewRecorder();
  PgListener& sender = NewListener(&sender_inbox);
  PgListener& receiver = NewListener(&receiver_inbox);
  sender.Start();
  receiver.Start();
  ASSERT_TRUE(sender_inbox.WaitForHealth(true, 5000ms));
  ASSERT_TRUE(receiver_inbox.WaitForHealth(true, 5000ms));

  constexpr int kCount = 1000;
  std::vector<std::string> want;
  for (int i = 0; i < kCount; ++i) want.push_back("job:" + std::to_string(i % 10));  // repeats
  auto started = Clock::now();
  for (const auto& payload : want) sender.Notify(payload);
  ASSERT_TRUE(receiver_inbox.WaitForCount(kCount, 30000ms))
      << receiver_inbox.payloads().size() << " of " << kCount;
  std::cout << "[ measured ] " << kCount << " NOTIFYs from one listener reached another in "
            << Ms(Clock::now() - started).count() << " ms\n";
  EXPECT_EQ(receiver_inbox.payloads(), want);
  // PostgreSQL delivers to the sending session too.
  ASSERT_TRUE(sender_inbox.WaitForCount(kCount, 5000ms));
  EXPECT_EQ(sender_inbox.payloads(), want);
}

TEST_F(PgListenerLiveTest, NotifyBeforeStartIsSentOnceUp) {
  Recorder& recorder = NewRecorder();
  PgListener& listener = NewListener(&recorder);
  listener.Notify("early-1");
  listener.Start();
  listener.Notify("early-2");
  ASSERT_TRUE(recorder.WaitForCount(2, 5000ms));
  EXPECT_EQ(recorder.payloads(), (std::vector<std::string>{"early-1", "early-2"}));
}

TEST_F(PgListenerLiveTest, RefusesPayloadsOf8000BytesAndSurvivesARejectedOne) {
  Recorder& recorder = NewRecorder();
  PgListener& listener = NewListener(&recorder);
  listener.Start();
  ASSERT_TRUE(recorder.WaitForHealth(true, 5000ms));

  std::string largest(PgListener::kMaxPayload - 1, 'a');
  listener.Notify(std::string(PgListener::kMaxPayload, 'b'));  // refused here
  listener.Notify(std::string(20000, 'c'));                    // refused here
  listener.Notify(std::string("nul\0byte", 8));                // refused here
  listener.Notify(largest);
  listener.Notify("\xff\xfe");  // not UTF-8: the server refuses it, the connection stays
  listener.Notify("after");
  ASSERT_TRUE(recorder.WaitForCount(2, 5000ms));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(recorder.payloads(), (std::vector<std::string>{largest, "after"}));
  EXPECT_TRUE(listener.up());
  EXPECT_EQ(recorder.health(), std::vector<bool>{true});
}

TEST_F(PgListenerLiveTest, StopWhileUpSilencesTheHandlersAtOnce) {
  Recorder& sender_inbox = NewRecorder();
  Recorder& receiver_inbox = NewRecorder();
  PgListener& sender = NewListener(&sender_inbox);
  PgListener& receiver = NewListener(&receiver_inbox);
  sender.Start();
  receiver.Start();
  ASSERT_TRUE(sender_inbox.WaitForHealth(true, 5000ms));
  ASSERT_TRUE(receiver_inbox.WaitForHealth(true, 5000ms));

  for (int i = 0; i < 1000; ++i) sender.Notify(std::to_string(i));
  ASSERT_TRUE(receiver_inbox.WaitForCount(10, 5000ms));
  auto started = Clock::now();
  receiver.Stop();  // mid-stream
  auto took = Clock::now() - started;
  size_t seen = receiver_inbox.events();
  std::cout << "[ measured ] Stop() while up took " << Ms(took).count() << " ms, after "
            << receiver_inbox.payloads().size() << " of 1000 notifications\n";
  EXPECT_LT(took, 500ms);
  EXPECT_FALSE(receiver.up());
  ASSERT_TRUE(sender_inbox.WaitForCount(1000, 10000ms));  // the stream went on
  EXPECT_EQ(receiver_inbox.events(), seen);
}

TEST_F(PgListenerLiveTest, StopWhileConnectingReturnsPromptlyAndClosesTheSocket) {
  FakeServer silent(FakeServer::Mode::kSilent);
  Recorder& recorder = NewRecorder();
  PgListener& listener = NewListener(
      &recorder, "postgresql://herald@127.0.0.1:" + std::to_string(silent.port()) + "/x");
  listener.Start();
  ASSERT_TRUE(WaitUntil([&] { return silent.accepted() == 1; }, 2000ms));
  std::this_thread::sleep_for(50ms);  // libpq is waiting for the server's reply

  auto started = Clock::now();
  listener.Stop();
  auto took = Clock::now() - started;
  std::cout << "[ measured ] Stop() while connecting took " << Ms(took).count() << " ms\n";
  EXPECT_LT(took, 200ms);
  EXPECT_TRUE(WaitUntil([&] { return silent.closed_by_peer() == 1; }, 1000ms));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(recorder.events(), 0u);
  EXPECT_EQ(silent.accepted(), 1);
}

TEST_F(PgListenerLiveTest, RetriesWithBackoffWhileDownAndStopEndsIt) {
  FakeServer hangs_up(FakeServer::Mode::kCloseAtOnce);
  Recorder& recorder = NewRecorder();
  PgListener& listener = NewListener(
      &recorder, "postgresql://herald@127.0.0.1:" + std::to_string(hangs_up.port()) + "/x");
  listener.Start();
  ASSERT_TRUE(recorder.WaitForHealth(false, 2000ms));

  // Attempts at about 0, 0.1, 0.3, 0.7 s (libpq may open a second socket per
  // attempt, retrying without SSL): several, but no busy loop.
  std::this_thread::sleep_for(1000ms);
  int attempts = hangs_up.accepted();
  std::cout << "[ measured ] " << attempts << " connections in the first second down\n";
  EXPECT_GE(attempts, 3);
  EXPECT_LE(attempts, 12);
  EXPECT_FALSE(listener.up());

  auto started = Clock::now();
  listener.Stop();
  EXPECT_LT(Clock::now() - started, 200ms);
  int after_stop = hangs_up.accepted();
  std::this_thread::sleep_for(1000ms);  // past the next backoff step (0.8 s)
  EXPECT_EQ(hangs_up.accepted(), after_stop);
  EXPECT_EQ(recorder.health(), std::vector<bool>{false});
  EXPECT_TRUE(recorder.payloads().empty());
}

TEST_F(PgListenerLiveTest, UnreachablePortReportsDownOnceAndNeverLogsThePassword) {
  // Added before the io thread runs anything of this test's.
  LogCapture logs;
  struct JoinFirst {  // the io thread stops before the capture goes, even on failure
    IoThread& io;
    ~JoinFirst() { io.Join(); }
  } join_first{io_};
  Recorder& recorder = NewRecorder();
  uint16_t closed = test::FreePort();
  PgListener& listener = NewListener(
      &recorder, "postgresql://herald:pw-s3cret@127.0.0.1:" + std::to_string(closed) + "/x");
  listener.Notify("kept while down");
  listener.Start();
  ASSERT_TRUE(recorder.WaitForHealth(false, 2000ms));
  std::this_thread::sleep_for(800ms);  // a few more failed attempts
  EXPECT_FALSE(listener.up());
  EXPECT_EQ(recorder.health(), std::vector<bool>{false});
  io_.Join();  // no thread logs from here on
  EXPECT_EQ(logs.Count("PostgreSQL LISTEN connection lost: "), 1) << logs.All();
  EXPECT_EQ(logs.Count("; reconnecting"), 1) << logs.All();
  EXPECT_EQ(logs.All().find("s3cret"), std::string::npos) << logs.All();
}

TEST_F(PgListenerLiveTest, ConnectTimeoutFromTheUrlBoundsASilentServer) {
  FakeServer silent(FakeServer::Mode::kSilent);
  Recorder& recorder = NewRecorder();
  PgListener& listener =
      NewListener(&recorder, "postgresql://herald@127.0.0.1:" + std::to_string(silent.port()) +
                                 "/x?connect_timeout=2");
  auto started = Clock::now();
  listener.Start();
  ASSERT_TRUE(recorder.WaitForHealth(false, 4000ms));
  auto took = Clock::now() - started;
  EXPECT_GE(took, 1900ms);
  // The stuck connection was closed and a new attempt made.
  EXPECT_TRUE(WaitUntil([&] { return silent.closed_by_peer() >= 1; }, 1000ms));
  EXPECT_TRUE(WaitUntil([&] { return silent.accepted() >= 2; }, 1000ms));
}

// ---------------------------------------------------------------------------
// A server of its own: Stop/Start would disturb everyone on Shared().

TEST(PgListenerRestart, ReportsTheOutageRecoversAndDeliversWhatWaited) {
  PostgresServer server;
  const std::string url = server.Url("postgres");
  LogCapture logs;    // before the io thread starts
  Recorder recorder;  // outlives the listener
  auto io = std::make_unique<IoThread>();
  PgListener& listener = io->NewListener(&recorder, url);
  listener.Start();
  ASSERT_TRUE(recorder.WaitForHealth(true, 5000ms));
  server.Exec("postgres", "NOTIFY herald_feed, 'before'");
  ASSERT_TRUE(recorder.WaitForPayload("before", 2000ms));

  auto killed = Clock::now();
  server.Stop();  // pg_ctl stop -m immediate
  ASSERT_TRUE(recorder.WaitForHealth(false, 2000ms));
  std::cout << "[ measured ] down reported " << Ms(Clock::now() - killed).count()
            << " ms after the kill began\n";
  EXPECT_FALSE(listener.up());
  listener.Notify("while-down");       // waits for the reconnect
  std::this_thread::sleep_for(500ms);  // a few failed attempts

  auto restarted = Clock::now();
  server.Start();
  ASSERT_TRUE(recorder.WaitForHealth(true, 10000ms));
  std::cout << "[ measured ] up again " << Ms(Clock::now() - restarted).count()
            << " ms after pg_ctl start began\n";
  EXPECT_TRUE(listener.up());
  EXPECT_TRUE(recorder.WaitForPayload("while-down", 2000ms));  // heard from itself
  server.Exec("postgres", "NOTIFY herald_feed, 'after'");
  EXPECT_TRUE(recorder.WaitForPayload("after", 2000ms));
  EXPECT_EQ(recorder.payloads(), (std::vector<std::string>{"before", "while-down", "after"}));
  EXPECT_EQ(recorder.health(), (std::vector<bool>{true, false, true}));

  io.reset();  // nothing logs from here on
  EXPECT_EQ(logs.Count("PostgreSQL LISTEN connection lost: "), 1) << logs.All();
  EXPECT_EQ(logs.Count("PostgreSQL LISTEN connection restored"), 1) << logs.All();
}

}  // namespace
}  // namespace herald::bus
