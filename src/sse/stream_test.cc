// Stream and its StreamShard on a real loopback connection and a
// single-threaded io_context, without the rest of the server: what a
// client reads, in which order, and when the stream tells its owner.
#include "sse/stream.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
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

// An event far larger than the socket buffers of a SlowReader fixture: the
// stream is still writing it until the client reads.
EventPtr BigFrame(int64_t seq) {
  auto e = std::make_shared<Event>();
  e->seq = seq;
  e->wire = FormatEvent(seq, "progress", "{\"pad\":\"" + std::string(2 << 20, 'x') + "\"}");
  return e;
}

// What a client made of the bytes it read after `head`: the ids of the
// complete events (each frame ends with a blank line) in the order they
// came, and the start of an event cut short (an SSE client discards it, and
// its Last-Event-ID stays at the last complete event).
struct ReadEvents {
  std::vector<int64_t> ids;
  std::vector<std::string> frames;
  std::string cut_short;
};
ReadEvents ParseEvents(const std::string& got, const std::string& head) {
  ReadEvents out;
  EXPECT_EQ(got.substr(0, head.size()), head);
  std::size_t at = std::min(head.size(), got.size());
  for (std::size_t end; (end = got.find("\n\n", at)) != std::string::npos; at = end + 2) {
    std::string frame = got.substr(at, end + 2 - at);
    int64_t id = -1;
    if (frame.rfind("id: ", 0) == 0) id = std::stoll(frame.substr(4));
    out.ids.push_back(id);
    out.frames.push_back(std::move(frame));
  }
  out.cut_short = got.substr(at);
  return out;
}

// 1, 2, ..., n.
std::vector<int64_t> Ids(int64_t n) {
  std::vector<int64_t> ids(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[static_cast<std::size_t>(i)] = i + 1;
  return ids;
}

// "1 2 3 ... 498 499 500 (500 ids)": long lists shortened for a failure message.
std::string Show(const std::vector<int64_t>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i == 10 && ids.size() > 20) {
      out += "... ";
      i = ids.size() - 10;
    }
    out += std::to_string(ids[i]) + " ";
  }
  return out + "(" + std::to_string(ids.size()) + " ids)";
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
    if (small_buffers_) {
      // Before connect, so that the window is small from the start.
      int size = 4096;
      ::setsockopt(client_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(acceptor.local_endpoint().port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(client_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{0, 100 * 1000};  // reads wait at most 100 ms each
    ::setsockopt(client_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    server_socket_.emplace(ctx_);
    acceptor.accept(*server_socket_);
    if (small_buffers_) {
      int size = 4096;
      ::setsockopt(server_socket_->native_handle(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
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
  // Waits until everything posted to the stream's thread so far (starts,
  // deliveries: the shard's drain) has run.
  void Settle() {
    OnStreamThread([] { return 0; });
  }
  std::size_t ShardStreams() {
    return OnStreamThread(
        [this] { return StreamShard::For(ctx_.get_executor()).StreamCountForTest(); });
  }
  template <class Pred>
  bool Eventually(Pred pred, std::chrono::milliseconds timeout = 3s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(10ms);
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
  bool small_buffers_ = false;  // set before SetUp: a few KB of socket buffer each way
};

// A client that reads slowly (or not at all): the stream's writes wait on
// socket buffers of a few kilobytes each way.
class SseStreamSlowReaderTest : public SseStreamUnitTest {
 protected:
  SseStreamSlowReaderTest() { small_buffers_ = true; }
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

// Heartbeats fill silences: the interval counts from the last write, so an
// event pushes the next heartbeat back by a whole interval.
TEST_F(SseStreamUnitTest, AHeartbeatComesOneIntervalAfterTheLastWrite) {
  options_.heartbeat = 400ms;
  auto stream = MakeStream();
  stream->Start("HEAD\n\n", 0, false);
  ReadUntil("HEAD\n\n");
  std::this_thread::sleep_for(200ms);  // half an interval of silence
  stream->Deliver(Frame(1));
  ReadUntil("id: 1\n");
  const auto event_read = std::chrono::steady_clock::now();
  std::string got = ReadUntil(": heartbeat\n");
  const auto beat_read = std::chrono::steady_clock::now();
  EXPECT_EQ(got, "HEAD\n\n" + Frame(1)->wire + ": heartbeat\n");
  // A whole interval after the event (less what reading the event may have
  // lagged), not one after the head.
  EXPECT_GE(beat_read - event_read, 300ms);
  EXPECT_EQ(metrics_.heartbeats_sent.load(), 1);
}

// A client that reads slowly holds at most max_queued_events waiting events:
// the oldest intermediate ones go (each event carries the full state), the
// terminal one always arrives, and the stream closes once it is written.
TEST_F(SseStreamSlowReaderTest, ABacklogDropsTheOldestIntermediateEventsButNeverTheTerminalOne) {
  options_.max_queued_events = 3;
  auto stream = MakeStream();
  stream->Start("HEAD\n\n", 0, false);
  stream->Deliver(BigFrame(1));
  Settle();  // the stream is writing event 1 and waits for the client to read
  for (int64_t seq = 2; seq <= 10; ++seq) stream->Deliver(Frame(seq));
  stream->Deliver(Frame(11, /*terminal=*/true));
  stream->Deliver(Frame(12));  // after the terminal event: never sent
  Settle();
  // Queued behind 1: 2..10 and 11 with room for 3, so 2..8 went.
  EXPECT_EQ(metrics_.events_dropped_slow.load(), 7);
  EXPECT_EQ(owner_.closed(), 0);

  ASSERT_TRUE(PeerClosed(10s)) << "the stream did not end after its terminal event";
  EXPECT_EQ(received_, "HEAD\n\n" + BigFrame(1)->wire + Frame(9)->wire + Frame(10)->wire +
                           Frame(11, true)->wire);
  EXPECT_TRUE(Eventually([&] { return owner_.closed() == 1; }));
  EXPECT_EQ(ShardStreams(), 0u);
}

// A peer that never reads: the stream holds the event it is writing and
// max_queued_events more, however many events come (the test counts the
// references to the events it delivered), and once its time is up it queues
// the timeout event, waits timeout_grace for the client to take it, cuts it
// off; then nothing keeps the stream or its events alive.
TEST_F(SseStreamSlowReaderTest, AStalledReaderHoldsABoundedQueueAndIsCutOffAfterItsTime) {
  options_.max_queued_events = 4;
  options_.max_duration = 200ms;
  options_.timeout_grace = 300ms;
  auto stream = MakeStream();
  const auto started = std::chrono::steady_clock::now();
  stream->Start("HEAD\n\n", 0, false);
  std::vector<EventPtr> sent{BigFrame(1)};
  stream->Deliver(sent.back());
  Settle();
  for (int64_t seq = 2; seq <= 1001; ++seq) {
    sent.push_back(Frame(seq));
    stream->Deliver(sent.back());
  }
  Settle();
  auto held = [&] {
    return OnStreamThread([&] {
      return std::count_if(sent.begin(), sent.end(),
                           [](const EventPtr& e) { return e.use_count() > 1; });
    });
  };
  EXPECT_EQ(held(), 1 + 4) << "the event being written and max_queued_events";
  EXPECT_EQ(metrics_.events_dropped_slow.load(), 1000 - 4);
  EXPECT_EQ(ShardStreams(), 1u);

  ASSERT_TRUE(Eventually([&] { return owner_.closed() == 1; }, 10s))
      << "a client that never reads was never cut off";
  const auto lasted = std::chrono::steady_clock::now() - started;
  EXPECT_GE(lasted, options_.max_duration + options_.timeout_grace)
      << "cut off before the timeout event's grace";
  EXPECT_EQ(ShardStreams(), 0u);
  EXPECT_EQ(metrics_.events_delivered.load(), 0) << "nothing was written whole";
  // Nothing else keeps the stream (or its events) alive once it ended.
  std::weak_ptr<Stream> gone = stream;
  stream.reset();
  EXPECT_TRUE(Eventually([&] { return gone.expired(); }));
  EXPECT_EQ(held(), 0) << "events still held";
}

// A notification stream (lossless) whose client falls behind loses
// nothing: instead of conflating, the stream is cut off once more than
// max_queued_events wait, and what the client got is every event from the
// first on, whole and in order, with no hole, so that its Last-Event-ID
// resume replays exactly the rest from the store. (Today the client gets
// 1..3 whole and the start of 4: the cut closes the socket at once, so 4 is
// cut short and the queued 5..7 are not sent; the resume replays them.)
TEST_F(SseStreamSlowReaderTest, ALosslessStreamFallingBehindIsCutOffWithoutAHole) {
  options_.lossless = true;
  options_.max_queued_events = 3;
  auto stream = MakeStream(/*job_id=*/0);
  stream->Start("HEAD\n\n", 0, false);
  std::vector<EventPtr> sent{nullptr};  // sent[seq]
  for (int64_t seq = 1; seq <= 3; ++seq) {
    sent.push_back(Frame(seq));
    stream->Deliver(sent.back());
  }
  ReadUntil(sent[3]->wire);  // the client keeps up so far...
  sent.push_back(BigFrame(4));
  stream->Deliver(sent.back());
  Settle();  // ...and stops reading in the middle of event 4
  for (int64_t seq = 5; seq <= 20; ++seq) {
    sent.push_back(Frame(seq));
    stream->Deliver(sent.back());
  }
  Settle();
  // 5, 6, 7 queued behind 4; 8 found no room and cut the stream off.
  EXPECT_EQ(metrics_.streams_cut_slow.load(), 1);
  EXPECT_EQ(metrics_.events_dropped_slow.load(), 0);
  EXPECT_EQ(owner_.closed(), 1);
  EXPECT_EQ(ShardStreams(), 0u);

  // The client reads on and finds the connection closed.
  EXPECT_TRUE(PeerClosed()) << "a lossless stream too far behind was not cut off";
  const ReadEvents got = ParseEvents(received_, "HEAD\n\n");
  const auto k = static_cast<int64_t>(got.ids.size());
  EXPECT_EQ(got.ids, Ids(k)) << "the events the client got are not 1..k";
  EXPECT_GE(k, 3) << "what the client had read before it fell behind";
  EXPECT_LE(k, 7) << "an event from after the cut was sent";
  for (int64_t seq = 1; seq <= std::min<int64_t>(k, 20); ++seq) {
    EXPECT_EQ(got.frames[static_cast<std::size_t>(seq - 1)],
              sent[static_cast<std::size_t>(seq)]->wire)
        << "event " << seq;
  }
  // What follows the last complete event is (the start of) the very next
  // one, never a later one.
  if (!got.cut_short.empty() && k + 1 < static_cast<int64_t>(sent.size())) {
    const std::string& next = sent[static_cast<std::size_t>(k + 1)]->wire;
    EXPECT_EQ(got.cut_short, next.substr(0, got.cut_short.size()))
        << "after event " << k << " came something other than event " << k + 1;
  }
}

// A lossless stream whose client keeps up takes a burst bigger than the
// default 64 events (a poll of the notification feed hands it over in one
// drain of the shard) when max_queued_events has room for it: all of it
// arrives, whole and in order, and nothing is dropped or cut.
TEST_F(SseStreamUnitTest, ALosslessStreamTakesABurstAsBigAsItsQueueWhole) {
  options_.lossless = true;
  options_.max_queued_events = 1000;
  auto stream = MakeStream(/*job_id=*/0);
  stream->Start("HEAD\n\n", 0, false);
  ReadUntil("HEAD\n\n");
  std::string want = "HEAD\n\n";
  std::vector<EventPtr> burst;
  for (int64_t seq = 1; seq <= 500; ++seq) {
    burst.push_back(Frame(seq));
    want += burst.back()->wire;
  }
  // Delivered from the stream's thread, all 500 wait in the shard's inbox
  // and reach the stream in one drain, before any of them is written.
  OnStreamThread([&] {
    for (const auto& e : burst) stream->Deliver(e);
    return 0;
  });
  // Compared as ids first: a failure prints which events came, not 20 KB.
  const ReadEvents got = ParseEvents(ReadUntil(burst.back()->wire), "HEAD\n\n");
  EXPECT_EQ(got.ids.size(), 500u);
  EXPECT_TRUE(got.ids == Ids(500)) << "not 1..500 in order: " << Show(got.ids);
  EXPECT_TRUE(received_ == want) << "the bytes differ";
  EXPECT_TRUE(Eventually([&] { return metrics_.events_delivered.load() == 500; }))
      << metrics_.events_delivered.load();
  EXPECT_EQ(metrics_.events_dropped_slow.load(), 0);
  EXPECT_EQ(metrics_.streams_cut_slow.load(), 0);
  EXPECT_EQ(owner_.closed(), 0);
  EXPECT_EQ(ShardStreams(), 1u);
}

// The premise of the test above: the same burst overflows a queue of the
// default 64 (it does arrive in one drain), and then the lossless stream is
// cut off before writing any of it rather than dropping some.
TEST_F(SseStreamUnitTest, ALosslessStreamIsCutOffByABurstBeyondItsQueue) {
  options_.lossless = true;
  options_.max_queued_events = 64;
  auto stream = MakeStream(/*job_id=*/0);
  stream->Start("HEAD\n\n", 0, false);
  ReadUntil("HEAD\n\n");
  OnStreamThread([&] {
    for (int64_t seq = 1; seq <= 500; ++seq) stream->Deliver(Frame(seq));
    return 0;
  });
  ASSERT_TRUE(PeerClosed());
  EXPECT_EQ(received_, "HEAD\n\n");
  EXPECT_EQ(metrics_.streams_cut_slow.load(), 1);
  EXPECT_EQ(metrics_.events_dropped_slow.load(), 0);
  EXPECT_TRUE(Eventually([&] { return owner_.closed() == 1; }));
}

}  // namespace
}  // namespace herald::sse
