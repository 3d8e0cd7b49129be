// Measurements the load generator collects in every process and merges in
// the parent: a fixed-bucket latency histogram and a set of counters. Both
// travel from a child to the parent as text lines over a pipe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald::bench {

// CLOCK_MONOTONIC in nanoseconds. The same clock in every process on the
// host, so a timestamp taken by the publisher can be compared with one taken
// by a receiver in another process.
int64_t NowNs();

// Latency histogram: 10 µs buckets up to 10 s and one overflow bucket.
// Percentiles are reported as the upper edge of their bucket; the maximum is
// exact. Not thread-safe; each process owns its own and the parent merges.
class Histogram {
 public:
  static constexpr int64_t kBucketNs = 10'000;
  static constexpr std::size_t kBuckets = 1'000'000;  // 10 s / 10 µs.

  Histogram();

  // Negative values (a clock that went backwards, a garbled stamp) count as 0.
  void Add(int64_t ns);
  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }
  int64_t max_ns() const { return max_; }
  double mean_ns() const;
  // The q-quantile, 0 < q <= 1, in ns; 0 when empty.
  int64_t Quantile(double q) const;

  // Sparse text form without newlines: "count max sum idx:n,idx:n,...".
  std::string Serialize() const;
  bool Parse(std::string_view text);

 private:
  std::vector<uint64_t> buckets_;  // kBuckets + 1; the last is overflow.
  uint64_t count_ = 0;
  int64_t max_ = 0;
  long double sum_ = 0;
};

// Counters of one receiver process. Every field is summed across processes
// except the *_ns time stamps, merged as min (first_*) or max (last_*).
struct Counters {
  uint64_t streams = 0;              // Streams this process was asked to open.
  uint64_t established = 0;          // 200 and the first event received.
  uint64_t failed = 0;               // Never established, retries exhausted.
  uint64_t connect_errors = 0;       // Failed attempts (socket/bind/connect/reset).
  uint64_t retries = 0;              // Attempts re-queued after an error.
  uint64_t non200 = 0;               // Responses with another status.
  uint64_t events_total = 0;         // Every dispatched SSE event.
  uint64_t initial_events = 0;       // The first event of each stream.
  uint64_t events_delivered = 0;     // Stamped events after the initial one.
  uint64_t unstamped = 0;            // Later events without a "t=" stamp.
  uint64_t error_events = 0;         // `event: error`.
  uint64_t heartbeats = 0;           // Comment lines (": heartbeat").
  uint64_t out_of_order = 0;         // id lower than the previous id.
  uint64_t duplicates = 0;           // id equal to the previous id.
  uint64_t missing = 0;              // Published events a stream never got.
  uint64_t terminal = 0;             // Streams that saw completed/failed.
  uint64_t ended_by_server = 0;      // Established streams the server ended.
  uint64_t closed_early = 0;         // Ended by the server before the terminal event.
  uint64_t open_after_terminal = 0;  // Still open 5 s after the terminal event.
  uint64_t cut_at_end = 0;           // Still open when the run stopped.
  uint64_t bytes = 0;                // Response bytes read.
  uint64_t expected = 0;  // Sum over established streams of their job's accepted updates.
  // The storm (CUT and resume with Last-Event-ID).
  uint64_t cut = 0;                  // Streams closed by the CUT.
  uint64_t resumed = 0;              // Of those, reopened with a 200 head.
  uint64_t resume_failed = 0;        // Not reopened, retries exhausted.
  uint64_t resume_non200 = 0;        // Reconnect attempts answered with another status.
  uint64_t resume_retries = 0;       // Reconnect attempts re-queued after an error.
  uint64_t gap_streams = 0;          // Streams that skipped an id after the reconnect.
  uint64_t gaps = 0;                 // Skips after the reconnect.
  uint64_t gap_ids = 0;              // Ids those skips jumped over.
  uint64_t dup_ids = 0;              // Ids received twice, counted by the sequence check.
  uint64_t late = 0;                 // Ids that came after a higher one, filling a skip.
  uint64_t pre_cut_skips = 0;        // Skips before any reconnect (a slow client may skip).
  uint64_t first_connect_ns = 0;     // min: first connect() call.
  uint64_t last_established_ns = 0;  // max: last stream established.
  uint64_t first_delivered_ns = 0;   // min: first stamped event received.
  uint64_t last_delivered_ns = 0;    // max: last stamped event received.
  uint64_t last_resumed_ns = 0;      // max: last cut stream's 200 head.

  void Merge(const Counters& other);
  // "key=value key=value ..." without a newline; Parse ignores unknown keys.
  std::string Serialize() const;
  void Parse(std::string_view text);
};

}  // namespace herald::bench
