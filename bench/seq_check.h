// Checks one stream's event ids across reconnects, for the storm scenario.
//
// Herald numbers a job's events 1, 2, 3, ... and a reconnect with
// `Last-Event-ID: n` must resume at n + 1 (replayed or live), with no id
// skipped and none received twice. Before the first reconnect the contract
// lets a slow client skip intermediate events, so skips there are counted
// apart (pre_cut_skips) and are not a failure; after a reconnect any skip is
// a gap and any id already received is a duplicate.
//
// In Nchan mode the ids are Nchan's own ("<time>:<n>"), not a sequence; the
// load generator then feeds the "seq" field it writes into every payload.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace herald::bench {

class SequenceChecker {
 public:
  enum class Verdict {
    kFirst,      // The stream's first numbered event.
    kNext,       // last + 1.
    kSkip,       // Higher than last + 1 (a gap after a reconnect).
    kDuplicate,  // An id already received.
    kLate,       // Lower than last, inside a range skipped earlier.
  };

  // Feeds the next id the stream received.
  Verdict OnId(int64_t id);
  // The connection was cut; the next id must be last + 1.
  void OnReconnect() { resumed_ = true; }

  bool has_last() const { return has_last_; }
  int64_t last() const { return last_; }
  bool resumed() const { return resumed_; }

  uint64_t pre_cut_skips() const { return pre_cut_skips_; }  // Skips before any reconnect.
  uint64_t gaps() const { return gaps_; }                    // Skips after a reconnect.
  uint64_t gap_ids() const { return gap_ids_; }              // Ids those skips jumped over.
  uint64_t duplicates() const { return duplicates_; }        // After a reconnect or not.
  uint64_t late() const { return late_; }

 private:
  bool has_last_ = false;
  bool resumed_ = false;
  int64_t last_ = 0;
  // Ranges [lo, hi] jumped over, so that a late arrival of one of them is
  // told apart from a duplicate. Empty in a healthy run.
  std::vector<std::pair<int64_t, int64_t>> holes_;
  uint64_t pre_cut_skips_ = 0;
  uint64_t gaps_ = 0;
  uint64_t gap_ids_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t late_ = 0;
};

}  // namespace herald::bench
