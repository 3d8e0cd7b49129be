// The storm's gap and duplicate checks must catch a deliberate fault: a
// reconnect that skips an id, one that replays ids already received, and a
// late id filling a skip.
#include "seq_check.h"

#include <gtest/gtest.h>

namespace herald::bench {
namespace {

using V = SequenceChecker::Verdict;

TEST(SequenceCheckerTest, CleanResumeCountsNothing) {
  SequenceChecker c;
  EXPECT_EQ(c.OnId(1), V::kFirst);
  EXPECT_EQ(c.OnId(2), V::kNext);
  EXPECT_EQ(c.OnId(3), V::kNext);
  c.OnReconnect();  // Last-Event-ID: 3; the replay starts at 4.
  EXPECT_EQ(c.OnId(4), V::kNext);
  EXPECT_EQ(c.OnId(5), V::kNext);
  EXPECT_EQ(c.gaps(), 0u);
  EXPECT_EQ(c.duplicates(), 0u);
  EXPECT_EQ(c.pre_cut_skips(), 0u);
}

TEST(SequenceCheckerTest, ResumeThatSkipsIsAGap) {
  SequenceChecker c;
  c.OnId(7);
  c.OnId(8);
  c.OnReconnect();
  EXPECT_EQ(c.OnId(11), V::kSkip);  // 9 and 10 never came.
  EXPECT_EQ(c.OnId(12), V::kNext);
  EXPECT_EQ(c.gaps(), 1u);
  EXPECT_EQ(c.gap_ids(), 2u);
  EXPECT_EQ(c.pre_cut_skips(), 0u);
}

TEST(SequenceCheckerTest, SkipAfterTheResumeIsAGapToo) {
  SequenceChecker c;
  c.OnId(1);
  c.OnReconnect();
  c.OnId(2);
  c.OnId(3);
  EXPECT_EQ(c.OnId(5), V::kSkip);
  EXPECT_EQ(c.gaps(), 1u);
  EXPECT_EQ(c.gap_ids(), 1u);
}

TEST(SequenceCheckerTest, ReplayOfAnIdAlreadySeenIsADuplicate) {
  SequenceChecker c;
  c.OnId(1);
  c.OnId(2);
  c.OnId(3);
  c.OnReconnect();
  // A server that ignored Last-Event-ID: 3 and replayed from 2.
  EXPECT_EQ(c.OnId(2), V::kDuplicate);
  EXPECT_EQ(c.OnId(3), V::kDuplicate);
  EXPECT_EQ(c.OnId(4), V::kNext);
  EXPECT_EQ(c.duplicates(), 2u);
  EXPECT_EQ(c.gaps(), 0u);
}

TEST(SequenceCheckerTest, SkipsBeforeAnyReconnectAreCountedApart) {
  // The contract lets a slow client skip intermediate events while live.
  SequenceChecker c;
  c.OnId(1);
  EXPECT_EQ(c.OnId(4), V::kSkip);
  EXPECT_EQ(c.pre_cut_skips(), 1u);
  EXPECT_EQ(c.gaps(), 0u);
}

TEST(SequenceCheckerTest, LateArrivalFillsTheHoleOnce) {
  SequenceChecker c;
  c.OnId(1);
  c.OnReconnect();
  c.OnId(4);                       // Gap: 2, 3.
  EXPECT_EQ(c.OnId(3), V::kLate);  // Fills 3.
  EXPECT_EQ(c.OnId(3), V::kDuplicate);
  EXPECT_EQ(c.OnId(2), V::kLate);
  EXPECT_EQ(c.late(), 2u);
  EXPECT_EQ(c.duplicates(), 1u);
}

}  // namespace
}  // namespace herald::bench
