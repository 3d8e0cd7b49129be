#include "sse/feed_streams.h"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "bus/bus.h"
#include "bus/feed_message.h"
#include "common/log.h"
#include "common/metrics.h"
#include "sse/event_format.h"
#include "sse/hub.h"
#include "store/job_store.h"

namespace herald::sse {
namespace asio = boost::asio;

namespace {

constexpr int kReplayBatch = 1000;

}  // namespace

FeedStreams::FeedStreams(Hub& hub, bus::Bus& bus, store::JobStore& store,
                         asio::thread_pool& blocking, const StreamOptions& options,
                         Metrics& metrics)
    : hub_(hub),
      bus_(bus),
      store_(store),
      blocking_(blocking),
      options_(options),
      metrics_(metrics) {}

void FeedStreams::Closed(Stream& stream) {
  hub_.LeaveFeed(&stream);
  metrics_.notify_streams_open.fetch_sub(1, std::memory_order_relaxed);
}

void FeedStreams::Refill(Stream&, int64_t, std::function<void(std::vector<EventPtr>)> done) {
  done({});
}

void FeedStreams::Open(TcpSocket socket, FeedOpen request) {
  auto stream = std::make_shared<Stream>(std::move(socket), options_, metrics_, *this,
                                         "notifications of " + request.user);
  if (request.expires_at != std::chrono::steady_clock::time_point::max()) {
    stream->EndWhenCredentialsExpire(request.expires_at);
  }
  stream->HoldQuota(request.quota_slot);
  if (!request.named) stream->UsePlainFrames();
  metrics_.notify_streams_open.fetch_add(1, std::memory_order_relaxed);
  hub_.JoinFeed(request.user, request.admin, stream);
  log::Info("SSE connection established for {}", stream->label());

  auto read = [this, stream, request = std::move(request)]() mutable {
    std::string head = std::move(request.head);
    auto latest = store_.LatestFeedId();
    if (!latest) {
      stream->Start(head + InternalErrorFrame(stream->label(), latest.error()), 0, true);
      return;
    }
    int64_t from = *latest;
    if (request.resume && *request.resume < *latest) {
      int64_t after = *request.resume;
      for (;;) {
        auto entries = store_.FeedFor(request.user, request.admin, after, kReplayBatch);
        if (!entries) break;
        for (const auto& e : *entries) {
          head += FormatFeedEvent(e.id, e.notice, e.event, e.data, request.named);
          after = e.id;
        }
        if (entries->size() < static_cast<size_t>(kReplayBatch)) break;
      }
      from = std::max(after, *latest);
    }
    stream->Start(std::move(head), from, false);
  };
  bus_.WhenSubscribed(std::string(bus::kFeedChannel), [this, read = std::move(read)]() mutable {
    asio::post(blocking_, std::move(read));
  });
}

}  // namespace herald::sse
