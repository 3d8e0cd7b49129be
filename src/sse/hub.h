#pragma once
// A Hub routes events from the bus to the streams watching them. It
// subscribes to a job's channel when the first stream joins and unsubscribes
// when the last one leaves; notification streams share the one feed channel
// and are routed by user here.
//
// Thread-safe. Holds streams by weak_ptr: a Hub never keeps a stream alive.
// Each message is parsed and framed once, then the same buffer is handed to
// every subscriber; Deliver only posts, so nothing under the lock blocks.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sse/event.h"

namespace herald::bus {
class Bus;
}

namespace herald::sse {

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Any thread; must not block.
  virtual void Deliver(EventPtr event) = 0;
  // Any thread: end now (server shutdown).
  virtual void Stop() = 0;
};

class Hub {
 public:
  // `bus` must outlive the Hub; the Hub installs itself as the bus's handler.
  explicit Hub(bus::Bus& bus);

  void Join(const std::string& channel, const std::shared_ptr<Subscriber>& subscriber);
  void Leave(const std::string& channel, const Subscriber* subscriber);

  // Notification streams: a user's job events (every job's, for admins) and
  // notices addressed to the user or to "*".
  void JoinFeed(const std::string& user, bool admin,
                const std::shared_ptr<Subscriber>& subscriber);
  void LeaveFeed(const Subscriber* subscriber);

  // The bus handler.
  void OnMessage(std::string_view channel, std::string_view payload);

  // Stops every stream that is joined (server shutdown).
  void StopAll();

  size_t SubscriberCountForTest(const std::string& channel);

 private:
  using Members = std::unordered_map<const Subscriber*, std::weak_ptr<Subscriber>>;
  struct FeedMember {
    std::string user;
    bool admin = false;
  };

  void OnFeedMessage(std::string_view payload);
  static void DeliverAll(const Members& members, const EventPtr& event);

  bus::Bus& bus_;
  std::mutex mu_;
  std::unordered_map<std::string, Members> channels_;     // guarded by mu_
  std::unordered_map<std::string, Members> feed_by_user_;  // guarded by mu_
  Members feed_admins_;                                    // guarded by mu_
  std::unordered_map<const Subscriber*, FeedMember> feed_members_;  // guarded by mu_
};

}  // namespace herald::sse
