#pragma once
// SSE_SOURCE=postgres, for users with PostgreSQL and no Redis: the store is
// the bus. Every publish sends a NOTIFY on "herald_feed"; every process
// LISTENs and, when told, reads the new feed entries from the store in id
// order and hands them out (DbPollBus, woken instead of waiting for its
// tick). NOTIFY payloads are limited to 8000 bytes, so they carry nothing but
// the wake-up; the events themselves come from the store, gapless.
//
// When the LISTEN connection drops, the bus keeps polling every
// SSE_FALLBACK_DB_INTERVAL_SECONDS; when it is back, one poll catches up.
//
// Thread-safe. The handler is called from the polling thread.

#include <chrono>
#include <memory>
#include <string>

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
class PgListener;

class PgNotifyBus final : public Bus {
 public:
  // `ioc`, `store` and `metrics` must outlive the bus. With `publish_only`
  // (herald worker) nothing is polled: the bus only sends NOTIFYs. A URL
  // that does not parse is an error (PgListener::Create).
  static Result<std::unique_ptr<PgNotifyBus>> Create(boost::asio::io_context& ioc,
                                                     std::string database_url,
                                                     jobs::FeedReader& store,
                                                     std::chrono::milliseconds fallback_interval,
                                                     Metrics& metrics, bool publish_only = false);
  ~PgNotifyBus() override;

  void SetHandler(Handler handler) override;
  void Start() override;
  void Stop() override;
  void Publish(const std::string& channel, std::string payload) override;
  void Subscribe(const std::string& channel) override;
  void Unsubscribe(const std::string& channel) override;

 private:
  PgNotifyBus(std::unique_ptr<PgListener> listener, jobs::FeedReader& store,
              std::chrono::milliseconds fallback_interval, Metrics& metrics, bool publish_only);
  void OnHealth(bool up);

  std::unique_ptr<PgListener> listener_;
  std::unique_ptr<DbPollBus> poll_;
  Metrics& metrics_;
  const std::chrono::milliseconds interval_;
  const bool publish_only_;
  bool was_up_ = false;  // on the listener's strand only
};

}  // namespace herald::bus
