#pragma once
// The event bus carries published progress between processes (Redis) or
// within one (memory), or discovers it by polling the store (db). Channels
// are the contract's "audit:progress:{id}" / "job:progress:{id}", plus
// kFeedChannel, which carries every job event and notice for /notify/events.
//
// Implementations are thread-safe. Publish never blocks on the network; the
// handler is called from the bus's own thread (or the publisher's, for the
// memory bus) and must not block either.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace herald::bus {

// Carries FeedMessage JSON: {"id":N,"audience":"alice","notice":false,
// "event":"audit","data":{...}} for every job event and notice.
inline constexpr std::string_view kFeedChannel = "herald:feed";

class Bus {
 public:
  using Handler = std::function<void(std::string_view channel, std::string_view payload)>;

  virtual ~Bus() = default;

  // Set once, before Start().
  virtual void SetHandler(Handler handler) = 0;
  virtual void Start() {}
  virtual void Stop() {}

  // Messages from one thread to one channel arrive in the order published.
  virtual void Publish(const std::string& channel, std::string payload) = 0;
  // Reference counting is the caller's (the Hub's) job: one Subscribe per
  // channel. The Hub calls these under its own lock: they must not block
  // and must not call the handler synchronously.
  virtual void Subscribe(const std::string& channel) = 0;
  virtual void Unsubscribe(const std::string& channel) = 0;

  // Runs `ready` (on any thread, possibly at once) when a message published
  // on `channel` from then on will reach the handler: for Redis, once the
  // SUBSCRIBE is confirmed. A stream reads the store only after this, so
  // nothing committed between its read and the subscription is lost.
  // Call after Subscribe.
  virtual void WhenSubscribed(const std::string& channel, std::function<void()> ready) {
    (void)channel;
    auto run = std::move(ready);
    run();
  }

  // For /healthz "redis": "up", "down", or "n/a" for buses without Redis.
  virtual std::string_view RedisHealth() const { return "n/a"; }
};

}  // namespace herald::bus
