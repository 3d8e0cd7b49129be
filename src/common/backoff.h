#pragma once
// Reconnect delays: `initial`, then multiplied by `multiplier` after every
// attempt up to `max`; Reset() once a connection works. With `jitter` j in
// [0, 1] each delay is drawn uniformly from [d * (1 - j), d * (1 + j)]
// (still at most `max`), so many clients that lost the same server do not
// come back in step. Not thread-safe: one per connection, used on its strand.

#include <chrono>
#include <cstdint>
#include <random>

namespace herald {

struct BackoffOptions {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{5000};
  double multiplier = 2.0;  // at least 1
  double jitter = 0.0;      // 0: exact delays
};

class Backoff {
 public:
  explicit Backoff(BackoffOptions options = {}, uint64_t seed = std::random_device{}());

  // The delay before the next attempt; the one after it grows.
  std::chrono::milliseconds Next();
  // Back to `initial` (a connection succeeded).
  void Reset();

  const BackoffOptions& options() const { return options_; }

 private:
  BackoffOptions options_;
  std::chrono::milliseconds current_;
  std::mt19937_64 random_;
};

}  // namespace herald
