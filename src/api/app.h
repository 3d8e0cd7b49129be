#pragma once
// The API: routes requests to the REST, stream and operational endpoints of
// the contract, authenticates them, and turns every Error into the one HTTP
// status the contract gives it (herald::HttpStatus).

#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <string>

#include "api/rate_limiter.h"
#include "common/errors.h"
#include "http/handler.h"
#include "sse/feed_streams.h"
#include "sse/progress_streams.h"
#include "sse/stream_quota.h"
#include "sse/stream.h"
#include "store/job_store.h"

namespace herald {
class Clock;
struct Metrics;
namespace config {
struct Config;
}
namespace bus {
class Bus;
}
namespace sse {
class Hub;
}
namespace publish {
class Publisher;
}
namespace auth {
class TokenVerifier;
struct Principal;
}  // namespace auth
namespace jobs {
struct Job;
}
}  // namespace herald

namespace herald::api {

struct Route;

// Everything the API uses; all of it must outlive the App.
struct AppDeps {
  const config::Config& config;
  store::JobStore& store;
  bus::Bus& bus;
  sse::Hub& hub;
  publish::Publisher& publisher;
  const auth::TokenVerifier& verifier;
  boost::asio::thread_pool& blocking;
  Metrics& metrics;
  const Clock& clock;
};

class App final : public http::Handler {
 public:
  explicit App(AppDeps deps);
  boost::asio::awaitable<http::Outcome> Handle(http::Request& request) override;

 private:
  using Reply = http::Reply;
  using Request = http::Request;
  using Outcome = http::Outcome;

 public:
  enum class Kind { kAudits, kJobs };

 private:
  // Matches the request against the route table (api/routes.h),
  // authenticates it unless the route is public, and dispatches.
  boost::asio::awaitable<Outcome> Route(Request& request);
  // Runs the endpoint of a matched row; `principal` is null for public rows.
  boost::asio::awaitable<Outcome> Dispatch(const api::Route& route, std::string_view id,
                                           Request& request, const auth::Principal* principal);
  // The ticket target of a stream row ("notify", "audit:12"); empty for
  // any other row or an id that does not parse.
  static std::string TicketTargetOf(const api::Route& route, std::string_view id);
  // `from_cookie`: set when the token came from the auth_token cookie.
  Result<auth::Principal> Authenticate(const Request& request, bool* from_cookie) const;
  // A cookie-authenticated POST must come from this origin or an allowed
  // one (CSRF): the browser sends the cookie on a foreign page's form too.
  bool SameOrAllowedOrigin(const Request& request) const;
  void AddCors(const Request& request,
               std::vector<std::pair<std::string, std::string>>& headers) const;

  // REST (jobs_api.cc).
  boost::asio::awaitable<Reply> CreateAudit(const Request& r, const auth::Principal& p);
  boost::asio::awaitable<Reply> CreateJob(const Request& r, const auth::Principal& p);
  boost::asio::awaitable<Reply> ListJobs(const Request& r, const auth::Principal& p, Kind kind);
  boost::asio::awaitable<Reply> GetJob(int64_t id, const auth::Principal& p, Kind kind,
                                       bool status_only);
  boost::asio::awaitable<Reply> Cancel(int64_t id, const auth::Principal& p, Kind kind);
  // GET /api/v1/audits/{id}/report?format=json|markdown: a download.
  boost::asio::awaitable<Reply> GetReport(const Request& r, int64_t id, const auth::Principal& p,
                                          Kind kind);
  boost::asio::awaitable<Reply> PostProgress(const Request& r, int64_t id, const auth::Principal& p,
                                             Kind kind);
  boost::asio::awaitable<Reply> PostProgressBatch(const Request& r, const auth::Principal& p);
  boost::asio::awaitable<Reply> PostNotification(const Request& r, const auth::Principal& p);
  // Through the Publisher's queue: resume once durable (or refused).
  boost::asio::awaitable<Result<store::Applied>> CreateThroughPublisher(store::NewJob job);
  boost::asio::awaitable<Result<std::vector<store::UpdateOutcome>>> UpdateThroughPublisher(
      std::vector<store::JobUpdate> updates);
  // The job if `p` may read it and it is of `kind`; kNotFound/kForbidden otherwise.
  boost::asio::awaitable<Result<jobs::Job>> LoadVisible(int64_t id, const auth::Principal& p,
                                                        Kind kind);
  Result<void> CheckVisible(int64_t id, const std::string& owner, bool audit,
                            const auth::Principal& p, Kind kind) const;

  // Streams (streams_api.cc).
  boost::asio::awaitable<Outcome> OpenProgressStream(const Request& r, int64_t id,
                                                     const auth::Principal& p, Kind kind);
  boost::asio::awaitable<Outcome> OpenNotifyStream(const Request& r, const auth::Principal& p);
  std::string StreamHead(const Request& r) const;

  // Stream tickets (tickets_api.cc).
  boost::asio::awaitable<Reply> CreateTicket(const Request& r, const auth::Principal& p);
  // The principal a ticket stands for, if it is valid for `target`
  // ("job:12", "audit:12", "notify"); it is used up either way.
  boost::asio::awaitable<Result<auth::Principal>> RedeemTicket(std::string_view ticket,
                                                               const std::string& target);
  static std::string TicketTarget(Kind kind, int64_t id);

  // Browser sessions (session_api.cc): the token exchanged for an HttpOnly
  // cookie, who the cookie stands for, and the cookie cleared.
  Reply CreateSession(const Request& r, const auth::Principal& p) const;
  Reply DescribeSession(const auth::Principal& p) const;
  Reply EndSession(const Request& r) const;

  // Operations (app.cc).
  boost::asio::awaitable<Reply> Health();
  Reply Dashboard() const;

  // HERALD_MAX_STREAMS_PER_USER: a place for one more stream of `p`, or
  // 429 with Retry-After.
  Result<std::shared_ptr<sse::StreamQuota::Hold>> HoldStreamQuota(const auth::Principal& p);

  AppDeps d_;
  RateLimiter limiter_;
  sse::StreamQuota quota_;  // before the options that point to it
  sse::StreamOptions progress_options_;
  sse::StreamOptions notify_options_;
  sse::ProgressStreams progress_streams_;
  sse::FeedStreams feed_streams_;
};

}  // namespace herald::api
