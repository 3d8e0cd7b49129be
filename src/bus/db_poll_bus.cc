#include "bus/db_poll_bus.h"

#include "bus/feed_message.h"
#include "common/log.h"
#include "jobs/job.h"
#include "jobs/event_log.h"

namespace herald::bus {
namespace {
constexpr int kPollBatch = 1000;
}

DbPollBus::DbPollBus(jobs::FeedReader& store, std::chrono::milliseconds interval)
    : store_(store), interval_(interval) {}

DbPollBus::~DbPollBus() { Stop(); }

void DbPollBus::Start() {
  // Only what is published from now on is news; older events reach streams
  // through their own replay from the store.
  if (auto latest = store_.LatestFeedId()) last_feed_id_ = *latest;
  thread_ = std::thread([this] { Run(); });
}

void DbPollBus::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DbPollBus::Subscribe(const std::string& channel) {
  std::lock_guard lock(mu_);
  channels_.insert(channel);
  if (channel == kFeedChannel) feed_subscribed_.store(true);
}

void DbPollBus::Unsubscribe(const std::string& channel) {
  std::lock_guard lock(mu_);
  channels_.erase(channel);
  if (channel == kFeedChannel) feed_subscribed_.store(false);
}

bool DbPollBus::IsSubscribed(const std::string& channel) {
  std::lock_guard lock(mu_);
  return channels_.contains(channel);
}

std::vector<std::string> DbPollBus::SomeChannels(size_t max) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& c : channels_) {
    if (out.size() >= max) break;
    out.push_back(c);
  }
  return out;
}

void DbPollBus::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_.notify_one();
}

void DbPollBus::SetDispatchJobs(bool on) {
  bool was = dispatch_jobs_.exchange(on);
  if (was && !on) final_job_poll_ = true;
  if (was != on) Wake();
}

void DbPollBus::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_ || woken_; });
    if (stopping_) break;
    woken_ = false;
    lock.unlock();
    PollOnce();
    lock.lock();
  }
}

void DbPollBus::PollOnce() {
  bool jobs = dispatch_jobs_.load() || final_job_poll_.exchange(false);
  if (jobs || feed_subscribed_.load()) {
    Dispatch(jobs);
  } else {
    NoteLatest();
  }
}

void DbPollBus::Dispatch(bool jobs) {
  // Drain in batches so a burst larger than one batch is not delayed a full
  // interval per batch.
  for (;;) {
    auto entries = store_.FeedAll(last_feed_id_, kPollBatch);
    if (!entries) {
      log::Warn("SSE database poll failed: {}", Describe(entries.error()));
      return;
    }
    for (const auto& e : *entries) {
      last_feed_id_ = e.id;
      if (!handler_) continue;
      if (jobs && !e.notice) {
        std::string channel =
            jobs::ChannelFor(e.event == "audit" ? jobs::kAuditType : e.event, e.job_id);
        if (IsSubscribed(channel)) handler_(channel, e.data);
      }
      // Asked per entry (an atomic load), not taken from the start of the
      // poll: a notification stream subscribes, then reads the newest feed id
      // as its start. An entry past that start was committed after the
      // subscription, so it is read after it too, and must be handed on even
      // when the poll began before the stream came.
      if (feed_subscribed_.load()) handler_(kFeedChannel, EncodeFeedMessage(e));
    }
    if (entries->size() < static_cast<size_t>(kPollBatch)) break;
  }
  noted_feed_id_ = last_feed_id_;
}

void DbPollBus::NoteLatest() {
  // Nothing to deliver: move the position to what the previous poll saw as
  // newest, so it stays at least one interval behind (see SetDispatchJobs).
  auto latest = store_.LatestFeedId();
  if (!latest) {
    log::Warn("SSE database poll failed: {}", Describe(latest.error()));
    return;
  }
  if (noted_feed_id_ > last_feed_id_) last_feed_id_ = noted_feed_id_;
  noted_feed_id_ = *latest;
}

}  // namespace herald::bus
