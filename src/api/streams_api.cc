// The two event streams: a job's progress and a user's notifications.
//
// The progress stream is opened by sse::ProgressStreams (join, window or
// store, refill, live). The notification stream below:
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

// The notification stream's "unexpected fault" frame; see
// sse/progress_streams.cc for why a stream says so instead of a 5xx.
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
  // Admission from the job's live window when there is one (a reconnect
  // storm reads no database), else from the store.
  std::optional<sse::JobInfo> info = d_.hub.Info(id);
  // A client that saw a later event than the window (another instance's,
  // not yet polled here) is answered from the store.
  if (info && *last_event_id && **last_event_id > info->last_seq) info.reset();
  if (!info) {
    auto job = co_await LoadVisible(id, p, kind);
    if (!job) co_return ErrorOutcome(job.error());
    info = sse::JobInfo{job->id, job->owner, job->is_audit(), job->last_seq,
                        jobs::IsTerminal(job->status)};
  } else if (auto visible = CheckVisible(id, info->owner, info->audit, p, kind); !visible) {
    co_return ErrorOutcome(visible.error());
  }
  // Already told the client the end: 204 makes EventSource stop reconnecting.
  if (info->terminal && *last_event_id && **last_event_id >= info->last_seq) {
    Reply reply;
    reply.status = 204;
    reply.content_type.clear();
    co_return Outcome{std::move(reply), {}};
  }

  sse::ProgressOpen open;
  open.job_id = id;
  open.label = std::string(info->audit ? "audit " : "job ") + std::to_string(id);
  open.channel = jobs::ChannelFor(info->audit ? jobs::kAuditType : "job", id);
  open.resume = *last_event_id;
  open.head = StreamHead(r);
  Outcome outcome;
  outcome.stream = [this, open = std::move(open)](tcp::socket socket) mutable {
    progress_streams_.Open(std::move(socket), std::move(open));
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
