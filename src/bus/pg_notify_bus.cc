#include "bus/pg_notify_bus.h"

#include "bus/db_poll_bus.h"
#include "bus/pg_listener.h"
#include "common/log.h"
#include "common/metrics.h"

namespace herald::bus {

Result<std::unique_ptr<PgNotifyBus>> PgNotifyBus::Create(
    boost::asio::io_context& ioc, std::string database_url, jobs::FeedReader& store,
    std::chrono::milliseconds fallback_interval, Metrics& metrics, bool publish_only) {
  auto listener =
      PgListener::Create(ioc, PgListener::Options{std::move(database_url), "herald_feed"});
  if (!listener) return listener.error();
  return std::unique_ptr<PgNotifyBus>(
      new PgNotifyBus(std::move(*listener), store, fallback_interval, metrics, publish_only));
}

PgNotifyBus::PgNotifyBus(std::unique_ptr<PgListener> listener, jobs::FeedReader& store,
                         std::chrono::milliseconds fallback_interval, Metrics& metrics,
                         bool publish_only)
    : listener_(std::move(listener)),
      poll_(std::make_unique<DbPollBus>(store, fallback_interval)),
      metrics_(metrics),
      interval_(fallback_interval),
      publish_only_(publish_only) {
  metrics_.bus_fallback = 1;  // until LISTEN is confirmed
}

PgNotifyBus::~PgNotifyBus() { Stop(); }

void PgNotifyBus::SetHandler(Handler handler) {
  poll_->SetHandler(std::move(handler));
  listener_->SetHandlers([this](std::string_view) { poll_->Wake(); },
                         [this](bool up) { OnHealth(up); });
}

void PgNotifyBus::Start() {
  if (!publish_only_) poll_->Start();
  listener_->Start();
}

void PgNotifyBus::Stop() {
  listener_->Stop();
  poll_->Stop();
}

void PgNotifyBus::Publish(const std::string& channel, std::string payload) {
  // One wake-up per change: the feed message goes with every job event and
  // notice. Its text stays in the store (NOTIFY is capped at 8000 bytes).
  (void)payload;
  if (channel == kFeedChannel) listener_->Notify("");
}

void PgNotifyBus::Subscribe(const std::string& channel) { poll_->Subscribe(channel); }
void PgNotifyBus::Unsubscribe(const std::string& channel) { poll_->Unsubscribe(channel); }

void PgNotifyBus::OnHealth(bool up) {
  metrics_.bus_fallback = up ? 0 : 1;
  if (up) {
    // NOTIFYs sent while we were not listening are gone: read the store.
    poll_->Wake();
    if (was_up_) log::Info("SSE PostgreSQL LISTEN is back: streams use push again");
    was_up_ = true;
    return;
  }
  if (publish_only_) return;
  log::Warn("SSE PostgreSQL LISTEN failed: streams poll the database every {} s until it returns",
            std::chrono::duration<double>(interval_).count());
}

}  // namespace herald::bus
