#include "lifecycle/token_bucket.hpp"

#include <doctest/doctest.h>

using sb::lifecycle::TokenBucket;
using std::chrono::milliseconds;

namespace {
const TokenBucket::Clock::time_point t0{std::chrono::seconds(1000)};
}

TEST_CASE("admits a full burst at once, then refuses") {
  TokenBucket bucket(10, 3, t0);
  CHECK(bucket.take(t0).is_allowed);
  CHECK(bucket.take(t0).is_allowed);
  CHECK(bucket.take(t0).is_allowed);
  auto refused = bucket.take(t0);
  CHECK_FALSE(refused.is_allowed);
  CHECK(refused.retry_after == milliseconds(100));  // one token every 100 ms at 10/s
}

TEST_CASE("refills at the rate, never above the burst") {
  TokenBucket bucket(2, 2, t0);
  CHECK(bucket.take(t0).is_allowed);
  CHECK(bucket.take(t0).is_allowed);
  CHECK_FALSE(bucket.take(t0).is_allowed);
  CHECK_FALSE(bucket.take(t0 + milliseconds(499)).is_allowed);
  CHECK(bucket.take(t0 + milliseconds(500)).is_allowed);  // half a second: one token at 2/s

  SUBCASE("a long quiet period fills it to the burst only") {
    auto later = t0 + std::chrono::hours(1);
    CHECK(bucket.take(later).is_allowed);
    CHECK(bucket.take(later).is_allowed);
    CHECK_FALSE(bucket.take(later).is_allowed);
  }
}

TEST_CASE("says how long until the next token") {
  TokenBucket bucket(0.5, 1, t0);  // one every 2 s
  CHECK(bucket.take(t0).is_allowed);
  CHECK(bucket.take(t0).retry_after == milliseconds(2000));
  CHECK(bucket.take(t0 + milliseconds(1500)).retry_after == milliseconds(500));
}

TEST_CASE("ignores a clock that steps back") {
  TokenBucket bucket(1, 1, t0);
  CHECK(bucket.take(t0).is_allowed);
  CHECK_FALSE(bucket.take(t0 - std::chrono::seconds(5)).is_allowed);
  CHECK(bucket.take(t0 + std::chrono::seconds(1)).is_allowed);
}
