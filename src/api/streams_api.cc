// The two event streams: a job's progress and a user's notifications.
// Here the request is checked (auth, visibility, Last-Event-ID); the
// socket is then handed to sse::ProgressStreams or sse::FeedStreams, which
// hold the opening protocol (join, window or store, refill, live).

#include <charconv>

#include "api/app.h"
#include "auth/jwt.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "jobs/job.h"
#include "sse/event_format.h"
#include "sse/hub.h"

namespace herald::api {
namespace asio = boost::asio;
using http::Outcome;
using http::Reply;
using http::Request;

namespace {

// How long a client at its stream limit is told to wait before trying
// again (one of its streams may have ended by then).
constexpr int kQuotaRetrySeconds = 10;

Outcome ErrorOutcome(const Error& e) {
  Reply reply = Reply::FromError(e);
  if (e.code == Errc::kRateLimited) {
    reply.headers.emplace_back("Retry-After", std::to_string(kQuotaRetrySeconds));
  }
  return Outcome{std::move(reply), {}};
}

// Last-Event-ID header, or ?last_event_id= for clients that cannot set it.
// One that is not a non-negative integer (another server's id, "abc") is
// treated as absent: the client gets the current state. A 400 would make
// EventSource give up for good.
std::optional<int64_t> ParseEventId(std::optional<std::string_view> text) {
  if (!text || text->empty()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || p != text->data() + text->size() || v < 0) return std::nullopt;
  return v;
}

std::optional<int64_t> LastEventId(const Request& r) {
  if (auto header = ParseEventId(r.Header("last-event-id"))) return header;
  return ParseEventId(r.Query("last_event_id"));
}

// The principal's expiry on the streams' clock (steady: a wall-clock jump
// must not end or extend a stream). max() when it never expires.
std::chrono::steady_clock::time_point SteadyExpiry(const auth::Principal& p) {
  using std::chrono::steady_clock;
  using std::chrono::system_clock;
  if (p.expires_at == system_clock::time_point::max()) return steady_clock::time_point::max();
  const auto left = p.expires_at - system_clock::now();
  // Years away: as good as never (and clear of overflow).
  if (left > std::chrono::hours(24 * 365)) return steady_clock::time_point::max();
  return steady_clock::now() + std::chrono::duration_cast<steady_clock::duration>(left);
}

}  // namespace

Result<std::shared_ptr<sse::StreamQuota::Hold>> App::HoldStreamQuota(const auth::Principal& p) {
  sse::StreamQuotaSlot* slot = quota_.Acquire(p.subject);
  if (slot == nullptr) {
    d_.metrics.refused_stream_limit.fetch_add(1, std::memory_order_relaxed);
    return MakeError(Errc::kRateLimited, "too many open streams (HERALD_MAX_STREAMS_PER_USER is " +
                                             std::to_string(d_.config.http.max_streams_per_user) +
                                             ")");
  }
  return std::make_shared<sse::StreamQuota::Hold>(quota_, slot);
}

std::string App::StreamHead(const Request& r) const {
  std::string head = r.version == 10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n";
  head +=
      "Content-Type: text/event-stream; charset=utf-8\r\n"
      "Cache-Control: no-cache, no-transform\r\n"
      "X-Accel-Buffering: no\r\n";
  if (r.version != 10) head += "Connection: keep-alive\r\n";
  std::vector<std::pair<std::string, std::string>> cors;
  AddCors(r, cors);
  for (const auto& [k, v] : cors) {
    head += k;
    head += ": ";
    head += v;
    head += "\r\n";
  }
  head += "\r\n";
  return head;
}

asio::awaitable<Outcome> App::OpenProgressStream(const Request& r, int64_t id,
                                                 const auth::Principal& p, Kind kind) {
  const std::optional<int64_t> last_event_id = LastEventId(r);
  // Admission from the job's live window when there is one (a reconnect
  // storm reads no database), else from the store.
  std::optional<sse::JobInfo> info = d_.hub.Info(id);
  // A client that saw a later event than the window (another instance's,
  // not yet polled here) is answered from the store.
  if (info && last_event_id && *last_event_id > info->last_seq) info.reset();
  if (!info) {
    auto job = co_await LoadVisible(id, p, kind);
    if (!job) co_return ErrorOutcome(job.error());
    info = sse::JobInfo{job->id, job->owner, job->is_audit(), job->last_seq,
                        jobs::IsTerminal(job->status)};
  } else if (auto visible = CheckVisible(id, info->owner, info->audit, p, kind); !visible) {
    co_return ErrorOutcome(visible.error());
  }
  // Already told the client the end: 204 makes EventSource stop reconnecting.
  if (info->terminal && last_event_id && *last_event_id >= info->last_seq) {
    log::Info("{} {} by {}: 204, the client already has the final event {}",
              info->audit ? "audit" : "job", id, p.subject, info->last_seq);
    Reply reply;
    reply.status = 204;
    reply.content_type.clear();
    co_return Outcome{std::move(reply), {}};
  }

  auto quota = HoldStreamQuota(p);
  if (!quota) co_return ErrorOutcome(quota.error());
  if (last_event_id) {
    log::Info("{} {} by {}: stream resumed after event {} (latest {}{})",
              info->audit ? "audit" : "job", id, p.subject, *last_event_id, info->last_seq,
              *last_event_id >= info->last_seq ? ", nothing to replay" : "");
  }
  sse::ProgressOpen open;
  open.job_id = id;
  open.audit = info->audit;
  open.resume = last_event_id;
  // retry: joins the first event's block (see FormatRetry).
  open.head = StreamHead(r) + sse::FormatRetry(d_.config.sse.retry.count());
  open.expires_at = SteadyExpiry(p);
  Outcome outcome;
  outcome.stream = [this, open = std::move(open), hold = *quota](TcpSocket socket) mutable {
    open.quota_slot = hold->Take();
    progress_streams_.Open(std::move(socket), std::move(open));
  };
  co_return outcome;
}

asio::awaitable<Outcome> App::OpenNotifyStream(const Request& r, const auth::Principal& p) {
  const std::optional<int64_t> last_event_id = LastEventId(r);
  auto quota = HoldStreamQuota(p);
  if (!quota) co_return ErrorOutcome(quota.error());
  if (last_event_id)
    log::Info("notifications of {}: stream resumed after event {}", p.subject, *last_event_id);
  sse::FeedOpen open;
  open.user = p.subject;
  open.admin = p.is_admin();
  open.resume = last_event_id;
  open.named = r.Query("events") == "named";
  // The contract (seed 004): ":ok" and a blank line are the very first
  // bytes, then retry:, which joins the next block.
  open.head = StreamHead(r) + ":ok\n\n" + sse::FormatRetry(d_.config.sse.retry.count());
  open.expires_at = SteadyExpiry(p);
  Outcome outcome;
  outcome.stream = [this, open = std::move(open), hold = *quota](TcpSocket socket) mutable {
    open.quota_slot = hold->Take();
    feed_streams_.Open(std::move(socket), std::move(open));
  };
  co_return outcome;
}

}  // namespace herald::api
