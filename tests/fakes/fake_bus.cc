#include "fakes/fake_bus.h"

namespace herald::test {

void FakeBus::SetHandler(Handler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

void FakeBus::Publish(const std::string& channel, std::string payload) {
  std::lock_guard lock(mu_);
  published_.push_back({channel, std::move(payload)});
}

void FakeBus::Subscribe(const std::string& channel) {
  std::lock_guard lock(mu_);
  ++subscribes_[channel];
  if (!subscribed_.insert(channel).second) violations_.push_back("subscribe " + channel);
}

void FakeBus::Unsubscribe(const std::string& channel) {
  std::function<void(const std::string&)> hook;
  {
    std::lock_guard lock(mu_);
    hook = std::exchange(before_unsubscribe_, nullptr);
  }
  if (hook) hook(channel);
  std::lock_guard lock(mu_);
  ++unsubscribes_[channel];
  if (subscribed_.erase(channel) == 0) violations_.push_back("unsubscribe " + channel);
}

void FakeBus::WhenSubscribed(const std::string&, std::function<void()> ready) {
  {
    std::lock_guard lock(mu_);
    if (hold_confirmations_) {
      pending_confirmations_.push_back(std::move(ready));
      return;
    }
  }
  ready();
}

void FakeBus::HoldConfirmations() {
  std::lock_guard lock(mu_);
  hold_confirmations_ = true;
}

void FakeBus::Confirm() {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mu_);
    hold_confirmations_ = false;
    ready.swap(pending_confirmations_);
  }
  for (auto& r : ready) r();
}

int FakeBus::PendingConfirmations() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(pending_confirmations_.size());
}

void FakeBus::Inject(std::string_view channel, std::string_view payload) {
  Handler handler;
  {
    std::lock_guard lock(mu_);
    handler = handler_;
  }
  if (handler) handler(channel, payload);
}

bool FakeBus::HasHandler() const {
  std::lock_guard lock(mu_);
  return static_cast<bool>(handler_);
}

int FakeBus::SubscribeCount(const std::string& channel) const {
  std::lock_guard lock(mu_);
  auto it = subscribes_.find(channel);
  return it == subscribes_.end() ? 0 : it->second;
}

int FakeBus::UnsubscribeCount(const std::string& channel) const {
  std::lock_guard lock(mu_);
  auto it = unsubscribes_.find(channel);
  return it == unsubscribes_.end() ? 0 : it->second;
}

bool FakeBus::IsSubscribed(const std::string& channel) const {
  std::lock_guard lock(mu_);
  return subscribed_.contains(channel);
}

std::vector<std::string> FakeBus::ProtocolViolations() const {
  std::lock_guard lock(mu_);
  return violations_;
}

std::vector<FakeBus::Published> FakeBus::PublishedMessages() const {
  std::lock_guard lock(mu_);
  return published_;
}

void FakeBus::BeforeNextUnsubscribe(std::function<void(const std::string&)> hook) {
  std::lock_guard lock(mu_);
  before_unsubscribe_ = std::move(hook);
}

}  // namespace herald::test
