#pragma once
// Time is injected: decisions based on wall time (token expiry, timestamps)
// read a Clock, so tests can use test::ManualClock (tests/fakes/manual_clock.h).

#include <chrono>
#include <cstdint>
#include <string>

namespace herald {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Milliseconds since the Unix epoch.
  int64_t NowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch()).count();
  }
};

// The real wall clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

// "2026-11-22T15:04:05Z" for milliseconds since the epoch (UTC, whole seconds).
std::string FormatIso8601(int64_t epoch_ms);

}  // namespace herald
