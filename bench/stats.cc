#include "stats.h"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace herald::bench {
namespace {

bool ParseU64(std::string_view s, uint64_t* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// The counters in wire order, with how each merges.
enum class MergeKind { kSum, kMin, kMax };
struct Field {
  const char* name;
  uint64_t Counters::*member;
  MergeKind merge;
};
constexpr Field kFields[] = {
    {"streams", &Counters::streams, MergeKind::kSum},
    {"established", &Counters::established, MergeKind::kSum},
    {"failed", &Counters::failed, MergeKind::kSum},
    {"connect_errors", &Counters::connect_errors, MergeKind::kSum},
    {"retries", &Counters::retries, MergeKind::kSum},
    {"non200", &Counters::non200, MergeKind::kSum},
    {"events_total", &Counters::events_total, MergeKind::kSum},
    {"initial_events", &Counters::initial_events, MergeKind::kSum},
    {"events_delivered", &Counters::events_delivered, MergeKind::kSum},
    {"unstamped", &Counters::unstamped, MergeKind::kSum},
    {"error_events", &Counters::error_events, MergeKind::kSum},
    {"heartbeats", &Counters::heartbeats, MergeKind::kSum},
    {"out_of_order", &Counters::out_of_order, MergeKind::kSum},
    {"duplicates", &Counters::duplicates, MergeKind::kSum},
    {"missing", &Counters::missing, MergeKind::kSum},
    {"terminal", &Counters::terminal, MergeKind::kSum},
    {"ended_by_server", &Counters::ended_by_server, MergeKind::kSum},
    {"closed_early", &Counters::closed_early, MergeKind::kSum},
    {"open_after_terminal", &Counters::open_after_terminal, MergeKind::kSum},
    {"cut_at_end", &Counters::cut_at_end, MergeKind::kSum},
    {"bytes", &Counters::bytes, MergeKind::kSum},
    {"expected", &Counters::expected, MergeKind::kSum},
    {"cut", &Counters::cut, MergeKind::kSum},
    {"resumed", &Counters::resumed, MergeKind::kSum},
    {"resume_failed", &Counters::resume_failed, MergeKind::kSum},
    {"resume_non200", &Counters::resume_non200, MergeKind::kSum},
    {"resume_retries", &Counters::resume_retries, MergeKind::kSum},
    {"gap_streams", &Counters::gap_streams, MergeKind::kSum},
    {"gaps", &Counters::gaps, MergeKind::kSum},
    {"gap_ids", &Counters::gap_ids, MergeKind::kSum},
    {"dup_ids", &Counters::dup_ids, MergeKind::kSum},
    {"late", &Counters::late, MergeKind::kSum},
    {"pre_cut_skips", &Counters::pre_cut_skips, MergeKind::kSum},
    {"first_connect_ns", &Counters::first_connect_ns, MergeKind::kMin},
    {"last_established_ns", &Counters::last_established_ns, MergeKind::kMax},
    {"first_delivered_ns", &Counters::first_delivered_ns, MergeKind::kMin},
    {"last_delivered_ns", &Counters::last_delivered_ns, MergeKind::kMax},
    {"last_resumed_ns", &Counters::last_resumed_ns, MergeKind::kMax},
};

}  // namespace

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

Histogram::Histogram() : buckets_(kBuckets + 1, 0) {}

void Histogram::Add(int64_t ns) {
  if (ns < 0) ns = 0;
  std::size_t index = static_cast<std::size_t>(ns / kBucketNs);
  if (index > kBuckets) index = kBuckets;
  ++buckets_[index];
  ++count_;
  max_ = std::max(max_, ns);
  sum_ += ns;
}

void Histogram::Merge(const Histogram& other) {
  for (std::size_t i = 0; i <= kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double Histogram::mean_ns() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_ / count_); }

int64_t Histogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  // The rank of the sample at quantile q, 1-based.
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (std::size_t i = 0; i <= kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      if (i == kBuckets) return max_;
      // Upper edge of the bucket, but never above the exact maximum.
      return std::min<int64_t>(static_cast<int64_t>(i + 1) * kBucketNs, max_);
    }
  }
  return max_;
}

std::string Histogram::Serialize() const {
  std::string out;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%llu %lld %.0Lf ", static_cast<unsigned long long>(count_),
                static_cast<long long>(max_), sum_);
  out += buf;
  bool first = true;
  for (std::size_t i = 0; i <= kBuckets; ++i) {
    if (buckets_[i] == 0) continue;
    std::snprintf(buf, sizeof buf, "%s%zu:%llu", first ? "" : ",", i,
                  static_cast<unsigned long long>(buckets_[i]));
    out += buf;
    first = false;
  }
  if (first) out += "-";
  return out;
}

bool Histogram::Parse(std::string_view text) {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
  max_ = 0;
  sum_ = 0;
  auto next_token = [&text]() {
    std::size_t space = text.find(' ');
    std::string_view token = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    return token;
  };
  uint64_t count = 0, max = 0, sum = 0;
  if (!ParseU64(next_token(), &count) || !ParseU64(next_token(), &max) ||
      !ParseU64(next_token(), &sum)) {
    return false;
  }
  std::string_view pairs = next_token();
  if (pairs != "-") {
    while (!pairs.empty()) {
      std::size_t comma = pairs.find(',');
      std::string_view pair = pairs.substr(0, comma);
      pairs = comma == std::string_view::npos ? std::string_view() : pairs.substr(comma + 1);
      std::size_t colon = pair.find(':');
      uint64_t index = 0, n = 0;
      if (colon == std::string_view::npos || !ParseU64(pair.substr(0, colon), &index) ||
          !ParseU64(pair.substr(colon + 1), &n) || index > kBuckets) {
        return false;
      }
      buckets_[index] += n;
    }
  }
  count_ = count;
  max_ = static_cast<int64_t>(max);
  sum_ = static_cast<long double>(sum);
  return true;
}

void Counters::Merge(const Counters& other) {
  for (const Field& f : kFields) {
    uint64_t& mine = this->*f.member;
    uint64_t theirs = other.*f.member;
    switch (f.merge) {
      case MergeKind::kSum:
        mine += theirs;
        break;
      case MergeKind::kMin:
        if (theirs != 0 && (mine == 0 || theirs < mine)) mine = theirs;
        break;
      case MergeKind::kMax:
        mine = std::max(mine, theirs);
        break;
    }
  }
}

std::string Counters::Serialize() const {
  std::string out;
  char buf[96];
  for (const Field& f : kFields) {
    std::snprintf(buf, sizeof buf, "%s%s=%llu", out.empty() ? "" : " ", f.name,
                  static_cast<unsigned long long>(this->*f.member));
    out += buf;
  }
  return out;
}

void Counters::Parse(std::string_view text) {
  while (!text.empty()) {
    std::size_t space = text.find(' ');
    std::string_view pair = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = pair.substr(0, eq);
    uint64_t value = 0;
    if (!ParseU64(pair.substr(eq + 1), &value)) continue;
    for (const Field& f : kFields) {
      if (key == f.name) this->*f.member = value;
    }
  }
}

}  // namespace herald::bench
