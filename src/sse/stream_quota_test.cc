// HERALD_MAX_STREAMS_PER_USER's bookkeeping on its own.
#include "sse/stream_quota.h"

#include <gtest/gtest.h>

#include <vector>

namespace herald::sse {
namespace {

TEST(StreamQuotaTest, EachUserGetsUpToTheMaximumAndAReleaseFreesAPlace) {
  StreamQuota quota(2);
  StreamQuotaSlot* a1 = quota.Acquire("alice");
  StreamQuotaSlot* a2 = quota.Acquire("alice");
  ASSERT_NE(a1, nullptr);
  ASSERT_NE(a2, nullptr);
  EXPECT_EQ(quota.Acquire("alice"), nullptr);
  EXPECT_NE(quota.Acquire("bob"), nullptr) << "one user's streams do not count for another";
  EXPECT_EQ(quota.OpenFor("alice"), 2);
  quota.Release(a1);
  EXPECT_EQ(quota.OpenFor("alice"), 1);
  EXPECT_NE(quota.Acquire("alice"), nullptr);
  quota.Release(nullptr);  // nothing
}

TEST(StreamQuotaTest, AUserWithNoStreamLeftIsForgotten) {
  StreamQuota quota(1);
  StreamQuotaSlot* s = quota.Acquire("alice");
  quota.Release(s);
  EXPECT_EQ(quota.OpenFor("alice"), 0);
  EXPECT_NE(quota.Acquire("alice"), nullptr);
}

TEST(StreamQuotaTest, ZeroMeansNoLimit) {
  StreamQuota quota(0);
  std::vector<StreamQuotaSlot*> slots;
  for (int i = 0; i < 1000; ++i) slots.push_back(quota.Acquire("alice"));
  for (auto* s : slots) EXPECT_NE(s, nullptr);
  EXPECT_EQ(quota.OpenFor("alice"), 1000);
}

TEST(StreamQuotaTest, AHoldNotTakenGivesThePlaceBack) {
  StreamQuota quota(1);
  {
    StreamQuota::Hold hold(quota, quota.Acquire("alice"));
    EXPECT_EQ(quota.Acquire("alice"), nullptr);
  }  // the stream never opened
  StreamQuotaSlot* taken = nullptr;
  {
    StreamQuota::Hold hold(quota, quota.Acquire("alice"));
    taken = hold.Take();
  }
  EXPECT_EQ(quota.OpenFor("alice"), 1) << "a taken place stays with the stream";
  quota.Release(taken);
  EXPECT_EQ(quota.OpenFor("alice"), 0);
}

}  // namespace
}  // namespace herald::sse
