#pragma once
// SSE_SOURCE=db: no broker; live updates are found by polling the store's
// global feed every `interval`. One query per interval serves every stream
// of the process, however many jobs they watch. Publish is a no-op: the
// update is already in the store, which is what this bus reads.
//
// Thread-safe. Owns one polling thread between Start() and Stop().

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

#include "bus/bus.h"

namespace herald::store {
class JobStore;
}

namespace herald::bus {

class DbPollBus final : public Bus {
 public:
  // `store` must outlive the bus.
  DbPollBus(store::JobStore& store, std::chrono::milliseconds interval);
  ~DbPollBus() override;

  void SetHandler(Handler handler) override { handler_ = std::move(handler); }
  void Start() override;
  void Stop() override;
  void Publish(const std::string&, std::string) override {}
  void Subscribe(const std::string& channel) override;
  void Unsubscribe(const std::string& channel) override;

  // Runs one poll now (tests).
  void PollOnceForTest() { PollOnce(); }

 private:
  void Run();
  void PollOnce();
  bool IsSubscribed(const std::string& channel);

  store::JobStore& store_;
  const std::chrono::milliseconds interval_;
  Handler handler_;
  int64_t last_feed_id_ = 0;  // only touched by the polling thread (and Start)

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;                      // guarded by mu_
  std::unordered_set<std::string> channels_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace herald::bus
