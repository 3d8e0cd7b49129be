#include "api/app.h"

#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include <charconv>
#include <cmath>

#include "api/blocking.h"
#include "api/dashboard_page.h"
#include "api/openapi_document.h"
#include "api/page_policy.h"
#include "api/routes.h"
#include "auth/jwt.h"
#include "bus/bus.h"
#include "common/clock.h"
#include "common/json_text.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "sse/event_format.h"
#include "store/job_store.h"

namespace herald::api {
namespace asio = boost::asio;
using http::Outcome;
using http::Reply;
using http::Request;

namespace {

// The notification stream's queue (StreamOptions::lossless): 4,096 shared
// event pointers, 64 KB at most per stream.
constexpr std::size_t kNotifyQueuedEvents = 4096;

Outcome ReplyOutcome(Reply reply) { return Outcome{std::move(reply), {}}; }

Reply MethodNotAllowed(std::string_view allow) {
  Reply r = Reply::Error(405, "method not allowed");
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

}  // namespace

App::App(AppDeps deps)
    : d_(deps),
      limiter_(deps.config.http.rate_limit, deps.config.http.rate_burst),
      quota_(deps.config.http.max_streams_per_user),
      progress_streams_(d_.hub, d_.bus, d_.store, d_.blocking, progress_options_, d_.metrics,
                        d_.hub.options().window_events),
      feed_streams_(d_.hub, d_.bus, d_.store, d_.blocking, notify_options_, d_.metrics) {
  auto heartbeat = [](std::string_view text) {
    auto e = std::make_shared<sse::Event>();
    e->comment = true;
    e->wire = sse::FormatComment(text);
    return e;
  };
  progress_options_.quota = &quota_;
  notify_options_.quota = &quota_;
  progress_options_.heartbeat = d_.config.sse.heartbeat;
  progress_options_.max_duration = d_.config.sse.max_duration;
  progress_options_.max_queued_events = d_.config.sse.max_queued_events;
  progress_options_.heartbeat_frame = heartbeat("heartbeat");
  notify_options_ = progress_options_;
  // Seed 004's keep-alive: ":keepalive", no space; one line without a
  // blank line after it, like the heartbeat (see sse::FormatComment).
  auto keepalive = std::make_shared<sse::Event>();
  keepalive->comment = true;
  keepalive->wire = ":keepalive\n";
  notify_options_.heartbeat_frame = std::move(keepalive);
  // One poll of the store can bring a burst of feed entries at once: room
  // for such a burst, and beyond it a cut-off rather than a loss.
  notify_options_.lossless = true;
  notify_options_.max_queued_events =
      std::max<std::size_t>(d_.config.sse.max_queued_events, kNotifyQueuedEvents);
}

void App::AddCors(const Request& request,
                  std::vector<std::pair<std::string, std::string>>& headers) const {
  auto origin = request.Header("origin");
  if (!origin) return;
  for (const auto& allowed : d_.config.http.cors_allowed_origins) {
    if (allowed == *origin || allowed == "*") {
      // Credentials (the auth_token cookie) need the exact origin, never "*".
      headers.emplace_back("Access-Control-Allow-Origin", std::string(*origin));
      headers.emplace_back("Access-Control-Allow-Credentials", "true");
      headers.emplace_back("Vary", "Origin");
      return;
    }
  }
}

asio::awaitable<Outcome> App::Handle(Request& request) {
  Outcome outcome;
  try {
    outcome = co_await Route(request);
  } catch (const std::exception& e) {
    log::Error("{} {} failed: {}", request.method, request.path, e.what());
    outcome = ReplyOutcome(Reply::Error(500, "Internal server error"));
  }
  if (!outcome.stream) AddCors(request, outcome.reply.headers);
  co_return outcome;
}

Result<auth::Principal> App::Authenticate(const Request& request, bool* from_cookie) const {
  std::string token;
  *from_cookie = false;
  if (auto h = request.Header("authorization")) {
    std::string_view v = *h;
    if (v.size() > 7 && (v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer "))
      token = std::string(v.substr(7));
    else
      return MakeError(Errc::kUnauthorized, "Authorization header is not a Bearer token");
  } else if (auto c = request.Cookie("auth_token")) {
    token = *c;
    *from_cookie = true;
  } else if (auto q = request.Query("token")) {
    token = std::string(*q);
  }
  if (token.empty()) return MakeError(Errc::kUnauthorized, "missing token");
  return d_.verifier.Verify(token, d_.clock.Now());
}

bool App::SameOrAllowedOrigin(const Request& request) const {
  // The page's origin: Origin, or for older browsers the Referer's.
  std::string_view origin;
  if (auto o = request.Header("origin")) {
    origin = *o;
  } else if (auto referer = request.Header("referer")) {
    origin = *referer;
    const auto scheme = origin.find("://");
    if (scheme != std::string_view::npos) {
      const auto path = origin.find('/', scheme + 3);
      if (path != std::string_view::npos) origin = origin.substr(0, path);
    }
  }
  if (origin.empty() || origin == "null") return false;
  for (const auto& allowed : d_.config.http.cors_allowed_origins) {
    if (origin == allowed) return true;
  }
  // Same origin: its host[:port] is the Host this request was sent to (the
  // scheme is not compared: behind a TLS proxy Herald itself sees http).
  const auto scheme = origin.find("://");
  if (scheme == std::string_view::npos) return false;
  auto host = request.Header("host");
  return host && origin.substr(scheme + 3) == *host;
}

asio::awaitable<Outcome> App::Route(Request& r) {
  const std::string& m = r.method;
  if (m == "OPTIONS") {
    Reply reply;
    reply.status = 204;
    reply.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
    reply.headers.emplace_back("Access-Control-Allow-Headers",
                               "Authorization, Content-Type, Last-Event-ID");
    reply.headers.emplace_back("Access-Control-Max-Age", "600");
    co_return ReplyOutcome(std::move(reply));
  }

  // The route table (api/routes.cc) says what the path is and who may call it.
  const RouteMatch match = MatchRoute(m, r.path);
  if (match.route && match.route->access == Access::kPublic) {
    Outcome outcome = co_await Dispatch(*match.route, match.id, r, nullptr);
    co_return outcome;
  }
  if (match.only_public) co_return ReplyOutcome(MethodNotAllowed(match.allow));
  // Outside /api/v1/ an unknown path is 404 at once; inside, only once the
  // caller has shown credentials, as an unknown method of a known path is.
  if (match.allow.empty()) {
    auto seg = PathSegments(r.path);
    if (seg.size() < 3 || seg[0] != "api" || seg[1] != "v1")
      co_return ReplyOutcome(Reply::Error(404, "no such endpoint"));
  }

  Result<auth::Principal> principal = MakeError(Errc::kUnauthorized, "missing token");
  if (auto ticket = r.Query("ticket")) {
    // A stream ticket stands for a token on the stream it was issued for,
    // and for nothing else.
    std::string target = match.route ? TicketTargetOf(*match.route, match.id) : std::string();
    if (target.empty()) {
      co_return ReplyOutcome(Reply::Error(401, "a ticket opens only the stream it was issued for"));
    }
    principal = co_await RedeemTicket(*ticket, target);
  } else {
    bool from_cookie = false;
    principal = Authenticate(r, &from_cookie);
    if (principal && from_cookie && m != "GET" && m != "HEAD" && !SameOrAllowedOrigin(r)) {
      co_return ReplyOutcome(
          Reply::Error(403, "cross-origin request with the auth_token cookie refused"));
    }
  }
  if (!principal) co_return ReplyOutcome(Reply::FromError(principal.error()));
  if (double wait = limiter_.Acquire(principal->subject); wait > 0) {
    Reply reply = Reply::Error(429, "rate limited");
    reply.headers.emplace_back("Retry-After", std::to_string(static_cast<int>(std::ceil(wait))));
    co_return ReplyOutcome(std::move(reply));
  }
  if (!match.route) {
    if (match.allow.empty()) co_return ReplyOutcome(Reply::Error(404, "no such endpoint"));
    co_return ReplyOutcome(MethodNotAllowed(match.allow));
  }
  Outcome outcome = co_await Dispatch(*match.route, match.id, r, &*principal);
  co_return outcome;
}

std::string App::TicketTargetOf(const api::Route& route, std::string_view id_text) {
  if (route.endpoint == Endpoint::kNotifyStream) return "notify";
  if (route.endpoint != Endpoint::kAuditStream && route.endpoint != Endpoint::kJobStream) return "";
  auto id = ParseId(id_text);
  if (!id) return "";
  return TicketTarget(route.endpoint == Endpoint::kAuditStream ? Kind::kAudits : Kind::kJobs, *id);
}

asio::awaitable<Outcome> App::Dispatch(const api::Route& route, std::string_view id_text,
                                       Request& r, const auth::Principal* principal) {
  int64_t id = 0;
  if (route.pattern.find("{id}") != std::string_view::npos) {
    auto parsed = ParseId(id_text);
    if (!parsed) co_return ReplyOutcome(Reply::Error(404, "no such job"));
    id = *parsed;
  }
  // Public rows have no principal; every other row has one (App::Route).
  static const auth::Principal kNobody{};
  const auth::Principal& p = principal ? *principal : kNobody;
  Reply reply;
  switch (route.endpoint) {
    case Endpoint::kDashboard:
      co_return ReplyOutcome(Dashboard());
    case Endpoint::kHealth:
      reply = co_await Health();
      break;
    case Endpoint::kMetrics:
      reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
      reply.body = d_.metrics.Render(config::ToString(d_.config.sse_source), d_.bus.RedisHealth());
      break;
    case Endpoint::kOpenApi:
      // The API's description is public, like /healthz: it holds no data.
      reply = Reply::Json(200, std::string(kOpenApiDocument));
      reply.headers.emplace_back("Cache-Control", "no-cache");
      break;
    case Endpoint::kSessionCreate:
      co_return ReplyOutcome(CreateSession(r, p));
    case Endpoint::kSessionDescribe:
      co_return ReplyOutcome(DescribeSession(p));
    case Endpoint::kSessionEnd:
      co_return ReplyOutcome(EndSession(r));
    case Endpoint::kTicketCreate:
      reply = co_await CreateTicket(r, p);
      break;
    case Endpoint::kNotifyStream: {
      Outcome stream = co_await OpenNotifyStream(r, p);
      co_return stream;
    }
    case Endpoint::kAuditStream:
    case Endpoint::kJobStream: {
      Kind kind = route.endpoint == Endpoint::kAuditStream ? Kind::kAudits : Kind::kJobs;
      Outcome stream = co_await OpenProgressStream(r, id, p, kind);
      co_return stream;
    }
    case Endpoint::kProgressBatch:
      reply = co_await PostProgressBatch(r, p);
      break;
    case Endpoint::kNotificationPost:
      reply = co_await PostNotification(r, p);
      break;
    case Endpoint::kAuditCreate:
      reply = co_await CreateAudit(r, p);
      break;
    case Endpoint::kJobCreate:
      reply = co_await CreateJob(r, p);
      break;
    case Endpoint::kAuditList:
      reply = co_await ListJobs(r, p, Kind::kAudits);
      break;
    case Endpoint::kJobList:
      reply = co_await ListJobs(r, p, Kind::kJobs);
      break;
    case Endpoint::kAuditGet:
      reply = co_await GetJob(id, p, Kind::kAudits, false);
      break;
    case Endpoint::kJobGet:
      reply = co_await GetJob(id, p, Kind::kJobs, false);
      break;
    case Endpoint::kAuditStatus:
      reply = co_await GetJob(id, p, Kind::kAudits, true);
      break;
    case Endpoint::kJobStatus:
      reply = co_await GetJob(id, p, Kind::kJobs, true);
      break;
    case Endpoint::kAuditReport:
      reply = co_await GetReport(r, id, p, Kind::kAudits);
      break;
    case Endpoint::kAuditCancel:
      reply = co_await Cancel(id, p, Kind::kAudits);
      break;
    case Endpoint::kJobCancel:
      reply = co_await Cancel(id, p, Kind::kJobs);
      break;
    case Endpoint::kAuditProgress:
      reply = co_await PostProgress(r, id, p, Kind::kAudits);
      break;
    case Endpoint::kJobProgress:
      reply = co_await PostProgress(r, id, p, Kind::kJobs);
      break;
  }
  co_return ReplyOutcome(std::move(reply));
}

asio::awaitable<Reply> App::Health() {
  auto ping = co_await RunBlocking(d_.blocking, [this] { return d_.store.Ping(); });
  if (!ping) log::Warn("/healthz: {}", Describe(ping.error()));
  boost::json::object o;
  o["status"] = ping ? "ok" : "degraded";
  o["sse_source"] = config::ToString(d_.config.sse_source);
  o["redis"] = d_.bus.RedisHealth();
  o["db"] = ping ? "up" : "down";
  co_return Reply::Json(ping ? 200 : 503, JsonText(o));
}

Reply App::Dashboard() const {
  Reply reply;
  reply.content_type = "text/html; charset=utf-8";
  reply.body = std::string(kDashboardPage);
  // HERALD_WEB_ROOT: a customised page (index.html) instead of the built-in
  // one, read per request so it can be edited without a restart. It is a
  // small local file; missing or unreadable, the built-in page is served.
  if (!d_.config.http.web_root.empty()) {
    std::ifstream in(d_.config.http.web_root + "/index.html", std::ios::binary);
    if (in) {
      std::ostringstream page;
      page << in.rdbuf();
      reply.body = page.str();
    } else {
      log::Warn("HERALD_WEB_ROOT: cannot read {}/index.html; serving the built-in page",
                d_.config.http.web_root);
    }
  }
  reply.headers.emplace_back("Cache-Control", "no-cache");
  reply.headers.emplace_back("Content-Security-Policy", ContentSecurityPolicy(reply.body));
  reply.headers.emplace_back("X-Frame-Options", "DENY");  // frame-ancestors for old browsers
  reply.headers.emplace_back("Referrer-Policy", "no-referrer");
  return reply;
}

}  // namespace herald::api
