#include "lifecycle/user_rate_limiter.hpp"

#include <doctest/doctest.h>

#include <string>

using sb::lifecycle::TokenBucket;
using sb::lifecycle::UserRateLimiter;
using namespace std::chrono_literals;

TEST_CASE("each user gets its own burst, refilled at the rate") {
  UserRateLimiter limiter(1.0, 3, 1000);
  auto t0 = TokenBucket::Clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) CHECK(limiter.take("alice", t0).is_allowed);
  auto refused = limiter.take("alice", t0);
  CHECK_FALSE(refused.is_allowed);
  CHECK(refused.retry_after == 1000ms);
  CHECK(limiter.take("bob", t0).is_allowed);  // alice's flood costs bob nothing
  CHECK(limiter.take("alice", t0 + 1s).is_allowed);
  CHECK_FALSE(limiter.take("alice", t0 + 1s).is_allowed);
}

TEST_CASE("buckets that filled up again are forgotten, so memory follows the users still spending") {
  UserRateLimiter limiter(10.0, 2, 1'000'000);
  auto t0 = TokenBucket::Clock::time_point{} + 1h;
  for (int i = 0; i < 10'000; ++i) CHECK(limiter.take("user-" + std::to_string(i), t0).is_allowed);
  CHECK(limiter.size() == 10'000);
  // A second later every bucket is full again: new users sweep them out as the stripes grow.
  for (int i = 0; i < 10'000; ++i) limiter.take("later-" + std::to_string(i), t0 + 1s);
  CHECK(limiter.size() < 15'000);
}

TEST_CASE("past max_users, a new user is refused until buckets fill up") {
  UserRateLimiter limiter(0.001, 1, 64 * 4);  // 4 users per stripe
  auto t0 = TokenBucket::Clock::time_point{} + 1h;
  int refused = 0;
  for (int i = 0; i < 10'000; ++i)
    if (!limiter.take("u" + std::to_string(i), t0).is_allowed) ++refused;
  CHECK(limiter.size() <= 64 * 4);
  CHECK(refused >= 10'000 - 64 * 4);
}
