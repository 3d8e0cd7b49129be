#pragma once
// SSE_SOURCE=redis as the seeds run it: Redis pub/sub while it works, the
// database when it does not, with nobody missing an update in between.
//
//   push     Job events arrive from Redis ("audit:progress:{id}", from any
//            publisher). The notification feed is read from the store, woken
//            by the "herald:feed" channel: ids from several processes can
//            reach Redis out of order, the store hands them out in order.
//   fallback Redis is down (or not yet up): every subscribed job is polled
//            from the store every SSE_FALLBACK_DB_INTERVAL_SECONDS. Streams
//            stay open; publishes wait in RedisBus's queue.
//   back     Once Redis is up and every channel is subscribed again, one last
//            poll delivers what was committed meanwhile, then push resumes.
//
// Thread-safe. The handler is called from the Redis strand and from the
// polling thread; the Hub is fine with both.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "bus/bus.h"
#include "common/errors.h"

namespace boost::asio {
class io_context;
}
namespace herald {
struct Metrics;
}
namespace herald::jobs {
class FeedReader;
}

namespace herald::bus {

class DbPollBus;
class RedisBus;

class RedisFallbackBus final : public Bus {
 public:
  // `ioc`, `store` and `metrics` must outlive the bus. A URL that does not
  // parse is an error (RedisBus::Create).
  // `redis_timeout`: a Redis silent this long is down (RedisBusOptions).
  static Result<std::unique_ptr<RedisFallbackBus>> Create(
      boost::asio::io_context& ioc, std::string_view redis_url, jobs::FeedReader& store,
      std::chrono::milliseconds fallback_interval, Metrics& metrics,
      std::chrono::milliseconds redis_timeout = std::chrono::milliseconds(2000));
  ~RedisFallbackBus() override;

  void SetHandler(Handler handler) override;
  void Start() override;
  void Stop() override;
  void Publish(const std::string& channel, std::string payload) override;
  void Subscribe(const std::string& channel) override;
  void Unsubscribe(const std::string& channel) override;
  void WhenSubscribed(const std::string& channel, std::function<void()> ready) override;
  std::string_view RedisHealth() const override;

 private:
  RedisFallbackBus(std::unique_ptr<RedisBus> redis, jobs::FeedReader& store,
                   std::chrono::milliseconds fallback_interval, Metrics& metrics);
  void OnHealth(bool up, std::string_view reason);

  std::unique_ptr<RedisBus> redis_;
  std::unique_ptr<DbPollBus> poll_;
  Metrics& metrics_;
  const std::chrono::milliseconds interval_;
  Handler handler_;
  bool was_up_ = false;  // on the Redis strand only
};

}  // namespace herald::bus
