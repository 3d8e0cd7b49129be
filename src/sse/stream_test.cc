// Stream and its StreamShard on a real loopback connection and a
// single-threaded io_context, without the rest of the server: what a
// client reads, in which order, and when the stream tells its owner.
#include "sse/stream.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "sse/event_format.h"
#include "sse/stream_shard.h"

namespace herald::sse {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

EventPtr Frame(int64_t seq, bool terminal = false) {
  auto e = std::make_shared<Event>();
  e->seq = seq;
  e->terminal = terminal;
  e->wire = FormatEvent(seq, "progress", "{\"n\":" + std::to_string(seq) + "}");
  return e;
}

// Records what the stream tells it; answers a refill with `refill_with`.
class FakeOwner final : public StreamOwner {
 public:
  void Closed(Stream&) override {
    std::lock_guard lock(mu_);
    ++closed_;
  }
  void Refill(Stream&, int64_t after_seq,
              std::function<void(std::vector<EventPtr>)> done) override {
    std::lock_guard lock(mu_);
    refills_.push_back(after_seq);
    // Answered from another thread, as the store's pool does; joined in
    // TearDown (JoinAll), so that the stream it holds is let go while the
    // io_context and its StreamShard still exist (a detached thread could
    // drop the last reference after the fixture destroyed them: ASan saw it).
    threads_.emplace_back([done = std::move(done), events = refill_with_] { done(events); });
  }
  void JoinAll() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }
  ~FakeOwner() { JoinAll(); }
  int closed() {
    std::lock_guard lock(mu_);
    return closed_;
  }
  std::vector<int64_t> refills() {
    std::lock_guard lock(mu_);
    return refills_;
  }
  void RefillWith(std::vector<EventPtr> events) {
    std::lock_guard lock(mu_);
    refill_with_ = std::move(events);
  }

 private:
  std::mutex mu_;
  int closed_ = 0;
  std::vector<int64_t> refills_;
  std::vector<EventPtr> refill_with_;
  std::vector<std::thread> threads_;
};

class SseStreamUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.heartbeat = 10s;
    options_.max_duration = 60s;
    auto beat = std::make_shared<Event>();
    beat->comment = true;
    beat->wire = FormatComment("heartbeat");
    options_.heartbeat_frame = beat;

    asio::ip::tcp::acceptor acceptor(ctx_, {asio::ip::make_address("127.0.0.1"), 0});
    client_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(acceptor.local_endpoint().port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(client_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{0, 100 * 1000};  // reads wait at most 100 ms each
    ::setsockopt(client_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    server_socket_.emplace(ctx_);
    acceptor.accept(*server_socket_);
  }
  void TearDown() override {
    if (client_ >= 0) ::close(client_);
    owner_.JoinAll();
    work_.reset();
    ctx_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::shared_ptr<Stream> MakeStream(int64_t job_id = 1) {
    auto stream = std::make_shared<Stream>(std::move(*server_socket_), options_, metrics_, owner_,
                                           "job 1", job_id);
    thread_ = std::thread([this] { ctx_.run(); });
    return stream;
  }

  // Reads until `want` has arrived (everything read so far is returned) or
  // `timeout` passed.
  std::string ReadUntil(const std::string& want, std::chrono::milliseconds timeout = 3s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (received_.find(want) == std::string::npos && std::chrono::steady_clock::now() < end) {
      char buf[4096];
      ssize_t n = ::recv(client_, buf, sizeof buf, 0);
      if (n > 0) received_.append(buf, static_cast<size_t>(n));
      if (n == 0) break;  // the stream ended
    }
    return received_;
  }
  bool PeerClosed(std::chrono::milliseconds timeout = 3s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      char buf[4096];
      ssize_t n = ::recv(client_, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n > 0) received_.append(buf, static_cast<size_t>(n));
    }
    return false;
  }
  // Runs `fn` on the stream's thread and waits for its result.
  template <class F>
  auto OnStreamThread(F fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    asio::post(ctx_, [&task] { task(); });
    return result.get();
  }
  std::size_t ShardStreams() {
    return OnStreamThread(
        [this] { return StreamShard::For(ctx_.get_executor()).StreamCountForTest(); });
  }
  template <class Pred>
  bool Eventually(Pred pred) {
    for (int i = 0; i < 300 && !pred(); ++i) std::this_thread::sleep_for(10ms);
    return pred();
  }

  // What a stream refers to outlives the context, which may still hold
  // streams (in its pending operations) when it is destroyed.
  StreamOptions options_;
  Metrics metrics_;
  FakeOwner owner_;
  std::string received_;
  int client_ = -1;
  std::thread thread_;
  asio::io_context ctx_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ctx_);
  std::optional<TcpSocket> server_socket_;
};

TEST_F(SseStreamUnitTest, TheHeadComesFirstAndQueuedEventsTheStartCoveredAreDropped) {
  auto stream = MakeStream();
  // Live events that arrived while the start was being read...
  for (int64_t seq : {1, 2, 3}) stream->Deliver(Frame(seq));
  // ...of which the start (its replay up to 2) covered the first two.
  stream->Start("HEAD\n\n", 2, false);
  std::string got = ReadUntil("id: 3\n");
  EXPECT_EQ(got, "HEAD\n\n" + Frame(3)->wire);
  stream->Deliver(Frame(3));  // again: a duplicate is not sent
  stream->Deliver(Frame(4));
  got = ReadUntil("id: 4\n");
  EXPECT_EQ(got, "HEAD\n\n" + Frame(3)->wire + Frame(4)->wire);
  EXPECT_EQ(ShardStreams(), 1u);
  EXPECT_EQ(owner_.closed(), 0);
}

TEST_F(SseStreamUnitTest, ABurstOfEventsArrivesWholeAndInOrder) {
  auto stream = MakeStream();
  stream->Start("HEAD\n\n", 0, false);
  std::string want = "HEAD\n\n";
  for (int64_t seq = 1; seq <= 50; ++seq) {
    stream->Deliver(Frame(seq));
    want += Frame(seq)->wire;
  }
  EXPECT_EQ(ReadUntil("id: 50\n"), want);
  EXPECT_TRUE(Eventually([&] { return metrics_.events_delivered.load() == 50; }))
      << metrics_.events_delivered.load();
}

TEST_F(SseStreamUnitTest, AnIdleStreamGetsAHeartbeatFromItsShard) {
  options_.heartbeat = 100ms;
  auto stream = MakeStream();
  stream->Start("HEAD\n\n", 0, false);
  EXPECT_EQ(ReadUntil(": heartbeat\n"), "HEAD\n\n: heartbeat\n");
  EXPECT_TRUE(Eventually([&] { return metrics_.heartbeats_sent.load() >= 1; }));
}

TEST_F(SseStreamUnitTest, TheTerminalEventEndsTheStreamAndTellsTheOwnerOnce) {
  auto stream = MakeStream();
  stream->Start("HEAD\n\n", 0, false);
  stream->Deliver(Frame(1, /*terminal=*/true));
  stream->Deliver(Frame(2));  // nothing after the terminal event
  EXPECT_TRUE(PeerClosed());
  EXPECT_EQ(received_, "HEAD\n\n" + Frame(1, true)->wire);
  EXPECT_TRUE(Eventually([&] { return owner_.closed() == 1; }));
  EXPECT_EQ(ShardStreams(), 0u);
}

TEST_F(SseStreamUnitTest, AClientThatLeavesIsNoticedAndTakenOffTheShard) {
  auto stream = MakeStream();
  stream->Start("HEAD\n\n", 0, false);
  ReadUntil("HEAD\n\n");
  EXPECT_EQ(ShardStreams(), 1u);
  ::close(client_);
  client_ = -1;
  EXPECT_TRUE(Eventually([&] { return owner_.closed() == 1; }));
  EXPECT_EQ(ShardStreams(), 0u);
}

TEST_F(SseStreamUnitTest, AGapIsRefilledFromTheOwnerAndWhatCameMeanwhileWaits) {
  auto stream = MakeStream(/*job_id=*/7);
  owner_.RefillWith({Frame(2), Frame(3)});
  stream->Start("HEAD\n\n", 1, false);
  stream->Deliver(Frame(4));  // 2 and 3 never came over the bus
  stream->Deliver(Frame(5));
  std::string want = "HEAD\n\n" + Frame(2)->wire + Frame(3)->wire + Frame(4)->wire + Frame(5)->wire;
  EXPECT_EQ(ReadUntil("id: 5\n"), want);
  EXPECT_EQ(owner_.refills(), (std::vector<int64_t>{1}));
}

}  // namespace
}  // namespace herald::sse
