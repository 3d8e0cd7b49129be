// The opening protocol of progress streams (join -> subscribed -> replay ->
// refill -> live) on fakes: a real Hub over a FakeBus whose subscription
// confirmations the test releases, a store that counts its reads and can be
// told to fail, and real loopback sockets read as a client would.
#include "sse/progress_streams.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "fakes/fake_job_store.h"
#include "fakes/fake_bus.h"
#include "jobs/job.h"
#include "sse/event_format.h"

namespace herald::sse {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::FakeJobStore;
using Method = FakeJobStore::Method;
using test::FakeBus;

constexpr std::size_t kWindow = 4;
const std::string kHead = "HEAD\n\n";

// One client connection as the test sees it.
class Client {
 public:
  explicit Client(int fd) : fd_(fd) {
    timeval tv{0, 50 * 1000};  // reads wait at most 50 ms each
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Reads until `want` has arrived, the peer closed, or `timeout` passed.
  const std::string& ReadUntil(const std::string& want, std::chrono::milliseconds timeout = 3s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!closed_ && received_.find(want) == std::string::npos &&
           std::chrono::steady_clock::now() < end) {
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) received_.append(buf, static_cast<size_t>(n));
      if (n == 0) closed_ = true;
    }
    return received_;
  }
  bool closed() const { return closed_; }
  // The ids of the events received so far, in order.
  std::vector<int64_t> Ids() const {
    std::vector<int64_t> ids;
    for (size_t at = received_.find("id: "); at != std::string::npos;
         at = received_.find("id: ", at + 4)) {
      ids.push_back(std::stoll(received_.substr(at + 4)));
    }
    return ids;
  }

 private:
  int fd_;
  std::string received_;
  bool closed_ = false;
};

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> out;
  for (int64_t s = from; s <= to; ++s) out.push_back(s);
  return out;
}

class ProgressStreamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.heartbeat = 60s;
    options_.max_duration = 600s;
    auto beat = std::make_shared<Event>();
    beat->comment = true;
    beat->wire = FormatComment("heartbeat");
    options_.heartbeat_frame = beat;
    thread_ = std::thread([this] { ctx_.run(); });
  }
  void TearDown() override {
    clients_.clear();
    hub_.StopAll();
    blocking_.join();
    work_.reset();
    ctx_.stop();
    thread_.join();
  }

  int64_t NewJob() {
    auto applied = store_.real().CreateJob(store::NewJob{"t", "alice", "", "", 0});
    EXPECT_TRUE(applied);
    return applied->job.id;  // its creation is event 1
  }
  // Commits progress `p` to the store; returns the payload the bus would carry.
  std::string Commit(int64_t id, int p, std::optional<jobs::JobStatus> status = std::nullopt) {
    jobs::ProgressUpdate u;
    u.progress = p;
    u.status = status;
    std::vector<store::JobUpdate> batch{store::JobUpdate{id, u, false}};
    auto r = store_.real().UpdateJobs(batch);
    EXPECT_TRUE(r && r->front()) << (r ? r->front().error().message : r.error().message);
    return r->front()->event.payload;
  }
  void Publish(int64_t id, const std::string& payload) {
    bus_.Inject(jobs::ChannelFor("job", id), payload);
  }

  // Opens a stream the way the HTTP layer hands one over.
  Client& Open(int64_t id, std::optional<int64_t> resume = std::nullopt) {
    asio::ip::tcp::acceptor acceptor(ctx_, {asio::ip::make_address("127.0.0.1"), 0});
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(acceptor.local_endpoint().port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    TcpSocket socket(ctx_);
    acceptor.accept(socket);
    clients_.push_back(std::make_unique<Client>(fd));
    streams_.Open(std::move(socket), ProgressOpen{id, false, resume, kHead});
    return *clients_.back();
  }

  // GetJob + EventsAfter calls so far (failed ones included).
  int JobReads() const {
    return store_.Calls(Method::kGetJob) + store_.Calls(Method::kEventsAfter);
  }

  template <class Pred>
  static bool Eventually(Pred pred) {
    for (int i = 0; i < 300 && !pred(); ++i) std::this_thread::sleep_for(10ms);
    return pred();
  }

  FakeJobStore store_;
  FakeBus bus_;
  Hub hub_{bus_, HubOptions{kWindow, 1 << 20, 1000ms}};
  Metrics metrics_;
  StreamOptions options_;
  asio::io_context ctx_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ctx_);
  asio::thread_pool blocking_{2};
  ProgressStreams streams_{hub_, bus_, store_, blocking_, options_, metrics_, kWindow};
  std::thread thread_;
  std::vector<std::unique_ptr<Client>> clients_;
};

TEST_F(ProgressStreamsTest, TheFirstStreamReadsTheStoreOnlyOnceTheBusHearsTheChannel) {
  const int64_t id = NewJob();
  Commit(id, 10);
  bus_.HoldConfirmations();
  Client& client = Open(id);
  ASSERT_TRUE(Eventually([&] { return bus_.PendingConfirmations() == 1; }));
  EXPECT_TRUE(bus_.IsSubscribed(jobs::ChannelFor("job", id)));
  // Committed before the subscription is heard: the read must come after it.
  Commit(id, 20);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(JobReads(), 0);
  EXPECT_EQ(client.ReadUntil("id:", 100ms), "");

  bus_.Confirm();
  // Without Last-Event-ID: the head, then the current state (event 3),
  // which includes what was committed before the read.
  const std::string& got = client.ReadUntil("id: 3\n");
  EXPECT_EQ(got.rfind(kHead, 0), 0u) << got;
  EXPECT_EQ(client.Ids(), std::vector<int64_t>({3}));
  EXPECT_NE(got.find("\"progress\":20"), std::string::npos) << got;
  EXPECT_GT(JobReads(), 0);
}

TEST_F(ProgressStreamsTest, AStreamOfALiveJobStartsFromItsWindowWithoutReadingTheStore) {
  const int64_t id = NewJob();
  std::vector<std::string> payloads;
  for (int p = 1; p <= 6; ++p) payloads.push_back(Commit(id, p));  // events 2..7
  Client& first = Open(id);
  first.ReadUntil("id: 7\n");
  ASSERT_EQ(first.Ids(), std::vector<int64_t>({7}));
  const int reads = JobReads();
  ASSERT_GT(reads, 0);

  // Resumes the window holds (it keeps the newest 4: 4..7) and a fresh start.
  Client& resumed = Open(id, 5);
  Client& fresh = Open(id);
  resumed.ReadUntil("id: 7\n");
  fresh.ReadUntil("id: 7\n");
  EXPECT_EQ(resumed.Ids(), std::vector<int64_t>({6, 7}));
  EXPECT_EQ(fresh.Ids(), std::vector<int64_t>({7}));
  EXPECT_EQ(JobReads(), reads);
  EXPECT_EQ(metrics_.window_loads.load(), 1);
  EXPECT_EQ(metrics_.starts_from_window.load(), 3);
  EXPECT_EQ(metrics_.starts_from_store.load(), 0);

  // Live from there on, each event once, to every stream.
  Publish(id, Commit(id, 50));
  for (Client* c : {&first, &resumed, &fresh}) c->ReadUntil("id: 8\n");
  EXPECT_EQ(first.Ids(), std::vector<int64_t>({7, 8}));
  EXPECT_EQ(resumed.Ids(), std::vector<int64_t>({6, 7, 8}));
  EXPECT_EQ(fresh.Ids(), std::vector<int64_t>({7, 8}));
  EXPECT_EQ(JobReads(), reads);
}

TEST_F(ProgressStreamsTest, AResumeOlderThanTheWindowIsReplayedFromTheStoreWithoutGapOrDuplicate) {
  const int64_t id = NewJob();
  for (int p = 1; p <= 9; ++p) Commit(id, p);  // events 2..10
  Client& first = Open(id);
  first.ReadUntil("id: 10\n");
  const int reads = JobReads();

  Client& resumed = Open(id, 2);  // the window holds 7..10
  resumed.ReadUntil("id: 10\n");
  EXPECT_EQ(resumed.Ids(), Range(3, 10));
  EXPECT_GT(JobReads(), reads);
  EXPECT_EQ(metrics_.starts_from_store.load(), 1);
  Publish(id, Commit(id, 99));
  resumed.ReadUntil("id: 11\n");
  EXPECT_EQ(resumed.Ids(), Range(3, 11));
}

TEST_F(ProgressStreamsTest, EventsPublishedWhileTheWindowLoadsFollowTheStartOnce) {
  const int64_t id = NewJob();
  Commit(id, 1);  // event 2
  bus_.HoldConfirmations();
  Client& resumed = Open(id, 1);
  Client& fresh = Open(id);
  ASSERT_TRUE(Eventually([&] { return bus_.PendingConfirmations() == 1; }));  // one load
  // Committed and published while the streams wait: the store read will
  // include event 3, and the bus already delivered it.
  Publish(id, Commit(id, 2));
  bus_.Confirm();
  resumed.ReadUntil("id: 3\n");
  fresh.ReadUntil("id: 3\n");
  Publish(id, Commit(id, 3));
  resumed.ReadUntil("id: 4\n");
  fresh.ReadUntil("id: 4\n");
  EXPECT_EQ(resumed.Ids(), Range(2, 4));
  EXPECT_EQ(fresh.Ids(), Range(3, 4));
}

TEST_F(ProgressStreamsTest, AGapIsRefilledFromTheStore) {
  const int64_t id = NewJob();
  Client& client = Open(id);
  client.ReadUntil("id: 1\n");
  // Event 2 is committed but its publish is lost (its writer died); 3 arrives.
  Commit(id, 2);
  Publish(id, Commit(id, 3));
  client.ReadUntil("id: 3\n");
  EXPECT_EQ(client.Ids(), Range(1, 3));
}

TEST_F(ProgressStreamsTest, TheTerminalEventEndsEveryStreamOfTheJob) {
  const int64_t id = NewJob();
  Client& a = Open(id);
  Client& b = Open(id);
  a.ReadUntil("id: 1\n");
  b.ReadUntil("id: 1\n");
  Publish(id, Commit(id, 100, jobs::JobStatus::kCompleted));
  for (Client* c : {&a, &b}) {
    c->ReadUntil("never", 3s);
    EXPECT_TRUE(c->closed());
    EXPECT_EQ(c->Ids(), Range(1, 2));
  }
  EXPECT_TRUE(Eventually([&] { return metrics_.streams_open.load() == 0; }));
  // A stream opened afterwards gets the final state and ends at once.
  Client& late = Open(id);
  late.ReadUntil("never", 3s);
  EXPECT_TRUE(late.closed());
  EXPECT_EQ(late.Ids(), std::vector<int64_t>({2}));
}

TEST_F(ProgressStreamsTest, AStoreThatFailsEndsTheStreamWithAnErrorAndNothingLeaks) {
  const int64_t id = NewJob();
  // As SQLite answers past busy_timeout: "database is locked" in the detail.
  store_.Fail({Method::kGetJob, Method::kEventsAfter}, FakeJobStore::Failure::kBusy);
  Client& client = Open(id);
  const std::string& got = client.ReadUntil("never", 3s);
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(got.rfind(kHead, 0), 0u) << got;
  EXPECT_NE(got.find("event: error\n"), std::string::npos) << got;
  EXPECT_EQ(got.find("database is locked"), std::string::npos) << "store detail leaked: " << got;
  EXPECT_TRUE(Eventually([&] { return metrics_.streams_open.load() == 0; }));

  // The store is back: the next stream loads the window afresh.
  store_.Heal();
  Client& next = Open(id);
  next.ReadUntil("id: 1\n");
  EXPECT_EQ(next.Ids(), std::vector<int64_t>({1}));
}

}  // namespace
}  // namespace herald::sse
