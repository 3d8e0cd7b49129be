#include "api/rate_limiter.h"

#include <algorithm>

namespace herald::api {

double RateLimiter::Acquire(const std::string& key, Clock::time_point now) {
  if (rate_ <= 0) return 0;
  std::lock_guard lock(mu_);
  if (buckets_.size() > 10000) {
    std::erase_if(buckets_, [&](const auto& kv) {
      return now - kv.second.updated > std::chrono::minutes(1);
    });
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.updated = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return (1 - b.tokens) / rate_;
}

}  // namespace herald::api
