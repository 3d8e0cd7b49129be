#include "common/metrics.h"

#include <fmt/format.h>

namespace herald {

void Metrics::ObserveRequest(int status, double seconds) {
  int cls = status / 100;
  if (cls >= 1 && cls <= 5) requests_by_class[cls].fetch_add(1, std::memory_order_relaxed);
  size_t i = 0;
  while (i < kLatencyBuckets.size() && seconds > kLatencyBuckets[i]) ++i;
  latency_buckets[i].fetch_add(1, std::memory_order_relaxed);
  latency_count.fetch_add(1, std::memory_order_relaxed);
  latency_sum_us.fetch_add(static_cast<int64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string Metrics::Render(std::string_view sse_source, std::string_view redis_health) const {
  std::string out;
  auto gauge = [&](const char* name, const char* help, const char* type, int64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
  };
  gauge("herald_sse_streams_open", "Progress streams currently open.", "gauge",
        streams_open.load());
  gauge("herald_sse_streams_total", "Progress and notification streams opened.", "counter",
        streams_total.load());
  gauge("herald_notify_streams_open", "Notification streams currently open.", "gauge",
        notify_streams_open.load());
  gauge("herald_http_sessions_open", "Connections open that are not streams.", "gauge",
        http_sessions_open.load());
  gauge("herald_refused_connection_limit_total",
        "Connections answered 503 at HERALD_MAX_CONNECTIONS.", "counter",
        refused_connection_limit.load());
  gauge("herald_refused_stream_limit_total",
        "Streams refused with 429 at HERALD_MAX_STREAMS_PER_USER.", "counter",
        refused_stream_limit.load());
  gauge("herald_refused_accept_rate_total", "Connections answered 503 beyond HERALD_ACCEPT_RATE.",
        "counter", refused_accept_rate.load());
  gauge("herald_events_published_total", "Progress events and notices published.", "counter",
        events_published.load());
  gauge("herald_events_delivered_total", "Events written to stream clients.", "counter",
        events_delivered.load());
  gauge("herald_events_dropped_slow_total", "Intermediate events conflated away for slow clients.",
        "counter", events_dropped_slow.load());
  gauge("herald_streams_cut_slow_total",
        "Notification streams cut off for falling too far behind (they resume from the store).",
        "counter", streams_cut_slow.load());
  gauge("herald_heartbeats_total", "Heartbeat comments sent.", "counter", heartbeats_sent.load());
  out += fmt::format(
      "# HELP herald_sse_stream_starts_total Progress streams started, by where their first "
      "events came from.\n# TYPE herald_sse_stream_starts_total counter\n"
      "herald_sse_stream_starts_total{{from=\"window\"}} {}\n"
      "herald_sse_stream_starts_total{{from=\"store\"}} {}\n",
      starts_from_window.load(), starts_from_store.load());
  gauge("herald_sse_window_loads_total", "Job windows loaded from the database.", "counter",
        window_loads.load());
  gauge("herald_bus_fallback", "1 while streams poll the database because Redis is down.", "gauge",
        bus_fallback.load());
  out += fmt::format(
      "# HELP herald_info Build and configuration.\n# TYPE herald_info gauge\n"
      "herald_info{{version=\"{}\",sse_source=\"{}\",redis=\"{}\"}} 1\n",
      HERALD_VERSION, sse_source, redis_health);
  out +=
      "# HELP herald_http_requests_total HTTP requests by status class.\n"
      "# TYPE herald_http_requests_total counter\n";
  for (int c = 1; c <= 5; ++c)
    out += fmt::format("herald_http_requests_total{{code=\"{}xx\"}} {}\n", c,
                       requests_by_class[c].load());
  out +=
      "# HELP herald_http_request_duration_seconds Time to answer a request.\n"
      "# TYPE herald_http_request_duration_seconds histogram\n";
  int64_t cumulative = 0;
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    cumulative += latency_buckets[i].load();
    out += fmt::format("herald_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                       kLatencyBuckets[i], cumulative);
  }
  cumulative += latency_buckets[kLatencyBuckets.size()].load();
  out += fmt::format("herald_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  out += fmt::format("herald_http_request_duration_seconds_sum {}\n",
                     static_cast<double>(latency_sum_us.load()) / 1e6);
  out += fmt::format("herald_http_request_duration_seconds_count {}\n", latency_count.load());
  return out;
}

}  // namespace herald
