#include "sse/hub.h"

#include "bus/bus.h"
#include "bus/feed_message.h"
#include "sse/event_format.h"

#include <vector>

namespace herald::sse {

Hub::Hub(bus::Bus& bus) : bus_(bus) {
  bus_.SetHandler([this](std::string_view channel, std::string_view payload) {
    OnMessage(channel, payload);
  });
}

void Hub::Join(const std::string& channel, const std::shared_ptr<Subscriber>& subscriber) {
  // The bus is told under the lock: otherwise a Join racing the last Leave
  // could reach the bus before that Leave's Unsubscribe and end up joined to
  // an unsubscribed channel. Bus calls never block and never call back into
  // the Hub while holding their own lock, so the lock order is Hub -> Bus.
  std::lock_guard lock(mu_);
  Members& members = channels_[channel];
  if (members.empty()) bus_.Subscribe(channel);
  members.emplace(subscriber.get(), subscriber);
}

void Hub::Leave(const std::string& channel, const Subscriber* subscriber) {
  std::lock_guard lock(mu_);
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  it->second.erase(subscriber);
  if (it->second.empty()) {
    channels_.erase(it);
    bus_.Unsubscribe(channel);
  }
}

void Hub::JoinFeed(const std::string& user, bool admin,
                   const std::shared_ptr<Subscriber>& subscriber) {
  std::lock_guard lock(mu_);  // bus under the lock: see Join
  if (feed_members_.empty()) bus_.Subscribe(std::string(bus::kFeedChannel));
  feed_members_[subscriber.get()] = FeedMember{user, admin};
  feed_by_user_[user].emplace(subscriber.get(), subscriber);
  if (admin) feed_admins_.emplace(subscriber.get(), subscriber);
}

void Hub::LeaveFeed(const Subscriber* subscriber) {
  std::lock_guard lock(mu_);  // bus under the lock: see Join
  auto it = feed_members_.find(subscriber);
  if (it == feed_members_.end()) return;
  auto by_user = feed_by_user_.find(it->second.user);
  if (by_user != feed_by_user_.end()) {
    by_user->second.erase(subscriber);
    if (by_user->second.empty()) feed_by_user_.erase(by_user);
  }
  feed_admins_.erase(subscriber);
  feed_members_.erase(it);
  if (feed_members_.empty()) bus_.Unsubscribe(std::string(bus::kFeedChannel));
}

void Hub::DeliverAll(const Members& members, const EventPtr& event) {
  for (const auto& [raw, weak] : members) {
    if (auto subscriber = weak.lock()) subscriber->Deliver(event);
  }
}

void Hub::OnMessage(std::string_view channel, std::string_view payload) {
  if (channel == bus::kFeedChannel) {
    OnFeedMessage(payload);
    return;
  }
  // Parse and frame before taking the lock: the lock only covers the walk.
  EventPtr event = MakeProgressEvent(payload);
  std::lock_guard lock(mu_);
  auto it = channels_.find(std::string(channel));
  if (it != channels_.end()) DeliverAll(it->second, event);
}

void Hub::OnFeedMessage(std::string_view payload) {
  auto entry = bus::DecodeFeedMessage(payload);
  if (!entry) return;
  auto event = std::make_shared<Event>();
  event->seq = entry->id;
  event->wire = FormatEvent(entry->id, entry->event, entry->data);
  EventPtr shared = std::move(event);

  std::lock_guard lock(mu_);
  if (entry->notice && entry->audience == "*") {
    for (const auto& [user, members] : feed_by_user_) DeliverAll(members, shared);
    return;
  }
  if (auto it = feed_by_user_.find(entry->audience); it != feed_by_user_.end()) {
    for (const auto& [raw, weak] : it->second) {
      // An admin who owns the job is reached below; do not send it twice.
      if (!entry->notice && feed_admins_.contains(raw)) continue;
      if (auto s = weak.lock()) s->Deliver(shared);
    }
  }
  if (!entry->notice) DeliverAll(feed_admins_, shared);
}

void Hub::StopAll() {
  std::vector<std::shared_ptr<Subscriber>> all;
  {
    std::lock_guard lock(mu_);
    auto collect = [&](const Members& members) {
      for (const auto& [raw, weak] : members)
        if (auto s = weak.lock()) all.push_back(std::move(s));
    };
    for (const auto& [channel, members] : channels_) collect(members);
    for (const auto& [user, members] : feed_by_user_) collect(members);
  }
  for (const auto& s : all) s->Stop();
}

size_t Hub::SubscriberCountForTest(const std::string& channel) {
  std::lock_guard lock(mu_);
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second.size();
}

}  // namespace herald::sse
