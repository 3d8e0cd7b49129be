#include "seq_check.h"

#include <algorithm>

namespace herald::bench {

SequenceChecker::Verdict SequenceChecker::OnId(int64_t id) {
  if (!has_last_) {
    has_last_ = true;
    last_ = id;
    return Verdict::kFirst;
  }
  if (id == last_ + 1) {
    last_ = id;
    return Verdict::kNext;
  }
  if (id > last_ + 1) {
    if (resumed_) {
      ++gaps_;
      gap_ids_ += static_cast<uint64_t>(id - last_ - 1);
    } else {
      ++pre_cut_skips_;
    }
    // Bounded: a pathological stream skipping everything keeps the last few.
    if (holes_.size() < 1024) holes_.emplace_back(last_ + 1, id - 1);
    last_ = id;
    return Verdict::kSkip;
  }
  // id <= last_: received before, unless it is one that was skipped.
  auto hole = std::find_if(holes_.begin(), holes_.end(),
                           [id](const auto& h) { return id >= h.first && id <= h.second; });
  if (hole != holes_.end()) {
    // Fill it, so that a second copy of this id counts as a duplicate.
    auto [lo, hi] = *hole;
    holes_.erase(hole);
    if (lo < id) holes_.emplace_back(lo, id - 1);
    if (id < hi) holes_.emplace_back(id + 1, hi);
    ++late_;
    return Verdict::kLate;
  }
  ++duplicates_;
  return Verdict::kDuplicate;
}

}  // namespace herald::bench
