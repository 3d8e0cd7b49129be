#pragma once
// One open SSE response: a socket and a short queue of shared event
// buffers. After the request is parsed the HTTP layer hands the bare socket
// over, so an idle stream keeps no parser, no read buffer, no coroutine
// frame and no timer of its own: its StreamShard (one per I/O thread) wakes
// it when a heartbeat or its deadline is due, and hands it its events.
//
// The socket's executor must be a single-threaded io_context's: all state
// lives on that thread. Deliver/Start/Stop may be called from any thread.
// Owned by its pending handlers (each captures shared_from_this) and by
// deliveries in flight; the Hub holds only a weak_ptr.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/tcp_socket.h"
#include "sse/hub.h"

namespace herald {
struct Metrics;
}

namespace herald::sse {

class StreamShard;
class Stream;
class StreamQuota;
struct StreamQuotaSlot;

struct StreamOptions {
  std::chrono::milliseconds heartbeat{30000};
  std::chrono::milliseconds max_duration{3600000};
  // Once its time is up (max_duration, or the credentials' expiry) the
  // stream queues its `event: error` and gives the client this long to take
  // it; a client that does not (it reads nothing, its window stays shut) is
  // cut off then, so a stalled reader cannot hold its socket and queue
  // forever. An option so that tests need not wait the production 5 s.
  std::chrono::milliseconds timeout_grace{5000};
  // Beyond this many queued events the oldest non-terminal one is dropped:
  // each event carries the full state, so a slow client only loses
  // intermediate steps and holds bounded memory.
  std::size_t max_queued_events = 64;
  // Notification streams: every event is owed (each notice, and each job's
  // change, is its own), so none is dropped. A reader that falls more than
  // max_queued_events behind is cut off instead; its Last-Event-ID resume
  // replays the rest from the store.
  bool lossless = false;
  EventPtr heartbeat_frame;  // ": heartbeat" or ":keepalive"
  // HERALD_MAX_STREAMS_PER_USER: a stream given a slot (HoldQuota) gives it
  // back here when it ends. Null: streams are not counted.
  StreamQuota* quota = nullptr;
};

// Who a stream reports to. Called on the stream's thread.
class StreamOwner {
 public:
  // Once, when the stream ends: the owner leaves the Hub here.
  virtual void Closed(Stream& stream) = 0;
  // Progress streams: an event arrived with a gap before it (another
  // process committed an event and died before publishing it). Read the
  // events after `after_seq` from the store, on another thread, and hand
  // them to `done`; the stream holds what comes next until then.
  virtual void Refill(Stream& stream, int64_t after_seq,
                      std::function<void(std::vector<EventPtr>)> done) = 0;

 protected:
  ~StreamOwner() = default;
};

class Stream final : public Subscriber, public std::enable_shared_from_this<Stream> {
 public:
  // `options`, `metrics` and `owner` must outlive the stream. `label` names
  // it in log lines ("audit 123"); `job_id` and `audit` are the owner's to
  // read back (job_id 0: a notification stream, which never refills).
  Stream(TcpSocket socket, const StreamOptions& options, Metrics& metrics, StreamOwner& owner,
         std::string label, int64_t job_id = 0, bool audit = false);
  ~Stream() override;

  int64_t job_id() const { return job_id_; }
  bool audit() const { return audit_; }
  const std::string& label() const { return label_; }

  // Writes `head` (response header, retry, replay), then every delivered
  // event with seq > last_seq (events without seq always). With `finished`
  // the stream ends once `head` is written. Events delivered before Start
  // wait in the queue.
  void Start(std::string head, int64_t last_seq, bool finished);
  // Before Start: the stream ends at `at` (its credentials expire) with
  // `event: error` {"error": "Token expired"}, if that comes before its
  // maximum duration.
  void EndWhenCredentialsExpire(std::chrono::steady_clock::time_point at);
  // Before Start: the user's place in StreamOptions::quota, released once
  // the stream ends.
  void HoldQuota(StreamQuotaSlot* slot) { quota_slot_ = slot; }
  // Before Start: send events' `plain` form where they have one (the
  // notification stream without ?events=named).
  void UsePlainFrames() { plain_frames_ = true; }
  void Deliver(EventPtr event) override;
  StreamShard* shard() override { return &shard_; }
  // Ends the stream without writing more (server shutdown).
  void Stop() override;

 private:
  using Clock = std::chrono::steady_clock;
  friend class StreamShard;
  static constexpr uint32_t kNoSlot = static_cast<uint32_t>(-1);

  void DoStart(std::string head, int64_t last_seq, bool finished);
  void Enqueue(EventPtr event);
  void Accept(EventPtr event);  // queue it (conflating for a slow client)
  void EndRefill(std::vector<EventPtr> events);
  void Flush();
  void OnWritten(const boost::system::error_code& ec);
  void WatchPeer();
  void ArmTimer(Clock::time_point at) { wake_at_ = at; }
  void OnTimer(Clock::time_point now);
  void Close(std::string_view reason, bool client_gone);

  // Every idle stream pays for each member here: keep them few and small
  // (docs/benchmarks.md measures the total per stream).
  TcpSocket socket_;
  StreamShard& shard_;
  const StreamOptions& options_;
  Metrics& metrics_;
  StreamOwner* owner_;  // null once Closed was called
  StreamQuotaSlot* quota_slot_ = nullptr;
  std::string label_;
  int64_t job_id_;
  std::unique_ptr<std::string> head_;  // until written
  // queue_[0, inflight_) is being written (the vector keeps those buffers
  // alive); the rest waits for the next write.
  std::vector<EventPtr> queue_;
  std::unique_ptr<std::vector<EventPtr>> held_;  // set while refilling: arrived meanwhile
  std::unique_ptr<std::vector<boost::asio::const_buffer>> rest_;  // an unfinished write
  int64_t last_seq_ = 0;
  // Max duration (then Stream timeout), or the credentials' expiry when
  // sooner (then Token expired: credentials_deadline_).
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point last_write_;                          // heartbeats count from here
  Clock::time_point wake_at_ = Clock::time_point::max();  // the shard calls OnTimer then
  uint32_t shard_slot_ = kNoSlot;
  uint32_t inflight_ = 0;
  bool started_ = false;
  bool writing_ = false;
  bool finished_ = false;         // end once the queue is written
  bool terminal_queued_ = false;  // nothing after the terminal event
  bool timed_out_ = false;
  bool credentials_deadline_ = false;
  bool closed_ = false;
  bool plain_frames_ = false;   // UsePlainFrames
  bool flush_pending_ = false;  // in the shard's list of streams to write
  bool audit_;
  char peer_byte_ = 0;
};

}  // namespace herald::sse
