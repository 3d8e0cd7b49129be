#pragma once
// SSE_SOURCE=memory: the in-process bus of a single node. Publish hands the
// message straight to the handler on the publisher's thread; the Hub only
// posts to sessions, so this never blocks.

#include <mutex>
#include <string>
#include <unordered_set>

#include "bus/bus.h"

namespace herald::bus {

class MemoryBus final : public Bus {
 public:
  void SetHandler(Handler handler) override { handler_ = std::move(handler); }
  void Publish(const std::string& channel, std::string payload) override;
  void Subscribe(const std::string& channel) override;
  void Unsubscribe(const std::string& channel) override;

 private:
  Handler handler_;
  std::mutex mu_;
  std::unordered_set<std::string> channels_;  // guarded by mu_
};

}  // namespace herald::bus
