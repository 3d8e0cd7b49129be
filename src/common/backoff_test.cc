#include "common/backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace herald {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DoublesFromInitialUpToMax) {
  Backoff backoff;  // 100 ms doubling to 5 s, no jitter
  std::vector<int64_t> delays;
  for (int i = 0; i < 9; ++i) delays.push_back(backoff.Next().count());
  EXPECT_EQ(delays, (std::vector<int64_t>{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}));
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff backoff({.initial = milliseconds(10), .max = milliseconds(1000), .multiplier = 3.0});
  EXPECT_EQ(backoff.Next(), milliseconds(10));
  EXPECT_EQ(backoff.Next(), milliseconds(30));
  EXPECT_EQ(backoff.Next(), milliseconds(90));
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), milliseconds(10));
  EXPECT_EQ(backoff.Next(), milliseconds(30));
}

TEST(BackoffTest, JitterStaysWithinItsBandAndBelowMax) {
  Backoff backoff(
      {.initial = milliseconds(1000), .max = milliseconds(4000), .multiplier = 2.0, .jitter = 0.5},
      /*seed=*/42);
  const int64_t bases[] = {1000, 2000, 4000, 4000, 4000};
  bool varied = false;
  for (int64_t base : bases) {
    const int64_t delay = backoff.Next().count();
    EXPECT_GE(delay, base / 2) << base;
    EXPECT_LE(delay, std::min<int64_t>(base * 3 / 2, 4000)) << base;
    varied |= delay != base;
  }
  EXPECT_TRUE(varied) << "a jitter of 0.5 never moved a delay";
}

TEST(BackoffTest, SameSeedSameDelays) {
  BackoffOptions options{.initial = milliseconds(100), .max = milliseconds(5000), .jitter = 0.3};
  Backoff a(options, 7), b(options, 7);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.Next(), b.Next()) << i;
}

TEST(BackoffTest, NonsenseOptionsAreMadeSafe) {
  Backoff backoff(
      {.initial = milliseconds(50), .max = milliseconds(10), .multiplier = 0.5, .jitter = 7.0}, 1);
  // max is raised to initial, the multiplier to 1, the jitter to 1.
  for (int i = 0; i < 5; ++i) {
    const auto delay = backoff.Next();
    EXPECT_GE(delay, milliseconds(0));
    EXPECT_LE(delay, milliseconds(50));
  }
  EXPECT_EQ(backoff.options().max, milliseconds(50));
  EXPECT_EQ(backoff.options().multiplier, 1.0);
  EXPECT_EQ(backoff.options().jitter, 1.0);
}

}  // namespace
}  // namespace herald
