#pragma once
// The streams of one single-threaded io_context, handled together.
//
// Fan-out: a publish to a job with 1,000 streams used to post 1,000
// handlers, one per stream. Deliveries now land in the shard's inbox; the
// first one of a burst posts one drain, which hands every event to its
// stream and then writes each stream that got something once (what queued
// up for a stream meanwhile leaves in one gather write).
//
// Timers: instead of one steady_timer (and one pending wait) per stream,
// the shard wakes every `tick` while it has streams and lets each one due
// act (heartbeat, max duration). An idle stream costs a slot in a vector.
//
// One per io_context (an Asio service), which must be run by one thread:
// everything except Deliver runs on that thread.

#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "sse/event.h"

namespace herald::sse {

class Stream;
class Subscriber;

class StreamShard final : public boost::asio::execution_context::service {
 public:
  using key_type = StreamShard;
  static boost::asio::execution_context::id id;

  explicit StreamShard(boost::asio::io_context& context);
  ~StreamShard() override;

  // The shard of the context `executor` runs on (created on first use).
  static StreamShard& For(const boost::asio::io_context::executor_type& executor);

  // Any thread: queue `event` for `stream`.
  void Deliver(std::shared_ptr<Stream> stream, EventPtr event);
  // Any thread: queue `event` for each of `streams`, which must be Streams
  // of this shard (Subscriber::shard() said so).
  void DeliverBatch(EventPtr event, std::vector<std::shared_ptr<Subscriber>> streams);

  // The shard's thread: a started stream joins the timer sweep until Remove.
  // `resolution`: how late its OnTimer may run.
  void Add(Stream* stream, std::chrono::milliseconds resolution);
  void Remove(Stream* stream);
  // The shard's thread, during a drain: write `stream` once the drain has
  // handed out every event.
  void FlushLater(Stream* stream);
  bool draining() const { return draining_; }

  std::size_t StreamCountForTest() const { return streams_.size(); }

 private:
  void shutdown() override;
  void Drain();
  void ArmTick();
  void Tick();

  boost::asio::io_context& context_;

  // One event for one stream, or (batch non-empty) for every stream in it.
  struct Item {
    std::shared_ptr<Stream> stream;
    EventPtr event;
    std::vector<std::shared_ptr<Subscriber>> batch;
  };
  void PostDrainLocked();

  std::mutex mu_;
  std::vector<Item> inbox_;    // guarded by mu_
  bool drain_posted_ = false;  // guarded by mu_

  // The shard's thread only.
  std::vector<Item> draining_items_;
  std::vector<Stream*> dirty_;
  bool draining_ = false;
  std::vector<Stream*> streams_;  // each knows its index (Stream::shard_slot_)
  std::chrono::milliseconds tick_{1000};
  std::optional<boost::asio::steady_timer> timer_;
  bool ticking_ = false;
  bool shut_down_ = false;
};

}  // namespace herald::sse
