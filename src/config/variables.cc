#include "config/variables.h"

namespace herald::config {

std::span<const VariableDoc> Variables() {
  static constexpr VariableDoc kVariables[] = {
      {"HERALD_LISTEN", "127.0.0.1:8000", "address and port"},
      {"HERALD_THREADS", "cores", "connection threads (each runs its own connections and streams)"},
      {"DATABASE_URL", "sqlite://var/herald.db",
       "sqlite://PATH (one node) or postgresql://user:pass@host:port/db (many instances)"},
      {"REDIS_URL", "unset", "redis://[:password@]host:port[/db]"},
      {"SSE_SOURCE", "redis if REDIS_URL is set, else memory",
       "redis (pub/sub; database polling while Redis is down), postgres (LISTEN/NOTIFY), memory "
       "(one node) or db (polling)"},
      {"SSE_MAX_DURATION", "3600", "seconds a stream may stay open"},
      {"SSE_RETRY_MS", "5000", "the retry: sent to clients"},
      {"SSE_HEARTBEAT_SECONDS", "30", "idle seconds before a heartbeat"},
      {"SSE_FALLBACK_DB_INTERVAL_SECONDS", "10",
       "polling interval while Redis (or LISTEN) is down, and of SSE_SOURCE=db"},
      {"SSE_REDIS_TIMEOUT_MS", "2000",
       "a Redis silent this long (PING, or the probe each instance sends itself) counts as down: "
       "streams poll the database"},
      {"SSE_MAX_QUEUED_EVENTS", "64",
       "events queued for a slow client before intermediate ones are conflated"},
      {"JWT_SECRET", "required", "HS256 key"},
      {"JWT_PUBLIC_KEY_FILE", "unset", "PEM public key: RSA enables RS256, P-256 enables ES256"},
      {"JWT_ISSUER", "unset", "the iss claim required, when set"},
      {"JWT_AUDIENCE", "unset", "the aud claim required, when set"},
      {"JWT_LEEWAY_SECONDS", "30", "clock skew allowed on exp/nbf"},
      {"HERALD_EVENT_RETENTION", "1000", "events kept per job for replay"},
      {"HERALD_MAX_STREAMS_PER_USER", "100",
       "open streams one user may hold on one instance; beyond it 429; 0 = no limit"},
      {"HERALD_MAX_CONNECTIONS", "the open-file limit less 128",
       "connections held at most; a new one beyond gets 503 with a jittered Retry-After"},
      {"HERALD_ACCEPT_RATE", "0 (off)",
       "new connections per second; beyond it 503 with a jittered Retry-After"},
      {"HERALD_DRAIN_SECONDS", "10",
       "on SIGTERM, open streams end at random moments over this many seconds, then exit 0; 0 ends "
       "them at once"},
      {"HERALD_DB_TIMEOUT_SECONDS", "5",
       "the longest a database call may take; then 503 {\"error\": \"database unavailable\"}"},
      {"HERALD_REQUEST_TIMEOUT_SECONDS", "15",
       "time to send a whole request (slow clients are dropped)"},
      {"HERALD_KEEPALIVE_TIMEOUT_SECONDS", "60", "idle keep-alive connections close after this"},
      {"HERALD_MAX_HEADER_BYTES", "16384", "a request head larger than this gets 431"},
      {"HERALD_MAX_BODY_BYTES", "1048576", "a request body larger than this gets 413"},
      {"HERALD_RATE_LIMIT", "off", "API requests per second per user"},
      {"HERALD_RATE_BURST", "twice the rate", "burst allowed by HERALD_RATE_LIMIT"},
      {"HERALD_WORKERS", "2", "in-process audit worker threads"},
      {"HERALD_AUDIT_LEASE_SECONDS", "30", "a dead worker's audit is taken over after this"},
      {"HERALD_TCP_NODELAY", "1", "TCP_NODELAY on stream sockets (see docs/benchmarks.md)"},
      {"HERALD_REUSE_PORT", "0", "1: several processes share the port (SO_REUSEPORT)"},
      {"AUDIT_ALLOW_PRIVATE", "0", "1 allows auditing loopback and private addresses"},
      {"HERALD_WEB_ROOT", "empty",
       "serve index.html from this directory at / instead of the built-in dashboard"},
      {"CORS_ALLOWED_ORIGINS", "empty",
       "comma-separated origins allowed to call the API from a browser"},
      {"HERALD_LOG_FORMAT", "text",
       "text (UTC timestamps ending in Z) or json (one object per line: time, level, msg)"},
      {"HERALD_LOG_LEVEL", "info", "debug, info, warn, error, off"},
  };
  return kVariables;
}

}  // namespace herald::config
