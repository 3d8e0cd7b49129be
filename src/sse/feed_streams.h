#pragma once
// Opens notification streams (a user's job events and notices): the stream
// joins the Hub's feed, waits until the bus really hears the feed channel
// (a Redis SUBSCRIBE is confirmed), and only then reads the store. Whatever
// is published after the read arrives live; whatever was committed before
// it is in the read (the replay after Last-Event-ID); Stream::Start drops
// the overlap by id. So a gap can only come from retention, never a race.
//
// Thread-safe; Open may be called on any I/O thread.

#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/tcp_socket.h"
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

class Hub;

struct FeedOpen {
  std::string user;
  bool admin = false;             // sees every job's events
  std::optional<int64_t> resume;  // Last-Event-ID
  std::string head;               // response header, ":ok" and retry, written first
  bool named = false;             // ?events=named: `event: <name>` frames
  // When the caller's credentials expire: the stream ends then.
  std::chrono::steady_clock::time_point expires_at = std::chrono::steady_clock::time_point::max();
  // The user's stream quota slot (StreamOptions::quota), given back when
  // the stream ends.
  StreamQuotaSlot* quota_slot = nullptr;
};

class FeedStreams final : public StreamOwner {
 public:
  // All must outlive this object.
  FeedStreams(Hub& hub, bus::Bus& bus, store::JobStore& store, boost::asio::thread_pool& blocking,
              const StreamOptions& options, Metrics& metrics);

  void Open(TcpSocket socket, FeedOpen request);

  void Closed(Stream& stream) override;
  // Feed entries carry ids of their own, never refilled.
  void Refill(Stream& stream, int64_t after_seq,
              std::function<void(std::vector<EventPtr>)> done) override;

 private:
  Hub& hub_;
  bus::Bus& bus_;
  store::JobStore& store_;
  boost::asio::thread_pool& blocking_;
  const StreamOptions& options_;
  Metrics& metrics_;
};

}  // namespace herald::sse
