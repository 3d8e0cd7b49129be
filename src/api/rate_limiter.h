#pragma once
// A token bucket per client key (user id, or address for anonymous calls).
// Thread-safe. Stale buckets are swept when the map grows, so memory stays
// proportional to the clients active in the last minute.

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace herald::api {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // `rate` tokens per second, at most `burst` saved; rate 0 allows everything.
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}

  // 0 when allowed; otherwise the seconds to wait (for Retry-After).
  double Acquire(const std::string& key, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  const double rate_;
  const double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace herald::api
