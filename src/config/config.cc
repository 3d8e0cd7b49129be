#include "config/config.h"

#include <charconv>
#include <cstdlib>
#include <thread>

#include "config/service_url.h"

namespace herald::config {
namespace {

Error Bad(std::string_view var, const std::string& what) {
  return MakeError(Errc::kBadRequest, std::string(var) + ": " + what);
}

// Parses a whole non-negative integer within [lo, hi]; no signs, no junk.
Result<int64_t> ParseInt(std::string_view var, std::string_view text, int64_t lo, int64_t hi) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty())
    return Bad(var, "'" + std::string(text) + "' is not a whole number");
  if (v < lo || v > hi)
    return Bad(var, std::to_string(v) + " is out of range (" + std::to_string(lo) + ".." +
                        std::to_string(hi) + ")");
  return v;
}

Result<double> ParseDouble(std::string_view var, std::string_view text) {
  char* end = nullptr;
  std::string s(text);
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || v < 0)
    return Bad(var, "'" + s + "' is not a non-negative number");
  return v;
}

Result<bool> ParseBool(std::string_view var, std::string_view text) {
  if (text == "1" || text == "true" || text == "yes" || text == "on") return true;
  if (text == "0" || text == "false" || text == "no" || text == "off" || text.empty()) return false;
  return Bad(var, "'" + std::string(text) + "' is not a boolean (use 1 or 0)");
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::string_view ToString(SseSource source) {
  switch (source) {
    case SseSource::kMemory:
      return "memory";
    case SseSource::kDb:
      return "db";
    case SseSource::kRedis:
      return "redis";
    case SseSource::kPostgres:
      return "postgres";
  }
  return "memory";
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<void> ParseListen(std::string_view text, std::string* host, uint16_t* port) {
  constexpr std::string_view kVar = "HERALD_LISTEN";
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return Bad(kVar, "'" + std::string(text) + "' is not host:port");
  std::string_view h = text.substr(0, colon);
  std::string_view p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  auto port_value = ParseInt(kVar, p, 0, 65535);
  if (!port_value) return Bad(kVar, "port '" + std::string(p) + "' is not a number 0-65535");
  *host = h.empty() ? "0.0.0.0" : std::string(h);
  *port = static_cast<uint16_t>(*port_value);
  return {};
}

Result<Config> LoadConfig(const EnvLookup& env) {
  Config c;
  auto get = [&](const char* name) { return env(name); };

  if (auto v = get("HERALD_LISTEN")) {
    if (auto r = ParseListen(*v, &c.http.host, &c.http.port); !r) return r.error();
  }
  c.http.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  // Integer settings: variable, target, range, unit conversion.
  struct IntVar {
    const char* name;
    int64_t lo, hi;
    std::function<void(int64_t)> set;
  };
  const IntVar ints[] = {
      {"HERALD_THREADS", 1, 256, [&](int64_t v) { c.http.threads = static_cast<int>(v); }},
      {"HERALD_REQUEST_TIMEOUT_SECONDS", 1, 3600,
       [&](int64_t v) { c.http.request_timeout = std::chrono::seconds(v); }},
      {"HERALD_KEEPALIVE_TIMEOUT_SECONDS", 1, 3600,
       [&](int64_t v) { c.http.keepalive_timeout = std::chrono::seconds(v); }},
      {"HERALD_MAX_HEADER_BYTES", 1024, 1 << 20,
       [&](int64_t v) { c.http.max_header_bytes = static_cast<size_t>(v); }},
      {"HERALD_MAX_BODY_BYTES", 1024, 64 << 20,
       [&](int64_t v) { c.http.max_body_bytes = static_cast<size_t>(v); }},
      {"SSE_MAX_DURATION", 1, 7 * 24 * 3600,
       [&](int64_t v) { c.sse.max_duration = std::chrono::seconds(v); }},
      {"SSE_RETRY_MS", 0, 24 * 3600 * 1000,
       [&](int64_t v) { c.sse.retry = std::chrono::milliseconds(v); }},
      {"SSE_HEARTBEAT_SECONDS", 1, 24 * 3600,
       [&](int64_t v) { c.sse.heartbeat = std::chrono::seconds(v); }},
      {"SSE_FALLBACK_DB_INTERVAL_SECONDS", 1, 24 * 3600,
       [&](int64_t v) { c.sse.fallback_db_interval = std::chrono::seconds(v); }},
      {"SSE_REDIS_TIMEOUT_MS", 10, 600000,
       [&](int64_t v) { c.sse.redis_timeout = std::chrono::milliseconds(v); }},
      {"SSE_MAX_QUEUED_EVENTS", 2, 100000,
       [&](int64_t v) { c.sse.max_queued_events = static_cast<size_t>(v); }},
      {"JWT_LEEWAY_SECONDS", 0, 3600, [&](int64_t v) { c.auth.leeway = std::chrono::seconds(v); }},
      {"HERALD_WORKERS", 0, 256, [&](int64_t v) { c.workers = static_cast<int>(v); }},
      {"HERALD_AUDIT_LEASE_SECONDS", 1, 3600,
       [&](int64_t v) { c.audit_lease = std::chrono::seconds(v); }},
      {"HERALD_MAX_CONNECTIONS", 0, 10000000, [&](int64_t v) { c.http.max_connections = v; }},
      {"HERALD_MAX_STREAMS_PER_USER", 0, 10000000,
       [&](int64_t v) { c.http.max_streams_per_user = static_cast<int>(v); }},
      {"HERALD_DRAIN_SECONDS", 0, 3600, [&](int64_t v) { c.drain = std::chrono::seconds(v); }},
      {"HERALD_DB_TIMEOUT_SECONDS", 1, 3600,
       [&](int64_t v) { c.db_timeout = std::chrono::seconds(v); }},
      {"HERALD_EVENT_RETENTION", 1, 10000000,
       [&](int64_t v) { c.event_retention = static_cast<int>(v); }},
  };
  for (const auto& var : ints) {
    if (auto v = get(var.name)) {
      auto parsed = ParseInt(var.name, *v, var.lo, var.hi);
      if (!parsed) return parsed.error();
      var.set(*parsed);
    }
  }

  if (auto v = get("HERALD_REUSE_PORT")) {
    auto b = ParseBool("HERALD_REUSE_PORT", *v);
    if (!b) return b.error();
    c.http.reuse_port = *b;
  }
  if (auto v = get("HERALD_TCP_NODELAY")) {
    auto b = ParseBool("HERALD_TCP_NODELAY", *v);
    if (!b) return b.error();
    c.http.tcp_nodelay = *b;
  }
  if (auto v = get("AUDIT_ALLOW_PRIVATE")) {
    auto b = ParseBool("AUDIT_ALLOW_PRIVATE", *v);
    if (!b) return b.error();
    c.audit_allow_private = *b;
  }
  if (auto v = get("HERALD_RATE_LIMIT")) {
    auto d = ParseDouble("HERALD_RATE_LIMIT", *v);
    if (!d) return d.error();
    c.http.rate_limit = *d;
    c.http.rate_burst = std::max(1.0, *d * 2);
  }
  if (auto v = get("HERALD_ACCEPT_RATE")) {
    auto d = ParseDouble("HERALD_ACCEPT_RATE", *v);
    if (!d) return d.error();
    c.http.accept_rate = *d;
  }
  if (auto v = get("HERALD_RATE_BURST")) {
    auto d = ParseDouble("HERALD_RATE_BURST", *v);
    if (!d) return d.error();
    c.http.rate_burst = *d;
  }
  if (auto v = get("CORS_ALLOWED_ORIGINS")) c.http.cors_allowed_origins = SplitList(*v);
  if (auto v = get("HERALD_WEB_ROOT")) c.http.web_root = *v;

  if (auto v = get("DATABASE_URL"); v && !v->empty()) c.database_url = *v;
  if (!c.database_url.starts_with("sqlite://") && !c.database_url.starts_with("postgresql://") &&
      !c.database_url.starts_with("postgres://")) {
    return Bad("DATABASE_URL", "'" + c.database_url.substr(0, c.database_url.find(':')) +
                                   "' is not a supported scheme (sqlite:// or postgresql://)");
  }
  if (c.database_url == "sqlite://") return Bad("DATABASE_URL", "sqlite:// needs a path");
  if (!c.database_url.starts_with("sqlite://")) {
    if (auto url = ParsePostgresUrl(c.database_url); !url) return url.error();
  }

  if (auto v = get("REDIS_URL"); v && !v->empty()) {
    if (auto url = ParseRedisUrl(*v); !url) return url.error();
    c.redis_url = *v;
  }
  c.sse_source = c.redis_url ? SseSource::kRedis : SseSource::kMemory;
  if (auto v = get("SSE_SOURCE"); v && !v->empty()) {
    if (*v == "memory")
      c.sse_source = SseSource::kMemory;
    else if (*v == "db")
      c.sse_source = SseSource::kDb;
    else if (*v == "redis")
      c.sse_source = SseSource::kRedis;
    else if (*v == "postgres")
      c.sse_source = SseSource::kPostgres;
    else
      return Bad("SSE_SOURCE", "'" + *v + "' is not one of memory, db, redis, postgres");
  }
  if (c.sse_source == SseSource::kRedis && !c.redis_url)
    return Bad("SSE_SOURCE", "redis needs REDIS_URL");
  if (c.sse_source == SseSource::kPostgres && c.database_url.starts_with("sqlite://"))
    return Bad("SSE_SOURCE", "postgres needs DATABASE_URL=postgresql://...");

  if (auto v = get("JWT_SECRET")) c.auth.jwt_secret = *v;
  if (auto v = get("JWT_PUBLIC_KEY_FILE"); v && !v->empty()) c.auth.public_key_file = *v;
  if (auto v = get("JWT_ISSUER"); v && !v->empty()) c.auth.issuer = *v;
  if (auto v = get("JWT_AUDIENCE"); v && !v->empty()) c.auth.audience = *v;

  if (auto v = get("HERALD_LOG_LEVEL"); v && !v->empty()) {
    if (*v != "debug" && *v != "info" && *v != "warn" && *v != "warning" && *v != "error" &&
        *v != "off")
      return Bad("HERALD_LOG_LEVEL", "'" + *v + "' is not one of debug, info, warn, error, off");
    c.log_level = *v;
  }
  if (auto v = get("HERALD_LOG_FORMAT"); v && !v->empty()) {
    if (*v != "text" && *v != "json")
      return Bad("HERALD_LOG_FORMAT", "'" + *v + "' is not one of text, json");
    c.log_format = *v;
  }
  return c;
}

}  // namespace herald::config
