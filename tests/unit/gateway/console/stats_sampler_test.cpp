#include "console/stats_sampler.hpp"

#include <doctest/doctest.h>

using sb::console::percentile_ms;

TEST_CASE("latency percentiles interpolate within the histogram's buckets") {
  const std::vector<double> bounds = {0.001, 0.01, 0.1};  // 1 ms, 10 ms, 100 ms, then +Inf
  CHECK(percentile_ms(bounds, {0, 0, 0, 0}, 0.5) < 0);    // nothing observed
  // 100 calls in (1 ms, 10 ms]: the median is half way.
  CHECK(percentile_ms(bounds, {0, 100, 0, 0}, 0.5) == doctest::Approx(5.5));
  CHECK(percentile_ms(bounds, {0, 100, 0, 0}, 1.0) == doctest::Approx(10));
  // 90 fast, 10 slow: p50 among the fast, p95 among the slow.
  CHECK(percentile_ms(bounds, {90, 0, 10, 0}, 0.5) == doctest::Approx(0.5556).epsilon(0.01));
  CHECK(percentile_ms(bounds, {90, 0, 10, 0}, 0.95) == doctest::Approx(55));
  // Past the last bound, the last bound is all that is known.
  CHECK(percentile_ms(bounds, {0, 0, 0, 5}, 0.99) == doctest::Approx(100));
}
