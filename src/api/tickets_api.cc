// Stream tickets: POST /api/v1/sse/tickets issues one; `?ticket=` on a
// stream path redeems it (App::Route). Single use, 60 s, bound to the user
// and the stream, kept in the database so any instance can redeem it.
#include <boost/json.hpp>

#include <chrono>
#include <string>

#include "api/app.h"
#include "api/blocking.h"
#include "api/job_json.h"
#include "auth/jwt.h"
#include "auth/stream_ticket.h"
#include "common/clock.h"
#include "store/job_store.h"

namespace herald::api {
namespace asio = boost::asio;
namespace json = boost::json;
using http::Reply;
using http::Request;

namespace {

int64_t ToUnixMs(std::chrono::system_clock::time_point t) {
  if (t == std::chrono::system_clock::time_point::max()) return INT64_MAX;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point FromUnixMs(int64_t ms) {
  if (ms == INT64_MAX) return std::chrono::system_clock::time_point::max();
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

// A positive integer id field, if present.
Result<std::optional<int64_t>> IdField(const json::object& body, std::string_view name) {
  const json::value* v = body.if_contains(name);
  if (v == nullptr) return std::optional<int64_t>{};
  if (!v->is_int64() || v->get_int64() <= 0) {
    return MakeError(Errc::kBadRequest, std::string(name) + " must be a positive integer");
  }
  return std::optional<int64_t>{v->get_int64()};
}

}  // namespace

asio::awaitable<Reply> App::CreateTicket(const Request& r, const auth::Principal& p) {
  auto body = ParseBody(r);
  if (!body) co_return Reply::FromError(body.error());
  auto job_id = IdField(*body, "job_id");
  if (!job_id) co_return Reply::FromError(job_id.error());
  auto audit_id = IdField(*body, "audit_id");
  if (!audit_id) co_return Reply::FromError(audit_id.error());
  const json::value* stream = body->if_contains("stream");
  const int given = (*job_id ? 1 : 0) + (*audit_id ? 1 : 0) + (stream ? 1 : 0);
  if (given != 1) {
    co_return Reply::Error(
        400, R"(name one stream: {"job_id": n}, {"audit_id": n} or {"stream": "notify"})");
  }
  std::string target;
  if (stream) {
    if (!stream->is_string() || stream->get_string() != "notify") {
      co_return Reply::Error(400, R"(stream must be "notify")");
    }
    target = "notify";
  } else {
    // The caller must be allowed to watch it now, as the stream will check.
    const Kind kind = *audit_id ? Kind::kAudits : Kind::kJobs;
    const int64_t id = *audit_id ? **audit_id : **job_id;
    auto job = co_await LoadVisible(id, p, kind);
    if (!job) co_return Reply::FromError(job.error());
    target = TicketTarget(kind, id);
  }
  std::string ticket = auth::NewStreamTicket();
  store::NewTicket row{auth::StreamTicketHash(ticket),      p.subject,
                       std::string(auth::ToString(p.role)), target,
                       auth::kTicketSeconds * 1000LL,       ToUnixMs(p.expires_at)};
  auto added = co_await RunBlocking(d_.blocking, [&] { return d_.store.AddTicket(row); });
  if (!added) co_return Reply::FromError(added.error());
  json::object out;
  out["ticket"] = ticket;
  out["expires_in"] = auth::kTicketSeconds;
  co_return Reply::Json(201, json::serialize(out));
}

std::string App::TicketTarget(Kind kind, int64_t id) {
  return (kind == Kind::kAudits ? "audit:" : "job:") + std::to_string(id);
}

asio::awaitable<Result<auth::Principal>> App::RedeemTicket(std::string_view ticket,
                                                           const std::string& target) {
  const std::string hash = auth::StreamTicketHash(ticket);
  auto redeemed = co_await RunBlocking(d_.blocking, [&] { return d_.store.RedeemTicket(hash); });
  if (!redeemed) co_return redeemed.error();
  // Burned either way: a ticket shown for another stream is not kept.
  if (redeemed->stream != target) {
    co_return MakeError(Errc::kUnauthorized, "the ticket is for another stream");
  }
  auto role = auth::ParseRole(redeemed->role);
  if (!role) co_return MakeError(Errc::kUnauthorized, "invalid or expired ticket");
  auth::Principal p{redeemed->user, *role, FromUnixMs(redeemed->credentials_expire_at_ms)};
  if (p.expires_at <= d_.clock.Now()) co_return MakeError(Errc::kUnauthorized, "token expired");
  co_return p;
}

}  // namespace herald::api
