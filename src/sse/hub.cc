#include "sse/hub.h"

#include <algorithm>

#include "bus/bus.h"
#include "bus/feed_message.h"
#include "sse/event_format.h"
#include "sse/stream_shard.h"

#include <vector>

namespace herald::sse {

Hub::Hub(bus::Bus& bus, HubOptions options) : bus_(bus), options_(options) {
  bus_.SetHandler(
      [this](std::string_view channel, std::string_view payload) { OnMessage(channel, payload); });
}

void Hub::Join(const std::string& channel, const std::shared_ptr<Subscriber>& subscriber) {
  // The bus is told under the lock: otherwise a Join racing the last Leave
  // could reach the bus before that Leave's Unsubscribe and end up joined to
  // an unsubscribed channel. Bus calls never block and never call back into
  // the Hub while holding their own lock, so the lock order is Hub -> Bus.
  // A channel is subscribed while it has members or a window.
  std::lock_guard lock(mu_);
  Members& members = channels_[channel];
  if (members.empty() && !window_of_.contains(channel)) bus_.Subscribe(channel);
  members.emplace(subscriber.get(), subscriber);
}

void Hub::Leave(const std::string& channel, const Subscriber* subscriber) {
  std::lock_guard lock(mu_);
  LeaveLocked(channel, subscriber);
}

void Hub::LeaveLocked(const std::string& channel, const Subscriber* subscriber) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  it->second.erase(subscriber);
  if (!it->second.empty()) return;
  channels_.erase(it);
  if (auto w = window_of_.find(channel); w != window_of_.end()) {
    auto window = windows_.find(w->second);
    // A live window outlives its last stream for a while (Sweep ends it),
    // so a reconnect storm finds it; one still loading has waiters of its
    // own and ends with them.
    if (options_.linger.count() > 0 || window->second.state == Window::State::kLoading) {
      window->second.empty_since = Clock::now();
      return;
    }
    windows_.erase(window);
    window_of_.erase(w);
  }
  bus_.Unsubscribe(channel);
}

StartPoint Hub::StartFor(const Window& window, std::optional<int64_t> resume) const {
  StartPoint start;
  const auto& events = window.events;
  const int64_t last = window.info.last_seq;
  const int64_t first = events.front()->seq;
  start.last_seq = last;
  start.finished = window.info.terminal;
  if (!resume) {
    start.from = StartPoint::From::kWindow;
    start.frames.push_back(events.back());  // the current state
  } else if (*resume <= last && *resume >= first - 1) {
    start.from = StartPoint::From::kWindow;
    for (auto it = events.begin() + (*resume + 1 - first); it != events.end(); ++it)
      start.frames.push_back(*it);
  }
  // Older than the window, or newer: the client saw an event this window
  // has not (another instance's, not yet polled here). The store decides.
  return start;
}

bool Hub::JoinProgress(int64_t job_id, const std::string& channel, std::optional<int64_t> resume,
                       const std::shared_ptr<Subscriber>& subscriber,
                       std::function<void(StartPoint)> ready) {
  StartPoint start;
  {
    std::lock_guard lock(mu_);
    Members& members = channels_[channel];
    auto [it, created] = windows_.try_emplace(job_id);
    Window& window = it->second;
    // An existing window holds the subscription (a job's channel never
    // changes), so only a new one subscribes, and only if nobody else did.
    if (created) {
      window.channel = channel;
      window_of_[channel] = job_id;
      if (members.empty()) bus_.Subscribe(channel);
    }
    members.emplace(subscriber.get(), subscriber);
    window.empty_since.reset();
    if (window.state == Window::State::kLoading) {
      window.waiters.push_back({resume, std::move(ready)});
      return created;
    }
    start = StartFor(window, resume);
  }
  ready(std::move(start));
  return false;
}

void Hub::SeedWindow(const JobInfo& info, std::vector<EventPtr> events) {
  std::vector<Window::Waiter> waiters;
  Ready ready;
  {
    std::lock_guard lock(mu_);
    auto it = windows_.find(info.job_id);
    if (it == windows_.end() || it->second.state != Window::State::kLoading) return;
    Window& window = it->second;
    std::deque<EventPtr> arrived;
    arrived.swap(window.events);
    window.info = info;
    window.bytes = 0;
    bool usable = !events.empty() && events.back()->seq == info.last_seq;
    for (size_t i = 1; usable && i < events.size(); ++i)
      usable = events[i]->seq == events[i - 1]->seq + 1;
    if (usable) {
      window.state = Window::State::kLive;
      for (auto& e : events) {
        window.bytes += e->wire.size();
        window.events.push_back(std::move(e));
      }
      window.info.terminal = window.events.back()->terminal;
      // What the bus delivered while the store was read: the overlap goes,
      // the rest must follow on without a gap.
      for (const auto& e : arrived) usable = usable && Append(window, e);
    }
    waiters.swap(window.waiters);
    if (usable) {
      Trim(window);
      for (auto& w : waiters) ready.emplace_back(std::move(w.ready), StartFor(window, w.resume));
    } else {
      for (auto& w : waiters) ready.emplace_back(std::move(w.ready), StartPoint{});
      const bool watched = channels_.contains(window.channel);
      window_of_.erase(window.channel);
      if (!watched) bus_.Unsubscribe(window.channel);
      windows_.erase(it);
    }
  }
  for (auto& [fn, start] : ready) fn(std::move(start));
}

void Hub::DropWindow(int64_t job_id) {
  std::vector<Window::Waiter> waiters;
  {
    std::lock_guard lock(mu_);
    auto it = windows_.find(job_id);
    if (it == windows_.end()) return;
    waiters.swap(it->second.waiters);
    const std::string channel = it->second.channel;
    window_of_.erase(channel);
    windows_.erase(it);
    if (!channels_.contains(channel)) bus_.Unsubscribe(channel);
  }
  for (auto& w : waiters) w.ready(StartPoint{});
}

std::optional<JobInfo> Hub::Info(int64_t job_id) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(job_id);
  if (it == windows_.end() || it->second.state != Window::State::kLive) return std::nullopt;
  return it->second.info;
}

bool Hub::Append(Window& window, const EventPtr& event) {
  if (window.state == Window::State::kLoading) {
    window.events.push_back(event);  // sorted out by SeedWindow
    return true;
  }
  // An event without an id (published by a program that sends no seq)
  // or after a gap leaves the window unable to say what a client missed.
  if (event->seq == 0 || event->seq > window.info.last_seq + 1) return false;
  if (event->seq <= window.info.last_seq) return true;  // already there
  window.events.push_back(event);
  window.bytes += event->wire.size();
  window.info.last_seq = event->seq;
  window.info.terminal = event->terminal;
  Trim(window);
  return true;
}

void Hub::Trim(Window& window) {
  while (window.events.size() > 1 &&
         (window.events.size() > options_.window_events || window.bytes > options_.window_bytes)) {
    window.bytes -= window.events.front()->wire.size();
    window.events.pop_front();
  }
}

void Hub::Sweep(Clock::time_point now) {
  std::lock_guard lock(mu_);
  for (auto it = windows_.begin(); it != windows_.end();) {
    Window& window = it->second;
    if (!window.empty_since || window.state != Window::State::kLive ||
        now - *window.empty_since < options_.linger) {
      ++it;
      continue;
    }
    window_of_.erase(window.channel);
    if (!channels_.contains(window.channel)) bus_.Unsubscribe(window.channel);
    it = windows_.erase(it);
  }
}

size_t Hub::WindowCountForTest() {
  std::lock_guard lock(mu_);
  return windows_.size();
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
  // Grouped by shard (a handful: one per connection thread), so a job with
  // 10,000 streams costs each shard one lock and one wakeup, and its drain
  // starts with the whole batch rather than racing the walk.
  // One member (a job with one stream, the common case): no batching.
  if (members.size() == 1) {
    if (auto subscriber = members.begin()->second.lock()) subscriber->Deliver(event);
    return;
  }
  struct Batch {
    StreamShard* shard;
    std::vector<std::shared_ptr<Subscriber>> subscribers;
  };
  std::vector<Batch> batches;
  for (const auto& [raw, weak] : members) {
    auto subscriber = weak.lock();
    if (!subscriber) continue;
    StreamShard* shard = subscriber->shard();
    if (shard == nullptr) {
      subscriber->Deliver(event);
      continue;
    }
    auto batch = std::find_if(batches.begin(), batches.end(),
                              [&](const Batch& b) { return b.shard == shard; });
    if (batch == batches.end()) {
      batches.push_back(Batch{shard, {}});
      batches.back().subscribers.reserve(members.size());
      batch = batches.end() - 1;
    }
    batch->subscribers.push_back(std::move(subscriber));
  }
  for (auto& b : batches) b.shard->DeliverBatch(event, std::move(b.subscribers));
}

void Hub::OnMessage(std::string_view channel, std::string_view payload) {
  if (channel == bus::kFeedChannel) {
    OnFeedMessage(payload);
    return;
  }
  std::string name(channel);
  {
    // This process's own commit, framed already by OnLocalCommit: the same
    // buffer goes out, and the window holds it.
    std::lock_guard lock(mu_);
    if (EventPtr local = TakeLocal(name, payload)) {
      if (auto it = channels_.find(name); it != channels_.end()) DeliverAll(it->second, local);
      return;
    }
  }
  // Parse and frame outside the lock: the lock only covers the walk.
  EventPtr event = MakeProgressEvent(payload);
  std::lock_guard lock(mu_);
  auto it = channels_.find(name);
  if (it != channels_.end()) DeliverAll(it->second, event);
  Remember(name, event);
}

EventPtr Hub::TakeLocal(const std::string& channel, std::string_view payload) {
  auto w = window_of_.find(channel);
  if (w == window_of_.end()) return nullptr;
  auto& local = windows_.find(w->second)->second.local;
  // The bus carries a process's publishes in commit order: only the oldest
  // local commit not yet heard back can match.
  if (local.empty() || local.front().first != payload) return nullptr;
  EventPtr event = std::move(local.front().second);
  local.pop_front();
  return event;
}

void Hub::Remember(const std::string& channel, const EventPtr& event) {
  auto w = window_of_.find(channel);
  if (w == window_of_.end()) return;
  auto window = windows_.find(w->second);
  if (Append(window->second, event)) return;
  // The window can no longer answer for the job: the next stream reads the
  // store (and seeds a new one); the streams of this one refill on their own.
  window_of_.erase(w);
  windows_.erase(window);
  if (!channels_.contains(channel)) bus_.Unsubscribe(channel);
}

void Hub::OnLocalCommit(std::string_view channel, std::string_view payload) {
  std::string name(channel);
  {
    std::lock_guard lock(mu_);
    if (!window_of_.contains(name)) return;  // parse only for a windowed job
  }
  EventPtr event = MakeProgressEvent(payload);
  std::lock_guard lock(mu_);
  Remember(name, event);
  auto w = window_of_.find(name);
  if (w == window_of_.end()) return;  // the event did not fit: the window is gone
  auto& local = windows_.find(w->second)->second.local;
  local.emplace_back(std::string(payload), std::move(event));
  // A bus that lost some (Redis was down) never brings them back: keep few.
  while (local.size() > options_.window_events) local.pop_front();
}

void Hub::OnFeedMessage(std::string_view payload) {
  auto entry = bus::DecodeFeedMessage(payload);
  if (!entry) return;
  auto event = std::make_shared<Event>();
  event->seq = entry->id;
  event->wire = FormatFeedEvent(entry->id, entry->notice, entry->event, entry->data, true);
  event->plain = FormatFeedEvent(entry->id, entry->notice, entry->event, entry->data, false);
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

std::vector<std::shared_ptr<Subscriber>> Hub::All() {
  std::vector<std::shared_ptr<Subscriber>> all;
  std::lock_guard lock(mu_);
  auto collect = [&](const Members& members) {
    for (const auto& [raw, weak] : members)
      if (auto s = weak.lock()) all.push_back(std::move(s));
  };
  for (const auto& [channel, members] : channels_) collect(members);
  for (const auto& [user, members] : feed_by_user_) collect(members);
  return all;
}

void Hub::StopAll() {
  for (const auto& s : All()) s->Stop();
}

size_t Hub::SubscriberCountForTest(const std::string& channel) {
  std::lock_guard lock(mu_);
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second.size();
}

}  // namespace herald::sse
