#pragma once
// HERALD_MAX_STREAMS_PER_USER: how many streams (progress and notification)
// each user holds open on this instance, so that one user (or one leaking
// client) cannot take every connection. Thread-safe.

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace herald::sse {

// One user's count; its address is stable while the user has open streams.
struct StreamQuotaSlot {
  int open = 0;
  const std::string* user = nullptr;  // its key in StreamQuota::open_
};

class StreamQuota {
 public:
  // 0: no limit.
  explicit StreamQuota(int max_per_user) : max_(max_per_user) {}

  // Returns a slot to release when the stream ends (on every path), or null
  // when `user` holds the maximum already.
  StreamQuotaSlot* Acquire(const std::string& user);
  void Release(StreamQuotaSlot* slot);  // null: nothing to do
  int OpenFor(const std::string& user);

  // Releases on destruction unless Take()n: for a stream that may never
  // open (the socket handover can fail).
  class Hold {
   public:
    Hold(StreamQuota& quota, StreamQuotaSlot* slot) : quota_(quota), slot_(slot) {}
    ~Hold() { quota_.Release(slot_); }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    StreamQuotaSlot* Take() { return std::exchange(slot_, nullptr); }

   private:
    StreamQuota& quota_;
    StreamQuotaSlot* slot_;
  };

 private:
  const int max_;
  std::mutex mu_;
  // Node-based: a slot's address survives rehashing; erased at zero.
  std::unordered_map<std::string, StreamQuotaSlot> open_;  // guarded by mu_
};

}  // namespace herald::sse
