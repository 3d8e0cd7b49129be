#pragma once
// Opens progress streams: the protocol between a socket handed over by the
// HTTP layer and a live Stream, in order:
//   join     the stream joins the Hub before anything is read, so every
//            event published from then on reaches it;
//   window   a job with a live window (its recent events in memory, shared
//            by all its streams) starts the stream from there: no database;
//   subscribed / replay   otherwise the first stream of the job waits until
//            the bus hears the channel (a confirmed Redis SUBSCRIBE), reads
//            the job and its newest events from the store and seeds the
//            window; streams that joined meanwhile start from it too. A
//            Last-Event-ID older than the window is replayed from the store;
//   refill   a stream that later sees a gap (a process died between commit
//            and publish) reads the missing events from the store;
//   live     Stream::Start writes the head and drops the queued live events
//            the start already covered: no gap, no duplicate.
//
// Thread-safe; Open may be called on any I/O thread.

#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/tcp_socket.h"
#include "sse/hub.h"
#include "sse/stream.h"

namespace herald {
struct Metrics;
}
namespace herald::bus {
class Bus;
}
namespace herald::store {
class JobStore;
}

namespace herald::sse {

struct ProgressOpen {
  int64_t job_id = 0;
  bool audit = false;
  std::optional<int64_t> resume;  // Last-Event-ID
  std::string head;               // response header and retry, written first
  // When the caller's credentials expire: the stream ends then.
  std::chrono::steady_clock::time_point expires_at = std::chrono::steady_clock::time_point::max();
  // The user's stream quota slot (StreamOptions::quota), given back when
  // the stream ends.
  StreamQuotaSlot* quota_slot = nullptr;
};

class ProgressStreams final : public StreamOwner {
 public:
  // All must outlive this object. `window_events`: how many events a
  // seeded window starts with (the Hub's HubOptions::window_events).
  ProgressStreams(Hub& hub, bus::Bus& bus, store::JobStore& store,
                  boost::asio::thread_pool& blocking, const StreamOptions& options,
                  Metrics& metrics, std::size_t window_events);

  void Open(TcpSocket socket, ProgressOpen request);

  void Closed(Stream& stream) override;
  void Refill(Stream& stream, int64_t after_seq,
              std::function<void(std::vector<EventPtr>)> done) override;

 private:
  void Load(int64_t job_id, const std::string& channel);
  void Begin(const std::shared_ptr<Stream>& stream, ProgressOpen request, const StartPoint& start);
  void ReadFromStore(const std::shared_ptr<Stream>& stream, ProgressOpen request);

  Hub& hub_;
  bus::Bus& bus_;
  store::JobStore& store_;
  boost::asio::thread_pool& blocking_;
  const StreamOptions& options_;
  Metrics& metrics_;
  const std::size_t window_events_;
};

}  // namespace herald::sse
