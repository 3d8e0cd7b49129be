#pragma once
// A herald::Clock that only moves when a test moves it: Set() puts it at a
// moment, Advance() moves it on. Thread-safe (a store's threads read it while
// the test advances it).

#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/clock.h"

namespace herald::test {

class ManualClock final : public Clock {
 public:
  // 2026-11-22T15:04:05Z, the contract's example timestamp, unless told.
  static constexpr int64_t kDefaultStartMs = 1795359845000;

  explicit ManualClock(int64_t epoch_ms = kDefaultStartMs) : ms_(epoch_ms) {}

  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_.load()));
  }
  // Milliseconds since the Unix epoch.
  void Set(int64_t epoch_ms) { ms_.store(epoch_ms); }
  void Set(std::chrono::system_clock::time_point at) {
    Set(std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
  }
  void Advance(int64_t ms) { ms_.fetch_add(ms); }
  void Advance(std::chrono::milliseconds d) { Advance(d.count()); }

 private:
  std::atomic<int64_t> ms_;
};

}  // namespace herald::test
