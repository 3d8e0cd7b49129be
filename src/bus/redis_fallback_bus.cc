#include "bus/redis_fallback_bus.h"

#include "bus/db_poll_bus.h"
#include "bus/redis_bus.h"
#include "common/log.h"
#include "common/metrics.h"

namespace herald::bus {
namespace {
constexpr size_t kJobsLogged = 10;
}

Result<std::unique_ptr<RedisFallbackBus>> RedisFallbackBus::Create(
    boost::asio::io_context& ioc, std::string_view redis_url, jobs::FeedReader& store,
    std::chrono::milliseconds fallback_interval, Metrics& metrics,
    std::chrono::milliseconds redis_timeout) {
  auto redis = RedisBus::Create(ioc, redis_url, RedisBusOptions{redis_timeout});
  if (!redis) return redis.error();
  return std::unique_ptr<RedisFallbackBus>(
      new RedisFallbackBus(std::move(*redis), store, fallback_interval, metrics));
}

RedisFallbackBus::RedisFallbackBus(std::unique_ptr<RedisBus> redis, jobs::FeedReader& store,
                                   std::chrono::milliseconds fallback_interval, Metrics& metrics)
    : redis_(std::move(redis)),
      poll_(std::make_unique<DbPollBus>(store, fallback_interval)),
      metrics_(metrics),
      interval_(fallback_interval) {
  // Until Redis is up, the store is the only source.
  metrics_.bus_fallback = 1;
}

RedisFallbackBus::~RedisFallbackBus() { Stop(); }

void RedisFallbackBus::SetHandler(Handler handler) {
  handler_ = std::move(handler);
  poll_->SetHandler(handler_);
  redis_->SetHandler([this](std::string_view channel, std::string_view payload) {
    // The feed travels through the store (see the header); its Redis
    // message only says "read now".
    if (channel == kFeedChannel) {
      poll_->Wake();
      return;
    }
    if (handler_) handler_(channel, payload);
  });
  redis_->SetHealthHandler([this](bool up, std::string_view reason) { OnHealth(up, reason); });
}

void RedisFallbackBus::Start() {
  poll_->Start();
  redis_->Start();
}

void RedisFallbackBus::Stop() {
  redis_->Stop();
  poll_->Stop();
}

void RedisFallbackBus::Publish(const std::string& channel, std::string payload) {
  redis_->Publish(channel, std::move(payload));
}

void RedisFallbackBus::Subscribe(const std::string& channel) {
  poll_->Subscribe(channel);
  redis_->Subscribe(channel);
}

void RedisFallbackBus::Unsubscribe(const std::string& channel) {
  redis_->Unsubscribe(channel);
  poll_->Unsubscribe(channel);
}

void RedisFallbackBus::WhenSubscribed(const std::string& channel, std::function<void()> ready) {
  redis_->WhenSubscribed(channel, std::move(ready));
}

std::string_view RedisFallbackBus::RedisHealth() const { return redis_->RedisHealth(); }

void RedisFallbackBus::OnHealth(bool up, std::string_view reason) {
  // On the Redis strand, before any subscription waiter is released, so a
  // stream that opens during an outage reads the store with polling on.
  if (up) {
    poll_->SetDispatchJobs(false);
    metrics_.bus_fallback = 0;
    if (was_up_)
      log::Info("SSE Redis is back: streams use push again");
    else
      log::Info("SSE Redis connected: streams use push");
    was_up_ = true;
    return;
  }
  poll_->SetDispatchJobs(true);
  metrics_.bus_fallback = 1;
  if (reason.empty()) reason = "connection lost";
  // The seed's line, per job being watched (a few: an outage with 10,000
  // streams open must not flood the log).
  for (const auto& channel : poll_->SomeChannels(kJobsLogged)) {
    if (channel == kFeedChannel) continue;
    auto colon = channel.find(':');
    auto last = channel.rfind(':');
    log::Warn("SSE Redis read failed for {} {}: {}", channel.substr(0, colon),
              channel.substr(last + 1), reason);
  }
  log::Warn("SSE Redis is down: streams poll the database every {} s until it returns",
            std::chrono::duration<double>(interval_).count());
}

}  // namespace herald::bus
