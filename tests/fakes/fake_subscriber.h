#pragma once
// An sse::Subscriber for unit tests: records every delivered event and every
// Stop() call. Thread-safe.

#include <mutex>
#include <vector>

#include "sse/hub.h"

namespace herald::test {

class FakeSubscriber final : public sse::Subscriber {
 public:
  void Deliver(sse::EventPtr event) override {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
  }
  void Stop() override {
    std::lock_guard lock(mu_);
    ++stops_;
  }

  std::vector<sse::EventPtr> Events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  size_t EventCount() const {
    std::lock_guard lock(mu_);
    return events_.size();
  }
  int StopCount() const {
    std::lock_guard lock(mu_);
    return stops_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<sse::EventPtr> events_;
  int stops_ = 0;
};

}  // namespace herald::test
