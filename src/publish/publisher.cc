#include "publish/publisher.h"

#include "bus/bus.h"
#include "bus/feed_message.h"
#include "common/log.h"
#include "common/metrics.h"

namespace herald::publish {

Publisher::Publisher(store::JobStore& store, bus::Bus& bus, Metrics& metrics)
    : store_(store), bus_(bus), metrics_(metrics) {}

void Publisher::Publish(const store::Applied& applied) {
  bus_.Publish(jobs::ChannelFor(applied.job), applied.event.payload);
  bus_.Publish(std::string(bus::kFeedChannel), bus::EncodeFeedMessage(applied.feed));
  metrics_.events_published.fetch_add(1, std::memory_order_relaxed);
  log::Debug("progress update for {} {}: seq {}", applied.job.type, applied.job.id,
             applied.event.seq);
}

Result<store::Applied> Publisher::Create(const store::NewJob& job) {
  std::lock_guard lock(order_);
  auto applied = store_.CreateJob(job);
  if (applied) Publish(*applied);
  return applied;
}

Result<store::Applied> Publisher::Update(int64_t job_id, const jobs::ProgressUpdate& update) {
  std::lock_guard lock(order_);
  auto applied = store_.UpdateJob(job_id, update);
  if (applied) Publish(*applied);
  return applied;
}

Result<store::FeedEntry> Publisher::Notify(const store::NewNotice& notice) {
  std::lock_guard lock(order_);
  auto entry = store_.AddNotice(notice);
  if (entry) {
    bus_.Publish(std::string(bus::kFeedChannel), bus::EncodeFeedMessage(*entry));
    metrics_.events_published.fetch_add(1, std::memory_order_relaxed);
  }
  return entry;
}

}  // namespace herald::publish
