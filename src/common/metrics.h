#pragma once
// Process-wide counters for /metrics (Prometheus text format). Plain atomics:
// incremented from any thread, read when /metrics is scraped.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace herald {

struct Metrics {
  std::atomic<int64_t> streams_open{0};
  std::atomic<int64_t> streams_total{0};
  std::atomic<int64_t> notify_streams_open{0};
  std::atomic<int64_t> http_sessions_open{0};        // connections not (yet) a stream
  std::atomic<int64_t> refused_connection_limit{0};  // 503: HERALD_MAX_CONNECTIONS
  std::atomic<int64_t> refused_stream_limit{0};      // 429: HERALD_MAX_STREAMS_PER_USER
  std::atomic<int64_t> refused_accept_rate{0};       // 503: HERALD_ACCEPT_RATE
  std::atomic<int64_t> events_published{0};
  std::atomic<int64_t> events_delivered{0};
  std::atomic<int64_t> events_dropped_slow{0};  // conflated for slow clients
  std::atomic<int64_t> streams_cut_slow{0};     // lossless streams cut off instead
  std::atomic<int64_t> heartbeats_sent{0};
  // Where progress streams started: from a job's in-memory window (no
  // database read of their own) or from their own store read; and how
  // often a window was loaded from the store (once per job going live).
  std::atomic<int64_t> starts_from_window{0};
  std::atomic<int64_t> starts_from_store{0};
  std::atomic<int64_t> window_loads{0};
  std::atomic<int64_t> bus_fallback{0};  // 1 while Redis is down and streams poll
  // Requests by status class: 1xx..5xx at index 1..5.
  std::array<std::atomic<int64_t>, 6> requests_by_class{};
  // Request latency histogram (seconds), cumulative buckets as Prometheus wants.
  static constexpr std::array<double, 8> kLatencyBuckets = {0.001, 0.005, 0.01, 0.05,
                                                            0.1,   0.5,   1.0,  5.0};
  std::array<std::atomic<int64_t>, 9> latency_buckets{};  // last: +Inf
  std::atomic<int64_t> latency_count{0};
  std::atomic<int64_t> latency_sum_us{0};

  void ObserveRequest(int status, double seconds);
  std::string Render(std::string_view sse_source, std::string_view redis_health) const;
};

}  // namespace herald
