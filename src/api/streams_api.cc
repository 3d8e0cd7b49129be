// The two event streams: a job's progress and a user's notifications.
//
// Ordering without gaps or duplicates: a stream joins the Hub, and waits
// until the bus really hears the channel (a Redis SUBSCRIBE is confirmed),
// *before* it reads the store. Whatever is published after the read arrives live;
// whatever was committed before it is in the read; the overlap is removed
// by sequence number in Stream::Start. Each event carries its full state,
// so a gap can only come from retention, never from a race.

#include <boost/asio/post.hpp>

#include <charconv>

#include "api/app.h"
#include "api/blocking.h"
#include "auth/jwt.h"
#include "bus/bus.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "jobs/job.h"
#include "sse/event_format.h"
#include "sse/hub.h"
#include "store/job_store.h"

namespace herald::api {
namespace asio = boost::asio;
using http::Outcome;
using http::Reply;
using http::Request;
using tcp = asio::ip::tcp;

namespace {

constexpr int kReplayBatch = 1000;

Outcome ErrorOutcome(const Error& e) {
  return Outcome{Reply::FromError(e), {}};
}

// Last-Event-ID header, or ?last_event_id= for clients that cannot set it.
Result<std::optional<int64_t>> LastEventId(const Request& r) {
  std::optional<std::string_view> text = r.Header("last-event-id");
  if (!text || text->empty()) text = r.Query("last_event_id");
  if (!text || text->empty()) return std::optional<int64_t>{};
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || p != text->data() + text->size() || v < 0)
    return MakeError(Errc::kBadRequest, "Last-Event-ID must be a non-negative integer");
  return std::optional<int64_t>{v};
}

// The contract's "unexpected fault": the job was readable a moment ago, so
// the request was valid; the stream opens, says so, and ends. EventSource
// then reconnects after `retry` and resumes, where a 5xx would make it give
// up for good.
std::string InternalErrorFrame(std::string_view label, const Error& error) {
  log::Error("SSE stream for {} failed: {}", label, error.message);
  return sse::FormatEvent(std::nullopt, "error", sse::kInternalErrorData);
}

}  // namespace

std::string App::StreamHead(const Request& r) const {
  std::string head = r.version == 10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n";
  head +=
      "Content-Type: text/event-stream; charset=utf-8\r\n"
      "Cache-Control: no-cache, no-transform\r\n"
      "X-Accel-Buffering: no\r\n";
  if (r.version != 10) head += "Connection: keep-alive\r\n";
  std::vector<std::pair<std::string, std::string>> cors;
  AddCors(r, cors);
  for (const auto& [k, v] : cors) head += k + ": " + v + "\r\n";
  head += "\r\n";
  head += sse::FormatRetry(d_.config.sse.retry.count());
  return head;
}

asio::awaitable<Outcome> App::OpenProgressStream(const Request& r, int64_t id,
                                                 const auth::Principal& p, Kind kind) {
  auto last_event_id = LastEventId(r);
  if (!last_event_id) co_return ErrorOutcome(last_event_id.error());
  auto job = co_await LoadVisible(id, p, kind);
  if (!job) co_return ErrorOutcome(job.error());
  // Already told the client the end: 204 makes EventSource stop reconnecting.
  if (jobs::IsTerminal(job->status) && *last_event_id && **last_event_id >= job->last_seq) {
    Reply reply;
    reply.status = 204;
    reply.content_type.clear();
    co_return Outcome{std::move(reply), {}};
  }

  std::string noun = job->is_audit() ? "audit" : "job";
  std::string label = noun + " " + std::to_string(id);
  std::string channel = jobs::ChannelFor(*job);
  std::string head = StreamHead(r);
  std::optional<int64_t> resume = *last_event_id;

  Outcome outcome;
  outcome.stream = [this, id, label, channel, head = std::move(head),
                    resume](tcp::socket socket) mutable {
    auto stream = std::make_shared<sse::Stream>(std::move(socket), progress_options_,
                                                d_.metrics, label);
    d_.metrics.streams_open.fetch_add(1, std::memory_order_relaxed);
    sse::Hub& hub = d_.hub;
    Metrics& metrics = d_.metrics;
    stream->SetOnClose([&hub, &metrics, channel, raw = stream.get()] {
      hub.Leave(channel, raw);
      metrics.streams_open.fetch_sub(1, std::memory_order_relaxed);
    });
    // Events another process committed but never published (it died in
    // between) are read from the store when the next one shows the gap.
    stream->SetRefill([this, id](int64_t after, std::function<void(std::vector<sse::EventPtr>)> done) {
      asio::post(d_.blocking, [this, id, after, done = std::move(done)] {
        std::vector<sse::EventPtr> missing;
        auto events = d_.store.EventsAfter(id, after, kReplayBatch);
        if (events) {
          for (const auto& e : *events) missing.push_back(sse::MakeProgressEvent(e.payload));
        } else {
          log::Warn("SSE refill for job {} failed: {}", id, events.error().message);
        }
        done(std::move(missing));
      });
    });
    hub.Join(channel, stream);
    log::Info("SSE connection established for {}", label);

    // Read the store only once the bus hears the channel (see the top).
    auto read = [this, stream, id, resume, head = std::move(head)]() mutable {
      auto job = d_.store.GetJob(id);
      if (!job) {
        stream->Start(head + InternalErrorFrame("job " + std::to_string(id), job.error()), 0, true);
        return;
      }
      std::vector<sse::EventPtr> frames;
      int64_t from = resume.value_or(-1);
      bool replayed = false;
      if (resume && *resume <= job->last_seq) {
        // Replay what the client missed, if the log still holds all of it.
        int64_t after = *resume;
        bool complete = true;
        for (;;) {
          auto events = d_.store.EventsAfter(id, after, kReplayBatch);
          if (!events) {
            complete = false;
            break;
          }
          if (!events->empty() && events->front().seq != after + 1) complete = false;
          if (!complete) break;
          for (const auto& e : *events) frames.push_back(sse::MakeProgressEvent(e.payload));
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
        // Fresh connect, an unknown id, or older than the retained log: the
        // current state, which carries everything the client needs.
        frames.push_back(sse::MakeProgressEvent(jobs::BuildPayload(*job)));
        from = job->last_seq;
      }
      bool finished = false;
      for (const auto& f : frames) {
        head += f->wire;
        from = std::max(from, f->seq);
        finished = f->terminal;
      }
      d_.metrics.events_delivered.fetch_add(static_cast<int64_t>(frames.size()),
                                            std::memory_order_relaxed);
      stream->Start(std::move(head), from, finished);
    };
    d_.bus.WhenSubscribed(channel, [this, read = std::move(read)]() mutable {
      asio::post(d_.blocking, std::move(read));
    });
  };
  co_return outcome;
}

asio::awaitable<Outcome> App::OpenNotifyStream(const Request& r, const auth::Principal& p) {
  auto last_event_id = LastEventId(r);
  if (!last_event_id) co_return ErrorOutcome(last_event_id.error());
  std::string head = StreamHead(r) + ":ok\n\n";
  std::optional<int64_t> resume = *last_event_id;
  std::string user = p.subject;
  bool admin = p.is_admin();

  Outcome outcome;
  outcome.stream = [this, user, admin, resume, head = std::move(head)](tcp::socket socket) mutable {
    std::string label = "notifications of " + user;
    auto stream =
        std::make_shared<sse::Stream>(std::move(socket), notify_options_, d_.metrics, label);
    d_.metrics.notify_streams_open.fetch_add(1, std::memory_order_relaxed);
    sse::Hub& hub = d_.hub;
    Metrics& metrics = d_.metrics;
    stream->SetOnClose([&hub, &metrics, raw = stream.get()] {
      hub.LeaveFeed(raw);
      metrics.notify_streams_open.fetch_sub(1, std::memory_order_relaxed);
    });
    hub.JoinFeed(user, admin, stream);
    log::Info("SSE connection established for {}", label);

    auto read = [this, stream, user, admin, resume, head = std::move(head)]() mutable {
      auto latest = d_.store.LatestFeedId();
      if (!latest) {
        stream->Start(head + InternalErrorFrame("notifications of " + user, latest.error()), 0,
                      true);
        return;
      }
      int64_t from = *latest;
      if (resume && *resume < *latest) {
        int64_t after = *resume;
        for (;;) {
          auto entries = d_.store.FeedFor(user, admin, after, kReplayBatch);
          if (!entries) break;
          for (const auto& e : *entries) {
            head += sse::FormatEvent(e.id, e.event, e.data);
            after = e.id;
          }
          if (entries->size() < static_cast<size_t>(kReplayBatch)) break;
        }
        from = std::max(after, *latest);
      }
      stream->Start(std::move(head), from, false);
    };
    d_.bus.WhenSubscribed(std::string(bus::kFeedChannel), [this, read = std::move(read)]() mutable {
      asio::post(d_.blocking, std::move(read));
    });
  };
  co_return outcome;
}

}  // namespace herald::api
