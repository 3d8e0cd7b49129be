#pragma once
// A Bus for unit tests: records every Subscribe/Unsubscribe per channel and
// lets a test hand a message to the installed handler with Inject(), as if
// the broker had delivered it. Subscriptions are confirmed at once unless a
// test holds them (HoldConfirmations) to act between the two. Thread-safe.

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bus/bus.h"

namespace herald::test {

class FakeBus final : public bus::Bus {
 public:
  struct Published {
    std::string channel;
    std::string payload;
  };

  void SetHandler(Handler handler) override;
  void Publish(const std::string& channel, std::string payload) override;
  void Subscribe(const std::string& channel) override;
  void Unsubscribe(const std::string& channel) override;
  void WhenSubscribed(const std::string& channel, std::function<void()> ready) override;

  // While held, WhenSubscribed only records its callback; Confirm runs
  // every recorded one (on this thread) and stops holding.
  void HoldConfirmations();
  void Confirm();
  int PendingConfirmations() const;

  // Calls the handler (on this thread) whether or not `channel` is subscribed:
  // the Hub must cope with messages for channels nobody watches any more.
  void Inject(std::string_view channel, std::string_view payload);
  bool HasHandler() const;

  int SubscribeCount(const std::string& channel) const;
  int UnsubscribeCount(const std::string& channel) const;
  // Net state as the bus sees it: the last call for the channel was Subscribe.
  bool IsSubscribed(const std::string& channel) const;
  // Every Subscribe on a subscribed channel and Unsubscribe on an
  // unsubscribed one, as "subscribe X" / "unsubscribe X".
  std::vector<std::string> ProtocolViolations() const;
  std::vector<Published> PublishedMessages() const;

  // Runs `hook` at the start of the next Unsubscribe(channel), before it takes
  // effect (and outside the FakeBus's lock): lets a test interleave another
  // caller between the Hub deciding to unsubscribe and the bus doing it.
  void BeforeNextUnsubscribe(std::function<void(const std::string&)> hook);

 private:
  mutable std::mutex mu_;
  Handler handler_;
  std::map<std::string, int> subscribes_;
  std::map<std::string, int> unsubscribes_;
  std::set<std::string> subscribed_;
  std::vector<std::string> violations_;
  std::vector<Published> published_;
  std::function<void(const std::string&)> before_unsubscribe_;
  bool hold_confirmations_ = false;
  std::vector<std::function<void()>> pending_confirmations_;
};

}  // namespace herald::test
