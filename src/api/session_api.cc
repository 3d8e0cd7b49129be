// Browser sessions: the dashboard exchanges a token once for an HttpOnly,
// SameSite=Strict `auth_token` cookie, so no long-lived token sits where a
// script (or an injected one) could read it. The cookie carries the JWT
// itself: every instance verifies it as it verifies a header, and it lapses
// with the token.
//
//   POST   /api/v1/session  Authorization: Bearer <jwt>  -> 200 {who}, Set-Cookie
//   GET    /api/v1/session  (any credentials)            -> 200 {who}
//   DELETE /api/v1/session  (no credentials needed)      -> 204, cookie cleared
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <string>

#include "api/app.h"
#include "auth/jwt.h"
#include "common/clock.h"

namespace herald::api {
namespace json = boost::json;
using http::Reply;
using http::Request;

namespace {

// Attributes every form of the cookie carries. `Secure` when the request
// came through a TLS proxy that says so: Herald itself speaks plain HTTP, and
// a Secure cookie set over plain http://127.0.0.1 would never come back.
std::string CookieAttributes(const Request& r) {
  std::string a = "; Path=/; HttpOnly; SameSite=Strict";
  if (auto proto = r.Header("x-forwarded-proto"); proto && *proto == "https") a += "; Secure";
  return a;
}

Reply Who(int status, const auth::Principal& p) {
  json::object o;
  o["sub"] = p.subject;
  o["role"] = std::string(auth::ToString(p.role));
  if (p.expires_at != std::chrono::system_clock::time_point::max()) {
    o["expires_at"] = FormatIso8601(
        std::chrono::duration_cast<std::chrono::milliseconds>(p.expires_at.time_since_epoch())
            .count());
  }
  return Reply::Json(status, json::serialize(o));
}

}  // namespace

http::Reply App::CreateSession(const Request& r, const auth::Principal& p) const {
  // Only a token shown in the header is turned into a cookie: a cookie
  // would just be renewed, and a token in a URL should not be encouraged.
  auto header = r.Header("authorization");
  if (!header || header->size() <= 7) {
    return Reply::Error(400, "send the token as Authorization: Bearer <token>");
  }
  const std::string token(header->substr(7));
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(p.expires_at - d_.clock.Now());
  // A token without an end still gets one on the cookie: a browser session
  // of at most a day, after which the dashboard asks again.
  const int64_t max_age = p.expires_at == std::chrono::system_clock::time_point::max()
                              ? 86400
                              : std::clamp<int64_t>(left.count(), 1, 400LL * 86400);
  Reply reply = Who(200, p);
  reply.headers.emplace_back("Set-Cookie", "auth_token=" + token + "; Max-Age=" +
                                               std::to_string(max_age) + CookieAttributes(r));
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

http::Reply App::DescribeSession(const auth::Principal& p) const {
  Reply reply = Who(200, p);
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

http::Reply App::EndSession(const Request& r) const {
  Reply reply;
  reply.status = 204;
  reply.headers.emplace_back("Set-Cookie", "auth_token=; Max-Age=0" + CookieAttributes(r));
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

}  // namespace herald::api
