#include "common/backoff.h"

#include <algorithm>

namespace herald {

Backoff::Backoff(BackoffOptions options, uint64_t seed) : options_(options), random_(seed) {
  options_.initial = std::max(options_.initial, std::chrono::milliseconds(0));
  options_.max = std::max(options_.max, options_.initial);
  options_.multiplier = std::max(options_.multiplier, 1.0);
  options_.jitter = std::clamp(options_.jitter, 0.0, 1.0);
  current_ = options_.initial;
}

std::chrono::milliseconds Backoff::Next() {
  const auto base = current_;
  const double grown = static_cast<double>(current_.count()) * options_.multiplier;
  current_ = grown >= static_cast<double>(options_.max.count())
                 ? options_.max
                 : std::chrono::milliseconds(static_cast<int64_t>(grown));
  if (options_.jitter <= 0) return base;
  const double spread = static_cast<double>(base.count()) * options_.jitter;
  std::uniform_real_distribution<double> pick(static_cast<double>(base.count()) - spread,
                                              static_cast<double>(base.count()) + spread);
  const auto jittered = std::chrono::milliseconds(static_cast<int64_t>(pick(random_)));
  return std::clamp(jittered, std::chrono::milliseconds(0), options_.max);
}

void Backoff::Reset() { current_ = options_.initial; }

}  // namespace herald
