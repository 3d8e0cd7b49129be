#pragma once
// Herald's configuration: one plain struct, filled once from the environment
// (flags may override), validated once, then passed down by const&. No other
// component reads the environment.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/errors.h"

namespace herald::config {

enum class SseSource { kMemory, kDb, kRedis, kPostgres };
std::string_view ToString(SseSource source);

struct SseConfig {
  // Longest a stream may stay open; then `Stream timeout`. Env: SSE_MAX_DURATION.
  std::chrono::seconds max_duration{3600};
  // The `retry:` value sent to clients. Env: SSE_RETRY_MS.
  std::chrono::milliseconds retry{5000};
  // Idle time before a heartbeat comment. Shorter survives stricter proxies at
  // the cost of traffic. Env: SSE_HEARTBEAT_SECONDS.
  std::chrono::seconds heartbeat{30};
  // Polling interval of SSE_SOURCE=db and of the Redis fallback.
  // Env: SSE_FALLBACK_DB_INTERVAL_SECONDS.
  std::chrono::seconds fallback_db_interval{10};
  // A Redis that does not answer a PING (or its own probe message) within
  // this counts as down, hung as well as dead. Env: SSE_REDIS_TIMEOUT_MS.
  std::chrono::milliseconds redis_timeout{2000};
  // Events a stream may have queued while its client is slow; beyond this the
  // oldest intermediate event is dropped (each carries the full state).
  // Env: SSE_MAX_QUEUED_EVENTS.
  std::size_t max_queued_events = 64;
};

struct AuthConfig {
  std::string jwt_secret;               // HS256 key. Env: JWT_SECRET.
  std::string public_key_file;          // PEM; enables RS256/ES256. Env: JWT_PUBLIC_KEY_FILE.
  std::optional<std::string> issuer;    // Env: JWT_ISSUER.
  std::optional<std::string> audience;  // Env: JWT_AUDIENCE.
  // Clock skew tolerated on exp/nbf. Env: JWT_LEEWAY_SECONDS.
  std::chrono::seconds leeway{30};
};

struct HttpConfig {
  std::string host = "127.0.0.1";  // Env: HERALD_LISTEN (host:port).
  uint16_t port = 8000;
  // I/O threads. Default: the number of cores. Env: HERALD_THREADS.
  int threads = 0;
  // Time a client has to send a complete request; slow clients are dropped.
  // Env: HERALD_REQUEST_TIMEOUT_SECONDS.
  std::chrono::seconds request_timeout{15};
  // Idle keep-alive connections are closed after this. Same variable family.
  std::chrono::seconds keepalive_timeout{60};
  std::size_t max_header_bytes = 16 * 1024;  // Env: HERALD_MAX_HEADER_BYTES.
  std::size_t max_body_bytes = 1024 * 1024;  // Env: HERALD_MAX_BODY_BYTES (413 beyond).
  // Lets several `herald serve` share one port (SO_REUSEPORT). Env: HERALD_REUSE_PORT.
  bool reuse_port = false;
  // TCP_NODELAY on accepted sockets. On: lowest latency; bursts still leave
  // in few segments because a stream writes everything queued in one gather
  // write. Off: Nagle coalesces back-to-back frames in the kernel instead.
  // docs/benchmarks.md has both measured. Env: HERALD_TCP_NODELAY.
  bool tcp_nodelay = true;
  std::vector<std::string> cors_allowed_origins;  // Env: CORS_ALLOWED_ORIGINS.
  std::string web_root;  // Dashboard files. Env: HERALD_WEB_ROOT. Empty: built-in page.
  // Requests per second per user to the API (per process); 0 disables.
  // Env: HERALD_RATE_LIMIT (with HERALD_RATE_BURST).
  double rate_limit = 0;
  double rate_burst = 0;
  // Open connections (requests and streams) beyond which a new one is
  // answered 503 with Retry-After instead of failing silently at accept.
  // 0: the open-file limit less a reserve (decided at start).
  // Env: HERALD_MAX_CONNECTIONS.
  int64_t max_connections = 0;
  // Streams (progress and notification) one user may hold open on this
  // instance; the next gets 429 with Retry-After. 0: no limit.
  // Env: HERALD_MAX_STREAMS_PER_USER.
  int max_streams_per_user = 100;
  // New connections per second (bursts of one second's worth) beyond which
  // one is answered 503 with a jittered Retry-After: flattens a reconnect
  // storm for clients that honour it. 0: no limit (the default: a browser's
  // plain EventSource treats a 503 as final and does not retry).
  // Env: HERALD_ACCEPT_RATE.
  double accept_rate = 0;
};

struct Config {
  HttpConfig http;
  SseConfig sse;
  AuthConfig auth;
  std::string database_url = "sqlite://var/herald.db";  // Env: DATABASE_URL.
  // The longest a database call may take (waiting for a lock or a
  // connection, reconnecting included) before it fails with 503 "database
  // unavailable". Env: HERALD_DB_TIMEOUT_SECONDS.
  std::chrono::milliseconds db_timeout{5000};
  std::optional<std::string> redis_url;       // Env: REDIS_URL.
  SseSource sse_source = SseSource::kMemory;  // Env: SSE_SOURCE.
  int workers = 2;                            // Env: HERALD_WORKERS.
  // How long a worker's claim on an audit lasts without renewal; an audit
  // whose worker died is taken over after this. Env: HERALD_AUDIT_LEASE_SECONDS.
  std::chrono::seconds audit_lease{30};
  bool audit_allow_private = false;  // Env: AUDIT_ALLOW_PRIVATE.
  // Events kept per job for Last-Event-ID replay. Env: HERALD_EVENT_RETENTION.
  int event_retention = 1000;
  std::string log_level = "info";   // Env: HERALD_LOG_LEVEL.
  std::string log_format = "text";  // Env: HERALD_LOG_FORMAT (text, json).
  // On SIGTERM, open streams are closed at random moments spread over this
  // long (their clients reconnect elsewhere gradually, not all at once),
  // then the process exits 0. 0: all at once. Env: HERALD_DRAIN_SECONDS.
  std::chrono::seconds drain{10};
};

// Reads a variable; returns nullopt when unset. Tests pass a map-backed one.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// Fills a Config from `env`. A value that does not parse yields kBadRequest
// with a message naming the variable, e.g. "HERALD_LISTEN: port 'abc' is not a number".
Result<Config> LoadConfig(const EnvLookup& env);

// Parses "host:port" (or "[v6]:port", or ":port").
Result<void> ParseListen(std::string_view text, std::string* host, uint16_t* port);

}  // namespace herald::config
