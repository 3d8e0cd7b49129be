#include "api/routes.h"

#include <charconv>
#include <cstdint>

namespace herald::api {
namespace {

using enum Access;
using enum Endpoint;

// The contract's endpoints (docs/api.md). Order matters only for Allow.
constexpr Route kRoutes[] = {
    {"GET", "/", kPublic, kDashboard, true},
    {"GET", "/index.html", kPublic, kDashboard, true},
    {"GET", "/healthz", kPublic, kHealth},
    {"GET", "/metrics", kPublic, kMetrics},
    {"GET", "/api/v1/openapi.json", kPublic, kOpenApi, true},
    {"GET", "/api/v1/session", kToken, kSessionDescribe},
    {"POST", "/api/v1/session", kToken, kSessionCreate},
    // Signing out needs no valid credentials: an expired cookie is cleared too.
    {"DELETE", "/api/v1/session", kPublic, kSessionEnd},
    {"POST", "/api/v1/sse/tickets", kToken, kTicketCreate},
    {"GET", "/notify/events", kStream, kNotifyStream},
    {"GET", "/api/v1/sse/audits/{id}/progress", kStream, kAuditStream},
    {"GET", "/api/v1/sse/jobs/{id}/progress", kStream, kJobStream},
    {"POST", "/api/v1/progress", kToken, kProgressBatch},
    {"POST", "/api/v1/notifications", kToken, kNotificationPost},
    {"GET", "/api/v1/audits", kToken, kAuditList},
    {"POST", "/api/v1/audits", kToken, kAuditCreate},
    {"GET", "/api/v1/jobs", kToken, kJobList},
    {"POST", "/api/v1/jobs", kToken, kJobCreate},
    {"GET", "/api/v1/audits/{id}", kToken, kAuditGet},
    {"GET", "/api/v1/jobs/{id}", kToken, kJobGet},
    {"GET", "/api/v1/audits/{id}/status", kToken, kAuditStatus},
    {"GET", "/api/v1/jobs/{id}/status", kToken, kJobStatus},
    {"GET", "/api/v1/audits/{id}/report", kToken, kAuditReport},
    {"POST", "/api/v1/audits/{id}/cancel", kToken, kAuditCancel},
    {"POST", "/api/v1/jobs/{id}/cancel", kToken, kJobCancel},
    {"POST", "/api/v1/audits/{id}/progress", kToken, kAuditProgress},
    {"POST", "/api/v1/jobs/{id}/progress", kToken, kJobProgress},
};

}  // namespace

std::span<const Route> Routes() { return kRoutes; }

std::vector<std::string_view> PathSegments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    size_t start = path.find_first_not_of('/');
    if (start == std::string_view::npos) break;
    path.remove_prefix(start);
    size_t end = path.find('/');
    out.push_back(path.substr(0, end));
    if (end == std::string_view::npos) break;
    path.remove_prefix(end);
  }
  return out;
}

namespace {

// Whether `segments` fit a pattern's `parts`; `id` gets its {id} segment.
bool Matches(std::span<const std::string_view> parts, std::span<const std::string_view> segments,
             std::string_view* id) {
  if (parts.size() != segments.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "{id}") {
      *id = segments[i];
      continue;
    }
    if (parts[i] != segments[i]) return false;
  }
  return true;
}

// Each row's pattern split once, not on every request (the patterns are
// string literals, so the views stay valid).
const std::vector<std::vector<std::string_view>>& PatternParts() {
  static const auto parts = [] {
    std::vector<std::vector<std::string_view>> out;
    for (const Route& route : kRoutes) out.push_back(PathSegments(route.pattern));
    return out;
  }();
  return parts;
}

}  // namespace

RouteMatch MatchRoute(std::string_view method, std::string_view path) {
  RouteMatch match;
  match.only_public = true;
  auto segments = PathSegments(path);
  const auto& parts = PatternParts();
  for (size_t r = 0; r < std::size(kRoutes); ++r) {
    const Route& route = kRoutes[r];
    std::string_view id;
    if (!Matches(parts[r], segments, &id)) continue;
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += route.method;
    if (route.access != Access::kPublic) match.only_public = false;
    if (!match.route && (method == route.method || (route.head_too && method == "HEAD"))) {
      match.route = &route;
      match.id = id;
    }
  }
  if (match.allow.empty()) match.only_public = false;
  return match;
}

std::optional<int64_t> ParseId(std::string_view text) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

}  // namespace herald::api
