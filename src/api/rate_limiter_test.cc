#include "api/rate_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace herald::api {
namespace {

using Clock = RateLimiter::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

const Clock::time_point kT0 = Clock::time_point(seconds(1000));

TEST(RateLimiterTest, AllowsABurstThenRefuses) {
  RateLimiter limiter(/*rate=*/1, /*burst=*/3);
  EXPECT_EQ(limiter.Acquire("alice", kT0), 0);
  EXPECT_EQ(limiter.Acquire("alice", kT0), 0);
  EXPECT_EQ(limiter.Acquire("alice", kT0), 0);
  EXPECT_GT(limiter.Acquire("alice", kT0), 0);
}

TEST(RateLimiterTest, SaysHowLongToWaitForTheNextToken) {
  RateLimiter limiter(/*rate=*/2, /*burst=*/1);
  EXPECT_EQ(limiter.Acquire("alice", kT0), 0);
  // Empty bucket, 2 tokens a second: one token in half a second.
  EXPECT_DOUBLE_EQ(limiter.Acquire("alice", kT0), 0.5);
  // A quarter second later half a token has come back.
  EXPECT_DOUBLE_EQ(limiter.Acquire("alice", kT0 + milliseconds(250)), 0.25);
}

TEST(RateLimiterTest, WaitIsSecondsAtASlowRate) {
  RateLimiter limiter(/*rate=*/0.1, /*burst=*/1);  // one request per 10 s
  EXPECT_EQ(limiter.Acquire("alice", kT0), 0);
  EXPECT_NEAR(limiter.Acquire("alice", kT0), 10.0, 1e-9);
  EXPECT_NEAR(limiter.Acquire("alice", kT0 + seconds(4)), 6.0, 1e-9);
}

TEST(RateLimiterTest, RefusedRequestsDoNotSpendTokens) {
  RateLimiter limiter(/*rate=*/1, /*burst=*/1);
  EXPECT_EQ(limiter.Acquire("alice", kT0), 0);
  for (int i = 0; i < 5; ++i) EXPECT_GT(limiter.Acquire("alice", kT0 + milliseconds(125 * i)), 0);
  EXPECT_EQ(limiter.Acquire("alice", kT0 + seconds(1)), 0)
      << "a second after the last token, the next one is there";
}

TEST(RateLimiterTest, RefillsAtTheRate) {
  RateLimiter limiter(/*rate=*/4, /*burst=*/2);
  EXPECT_EQ(limiter.Acquire("alice", kT0), 0);
  EXPECT_EQ(limiter.Acquire("alice", kT0), 0);
  EXPECT_GT(limiter.Acquire("alice", kT0), 0);
  EXPECT_GT(limiter.Acquire("alice", kT0 + milliseconds(125)), 0) << "half a token only";
  EXPECT_EQ(limiter.Acquire("alice", kT0 + milliseconds(250)), 0) << "one token after 250 ms";
  EXPECT_GT(limiter.Acquire("alice", kT0 + milliseconds(250)), 0);
}

TEST(RateLimiterTest, RefillStopsAtTheBurst) {
  RateLimiter limiter(/*rate=*/10, /*burst=*/2);
  EXPECT_EQ(limiter.Acquire("alice", kT0), 0);
  // An hour idle saves at most `burst` tokens.
  const auto later = kT0 + std::chrono::hours(1);
  EXPECT_EQ(limiter.Acquire("alice", later), 0);
  EXPECT_EQ(limiter.Acquire("alice", later), 0);
  EXPECT_GT(limiter.Acquire("alice", later), 0);
}

TEST(RateLimiterTest, RateZeroAllowsEverything) {
  RateLimiter limiter(/*rate=*/0, /*burst=*/0);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.Acquire("alice", kT0), 0) << i;
}

TEST(RateLimiterTest, KeysHaveSeparateBuckets) {
  RateLimiter limiter(/*rate=*/1, /*burst=*/1);
  EXPECT_EQ(limiter.Acquire("alice", kT0), 0);
  EXPECT_GT(limiter.Acquire("alice", kT0), 0);
  EXPECT_EQ(limiter.Acquire("bob", kT0), 0) << "alice's limit is not bob's";
  EXPECT_EQ(limiter.Acquire("10.0.0.1", kT0), 0);
  EXPECT_GT(limiter.Acquire("bob", kT0), 0);
}

TEST(RateLimiterTest, KeepsLimitingAKeyWhileManyOthersAreActive) {
  RateLimiter limiter(/*rate=*/1, /*burst=*/1);
  EXPECT_EQ(limiter.Acquire("alice", kT0), 0);
  // Enough keys to trigger the sweep of stale buckets; alice's is not stale.
  for (int i = 0; i < 10050; ++i) limiter.Acquire("client" + std::to_string(i), kT0);
  EXPECT_GT(limiter.Acquire("alice", kT0 + milliseconds(10)), 0);
}

TEST(RateLimiterTest, ForgetsStaleBucketsWithoutLosingTheirRefill) {
  RateLimiter limiter(/*rate=*/1, /*burst=*/1);
  EXPECT_EQ(limiter.Acquire("alice", kT0), 0);
  for (int i = 0; i < 10050; ++i) limiter.Acquire("client" + std::to_string(i), kT0);
  // Two minutes later the sweep removes everything; alice starts full again.
  EXPECT_EQ(limiter.Acquire("alice", kT0 + std::chrono::minutes(2)), 0);
}

}  // namespace
}  // namespace herald::api
