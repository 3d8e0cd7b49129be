#include "bus/memory_bus.h"

namespace herald::bus {

void MemoryBus::Publish(const std::string& channel, std::string payload) {
  {
    std::lock_guard lock(mu_);
    if (!channels_.contains(channel)) return;  // nobody listens: nothing to do
  }
  if (handler_) handler_(channel, payload);
}

void MemoryBus::Subscribe(const std::string& channel) {
  std::lock_guard lock(mu_);
  channels_.insert(channel);
}

void MemoryBus::Unsubscribe(const std::string& channel) {
  std::lock_guard lock(mu_);
  channels_.erase(channel);
}

}  // namespace herald::bus
