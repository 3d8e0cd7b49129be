#include "sse/progress_streams.h"

#include <boost/asio/post.hpp>

#include "bus/bus.h"
#include "common/log.h"
#include "common/metrics.h"
#include "jobs/job.h"
#include "sse/event_format.h"
#include "store/job_store.h"

namespace herald::sse {
namespace asio = boost::asio;

namespace {

constexpr int kReplayBatch = 1000;

std::string ChannelOf(int64_t job_id, bool audit) {
  return jobs::ChannelFor(audit ? jobs::kAuditType : "job", job_id);
}

std::string LabelOf(int64_t job_id, bool audit) {
  return std::string(audit ? "audit " : "job ") + std::to_string(job_id);
}

}  // namespace

ProgressStreams::ProgressStreams(Hub& hub, bus::Bus& bus, store::JobStore& store,
                                 asio::thread_pool& blocking, const StreamOptions& options,
                                 Metrics& metrics, std::size_t window_events)
    : hub_(hub),
      bus_(bus),
      store_(store),
      blocking_(blocking),
      options_(options),
      metrics_(metrics),
      window_events_(window_events) {}

void ProgressStreams::Open(TcpSocket socket, ProgressOpen request) {
  auto stream = std::make_shared<Stream>(std::move(socket), options_, metrics_, *this,
                                         LabelOf(request.job_id, request.audit), request.job_id,
                                         request.audit);
  if (request.expires_at != std::chrono::steady_clock::time_point::max()) {
    stream->EndWhenCredentialsExpire(request.expires_at);
  }
  stream->HoldQuota(request.quota_slot);
  metrics_.streams_open.fetch_add(1, std::memory_order_relaxed);
  log::Info("SSE connection established for {}", stream->label());
  const std::string channel = ChannelOf(request.job_id, request.audit);
  const int64_t job_id = request.job_id;
  const std::optional<int64_t> resume = request.resume;
  const bool load = hub_.JoinProgress(
      job_id, channel, resume, stream,
      // Called once: the request moves on with the stream.
      [this, stream, request = std::move(request)](const StartPoint& start) mutable {
        Begin(stream, std::move(request), start);
      });
  if (load) Load(job_id, channel);
}

void ProgressStreams::Closed(Stream& stream) {
  // The channel is not kept per stream (every byte of an idle stream
  // counts): it follows from the job, as when it was opened.
  hub_.Leave(ChannelOf(stream.job_id(), stream.audit()), &stream);
  metrics_.streams_open.fetch_sub(1, std::memory_order_relaxed);
}

void ProgressStreams::Refill(Stream& stream, int64_t after,
                             std::function<void(std::vector<EventPtr>)> done) {
  asio::post(blocking_, [this, id = stream.job_id(), after, done = std::move(done)] {
    std::vector<EventPtr> missing;
    auto events = store_.EventsAfter(id, after, kReplayBatch);
    if (events) {
      for (const auto& e : *events) missing.push_back(MakeProgressEvent(e.payload));
    } else {
      log::Warn("SSE refill for job {} failed: {}", id, Describe(events.error()));
    }
    done(std::move(missing));
  });
}

void ProgressStreams::Load(int64_t job_id, const std::string& channel) {
  // Read the store only once the bus hears the channel: whatever is
  // committed after the read is then published to us.
  bus_.WhenSubscribed(channel, [this, job_id] {
    asio::post(blocking_, [this, job_id] {
      metrics_.window_loads.fetch_add(1, std::memory_order_relaxed);
      auto job = store_.GetJob(job_id);
      if (!job) return hub_.DropWindow(job_id);
      JobInfo info{job->id, job->owner, job->is_audit(), job->last_seq,
                   jobs::IsTerminal(job->status)};
      std::vector<EventPtr> events;
      const auto count = static_cast<int64_t>(window_events_);
      auto stored = store_.EventsAfter(job_id, std::max<int64_t>(0, job->last_seq - count),
                                       static_cast<int>(count));
      if (stored && !stored->empty() && stored->back().seq == job->last_seq) {
        for (const auto& e : *stored) events.push_back(MakeProgressEvent(e.payload));
      } else {
        events.push_back(MakeProgressEvent(jobs::BuildPayload(*job)));  // the current state
      }
      hub_.SeedWindow(info, std::move(events));
    });
  });
}

void ProgressStreams::Begin(const std::shared_ptr<Stream>& stream, ProgressOpen request,
                            const StartPoint& start) {
  if (start.from == StartPoint::From::kStore) {
    metrics_.starts_from_store.fetch_add(1, std::memory_order_relaxed);
    asio::post(blocking_, [this, stream, request = std::move(request)]() mutable {
      ReadFromStore(stream, std::move(request));
    });
    return;
  }
  metrics_.starts_from_window.fetch_add(1, std::memory_order_relaxed);
  std::string head = std::move(request.head);
  for (const auto& f : start.frames) head += f->wire;
  metrics_.events_delivered.fetch_add(static_cast<int64_t>(start.frames.size()),
                                      std::memory_order_relaxed);
  stream->Start(std::move(head), start.last_seq, start.finished);
}

// The stream is joined and the bus hears its channel: the replay after
// Last-Event-ID if the store still holds all of it, else the current state.
void ProgressStreams::ReadFromStore(const std::shared_ptr<Stream>& stream, ProgressOpen request) {
  const int64_t id = request.job_id;
  std::string head = std::move(request.head);
  auto job = store_.GetJob(id);
  if (!job) {
    stream->Start(head + InternalErrorFrame(stream->label(), job.error()), 0, true);
    return;
  }
  std::vector<EventPtr> frames;
  int64_t from = request.resume.value_or(-1);
  bool replayed = false;
  if (request.resume && *request.resume <= job->last_seq) {
    int64_t after = *request.resume;
    bool complete = true;
    for (;;) {
      auto events = store_.EventsAfter(id, after, kReplayBatch);
      if (!events || (!events->empty() && events->front().seq != after + 1)) {
        complete = false;
        break;
      }
      for (const auto& e : *events) frames.push_back(MakeProgressEvent(e.payload));
      if (!events->empty()) after = events->back().seq;
      if (events->size() < static_cast<size_t>(kReplayBatch)) break;
    }
    if (complete) {
      replayed = true;
      from = after;
    } else {
      frames.clear();
    }
  }
  if (!replayed) {
    // An unknown id, or older than the retained log: the current state,
    // which carries everything the client needs.
    frames.push_back(MakeProgressEvent(jobs::BuildPayload(*job)));
    from = job->last_seq;
  }
  bool finished = false;
  for (const auto& f : frames) {
    head += f->wire;
    from = std::max(from, f->seq);
    finished = f->terminal;
  }
  metrics_.events_delivered.fetch_add(static_cast<int64_t>(frames.size()),
                                      std::memory_order_relaxed);
  stream->Start(std::move(head), from, finished);
}

}  // namespace herald::sse
