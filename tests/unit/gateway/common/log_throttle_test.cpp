#include "common/log_throttle.hpp"

#include <doctest/doctest.h>

using sb::log::LogThrottle;
using std::chrono::milliseconds;

TEST_CASE("lets one line through per interval and counts the ones it held back") {
  LogThrottle throttle(milliseconds(1000));
  const LogThrottle::Clock::time_point t0{std::chrono::seconds(50)};
  auto first = throttle.admit(t0);
  REQUIRE(first.has_value());
  CHECK(*first == 0);
  CHECK_FALSE(throttle.admit(t0 + milliseconds(10)).has_value());
  CHECK_FALSE(throttle.admit(t0 + milliseconds(999)).has_value());
  auto next = throttle.admit(t0 + milliseconds(1000));
  REQUIRE(next.has_value());
  CHECK(*next == 2);
}
