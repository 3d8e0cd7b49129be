#pragma once
// SSE_SOURCE=redis: progress travels over Redis pub/sub, so any number of
// Herald processes (and any program that PUBLISHes on "audit:progress:{id}")
// share one live feed.
//
// Two hiredis async connections, one subscriber and one publisher, are
// driven by the caller's io_context on one strand (no thread of their own).
// When a connection drops the bus reconnects with backoff (100 ms doubling to
// 5 s), authenticates and selects the database from the URL again, and
// re-subscribes every channel. hiredis stays inside redis_bus.cc.
//
// A Redis that hangs (stopped, swapping, a network that drops packets
// silently) is down too: both connections are probed while up, the
// publisher by PING and the subscriber by a message on a channel of this
// bus's own that the publisher sends it; a probe unanswered for `timeout`
// drops the connection, which reports down and reconnects as above.
//
// Thread-safe: Publish/Subscribe/Unsubscribe post to the strand and return at
// once; the handler is called from the strand.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "bus/bus.h"
#include "common/errors.h"

namespace boost::asio {
class io_context;
}
namespace herald::config {
struct RedisUrl;
}

namespace herald::bus {

struct RedisBusOptions {
  // A connection that does not answer (setup, or a probe) within this is
  // dropped as down. Env: SSE_REDIS_TIMEOUT_MS.
  std::chrono::milliseconds timeout{2000};
};

class RedisBus final : public Bus {
 public:
  // `ioc` must outlive the bus. A URL that does not parse is an error
  // (kBadRequest, "REDIS_URL: ...", config::ParseRedisUrl). Nothing
  // connects before Start().
  static Result<std::unique_ptr<RedisBus>> Create(boost::asio::io_context& ioc,
                                                  std::string_view redis_url,
                                                  RedisBusOptions options = {});
  ~RedisBus() override;

  RedisBus(const RedisBus&) = delete;
  RedisBus& operator=(const RedisBus&) = delete;

  void SetHandler(Handler handler) override;
  // Told on the strand when push delivery starts or stops working: up once
  // both connections are ready and every channel held at reconnect is
  // subscribed again; down (with the reason) when a connection is lost.
  // Set before Start().
  using HealthHandler = std::function<void(bool up, std::string_view reason)>;
  void SetHealthHandler(HealthHandler handler);
  void Start() override;
  // Closes both connections. Once Stop() returns the handler is not called
  // again (when the io_context is running; otherwise the shutdown is posted).
  void Stop() override;

  // Order is preserved per bus. While the publisher is down, up to
  // kMaxPendingPublishes messages wait for it (oldest dropped first).
  void Publish(const std::string& channel, std::string payload) override;
  void Subscribe(const std::string& channel) override;
  void Unsubscribe(const std::string& channel) override;
  // `ready` runs on the strand once the channel's SUBSCRIBE is confirmed, or
  // at once while there is no subscriber connection (nothing can arrive by
  // push then; the caller's fallback covers it).
  void WhenSubscribed(const std::string& channel, std::function<void()> ready) override;

  // "up" when both connections are established (and authenticated).
  std::string_view RedisHealth() const override;

  static constexpr size_t kMaxPendingPublishes = 10000;

  class Impl;

 private:
  RedisBus(boost::asio::io_context& ioc, const config::RedisUrl& endpoint, RedisBusOptions options);

  std::shared_ptr<Impl> impl_;
};

}  // namespace herald::bus
