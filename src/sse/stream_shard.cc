#include "sse/stream_shard.h"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "sse/stream.h"

namespace herald::sse {
namespace asio = boost::asio;

asio::execution_context::id StreamShard::id;

StreamShard::StreamShard(asio::io_context& context)
    : asio::execution_context::service(context), context_(context) {}

StreamShard::~StreamShard() = default;

StreamShard& StreamShard::For(const asio::io_context::executor_type& executor) {
  return asio::use_service<StreamShard>(executor.context());
}

void StreamShard::shutdown() {
  // The context is going away: let go of the streams (they own their
  // sockets, which belong to it) before its services are destroyed.
  std::vector<Item> inbox;
  {
    std::lock_guard lock(mu_);
    shut_down_ = true;
    inbox.swap(inbox_);
  }
  draining_items_.clear();
  dirty_.clear();
  streams_.clear();
  timer_.reset();
}

void StreamShard::Deliver(std::shared_ptr<Stream> stream, EventPtr event) {
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  inbox_.push_back(Item{std::move(stream), std::move(event), {}});
  PostDrainLocked();
}

void StreamShard::DeliverBatch(EventPtr event, std::vector<std::shared_ptr<Subscriber>> streams) {
  if (streams.empty()) return;
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  inbox_.push_back(Item{nullptr, std::move(event), std::move(streams)});
  PostDrainLocked();
}

void StreamShard::PostDrainLocked() {
  if (drain_posted_) return;
  drain_posted_ = true;
  asio::post(context_, [this] { Drain(); });
}

void StreamShard::Drain() {
  {
    std::lock_guard lock(mu_);
    drain_posted_ = false;
    draining_items_.swap(inbox_);
  }
  draining_ = true;
  for (auto& item : draining_items_) {
    if (item.stream) {
      item.stream->Enqueue(std::move(item.event));
      continue;
    }
    // Only Streams of this shard are batched here (Stream::shard()).
    for (const auto& subscriber : item.batch) static_cast<Stream&>(*subscriber).Enqueue(item.event);
  }
  draining_ = false;
  // The streams are still held by draining_items_: the raw pointers are safe.
  for (Stream* stream : dirty_) {
    stream->flush_pending_ = false;
    stream->Flush();
  }
  dirty_.clear();
  // Keep the vector's capacity for the next burst, not its references.
  draining_items_.clear();
  if (draining_items_.capacity() > 4096) std::vector<Item>().swap(draining_items_);
}

void StreamShard::FlushLater(Stream* stream) {
  if (stream->flush_pending_) return;
  stream->flush_pending_ = true;
  dirty_.push_back(stream);
}

void StreamShard::Add(Stream* stream, std::chrono::milliseconds resolution) {
  stream->shard_slot_ = static_cast<uint32_t>(streams_.size());
  streams_.push_back(stream);
  if (resolution < tick_) tick_ = resolution;
  if (!ticking_) ArmTick();
}

void StreamShard::Remove(Stream* stream) {
  const uint32_t slot = stream->shard_slot_;
  if (slot >= streams_.size() || streams_[slot] != stream) return;
  streams_[slot] = streams_.back();
  streams_[slot]->shard_slot_ = slot;
  streams_.pop_back();
  stream->shard_slot_ = Stream::kNoSlot;
}

void StreamShard::ArmTick() {
  if (!timer_) timer_.emplace(context_);
  ticking_ = true;
  timer_->expires_after(tick_);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || shut_down_) {
      ticking_ = false;
      return;
    }
    Tick();
  });
}

void StreamShard::Tick() {
  const auto now = std::chrono::steady_clock::now();
  // Backwards: a stream that closes swaps the last one into its slot, and
  // that one has been looked at already.
  for (std::size_t i = streams_.size(); i-- > 0;) {
    if (i >= streams_.size()) continue;
    Stream* stream = streams_[i];
    if (now < stream->wake_at_) continue;
    auto keep = stream->shared_from_this();  // OnTimer may close it
    stream->OnTimer(now);
  }
  // With no streams the context may run out of work and return.
  if (streams_.empty()) {
    ticking_ = false;
    return;
  }
  ArmTick();
}

}  // namespace herald::sse
