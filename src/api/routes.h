#pragma once
// The API's routes as data: each endpoint of the contract is one row (method,
// path pattern, who may call it). App::Route matches a request against the
// table and dispatches on the row's Endpoint; the OpenAPI test walks the same
// table to check that every route is documented. Pure: no I/O, no App.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herald::api {

enum class Endpoint {
  kDashboard,
  kHealth,
  kMetrics,
  kOpenApi,
  kSessionCreate,
  kSessionDescribe,
  kSessionEnd,
  kTicketCreate,
  kNotifyStream,
  kAuditStream,
  kJobStream,
  kProgressBatch,
  kNotificationPost,
  kAuditCreate,
  kAuditList,
  kJobCreate,
  kJobList,
  kAuditGet,
  kJobGet,
  kAuditStatus,
  kJobStatus,
  kAuditReport,
  kAuditCancel,
  kJobCancel,
  kAuditProgress,
  kJobProgress,
};

enum class Access {
  kPublic,  // no credentials (the dashboard page, health, metrics, the API's description)
  kToken,   // a token (Bearer, ?token=, or the session cookie)
  kStream,  // a token, or a stream ticket issued for this very stream
};

struct Route {
  std::string_view method;   // "GET", "POST", "DELETE"
  std::string_view pattern;  // "/api/v1/audits/{id}/report": {id} is one segment
  Access access;
  Endpoint endpoint;
  bool head_too = false;  // HEAD is answered like GET
};

// Every route, in the order a 405's Allow header lists a path's methods.
std::span<const Route> Routes();

// "/api/v1/jobs/12/status" -> {"api","v1","jobs","12","status"}; empty
// segments (doubled or trailing slashes) are skipped.
std::vector<std::string_view> PathSegments(std::string_view path);

// What a request's path and method come to.
struct RouteMatch {
  const Route* route = nullptr;  // the row for this method; null: none
  std::string_view id;           // the {id} segment's text, if the pattern has one
  std::string allow;             // the methods the path has ("GET, POST"); empty: no such path
  bool only_public = false;      // every route of the path is public
};
RouteMatch MatchRoute(std::string_view method, std::string_view path);

// A positive decimal id ("12"); nullopt for anything else.
std::optional<int64_t> ParseId(std::string_view text);

}  // namespace herald::api
