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

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sse/hub.h"

namespace herald {
struct Metrics;
}

namespace herald::sse {

class StreamShard;

struct StreamOptions {
  std::chrono::milliseconds heartbeat{30000};
  std::chrono::milliseconds max_duration{3600000};
  // Beyond this many queued events the oldest non-terminal one is dropped:
  // each event carries the full state, so a slow client only loses
  // intermediate steps and holds bounded memory.
  std::size_t max_queued_events = 64;
  EventPtr heartbeat_frame;  // ": heartbeat" or ":keepalive"
};

class Stream final : public Subscriber, public std::enable_shared_from_this<Stream> {
 public:
  // `options` and `metrics` must outlive the stream. `label` names it in log
  // lines ("audit 123"); `on_close` runs once on the strand when it ends
  // (the owner leaves the Hub there).
  Stream(boost::asio::ip::tcp::socket socket, const StreamOptions& options,
         Metrics& metrics, std::string label);
  ~Stream() override;

  void SetOnClose(std::function<void()> on_close) { on_close_ = std::move(on_close); }

  // Reads the events after `after_seq` from the store (on another thread)
  // and hands them to `done`. Set for progress streams: when an event
  // arrives with a gap before it (another process committed an event and
  // died before publishing it), the stream holds what comes next, reads the
  // missing ones, and goes on in order.
  using Refill =
      std::function<void(int64_t after_seq, std::function<void(std::vector<EventPtr>)> done)>;
  void SetRefill(Refill refill) { refill_ = std::move(refill); }

  // Writes `head` (response header, retry, replay), then every delivered
  // event with seq > last_seq (events without seq always). With `finished`
  // the stream ends once `head` is written. Events delivered before Start
  // wait in the queue.
  void Start(std::string head, int64_t last_seq, bool finished);
  void Deliver(EventPtr event) override;
  // Ends the stream without writing more (server shutdown).
  void Stop() override;

 private:
  using Clock = std::chrono::steady_clock;
  friend class StreamShard;
  static constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);

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

  boost::asio::ip::tcp::socket socket_;
  StreamShard& shard_;
  const StreamOptions& options_;
  Metrics& metrics_;
  std::string label_;
  std::function<void()> on_close_;
  Refill refill_;
  bool refilling_ = false;
  std::vector<EventPtr> held_;  // arrived while refilling

  std::string head_;
  std::vector<EventPtr> queue_;     // waiting to be written
  std::vector<EventPtr> inflight_;  // being written; keeps the buffers alive
  std::vector<boost::asio::const_buffer> buffers_;
  int64_t last_seq_ = 0;
  Clock::time_point deadline_;    // max duration; then Stream timeout
  Clock::time_point last_write_;  // heartbeats count from here
  Clock::time_point wake_at_ = Clock::time_point::max();  // the shard calls OnTimer then
  std::size_t shard_slot_ = kNoSlot;
  bool flush_pending_ = false;   // in the shard's list of streams to write
  bool started_ = false;
  bool writing_ = false;
  bool finished_ = false;        // end once the queue is written
  bool terminal_queued_ = false; // nothing after the terminal event
  bool timed_out_ = false;
  bool closed_ = false;
  char peer_byte_ = 0;
};

}  // namespace herald::sse
