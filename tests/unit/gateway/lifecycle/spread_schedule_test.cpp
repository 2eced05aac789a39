#include "lifecycle/spread_schedule.hpp"

#include <doctest/doctest.h>

using sb::lifecycle::SpreadSchedule;
using std::chrono::milliseconds;

TEST_CASE("spreads closes evenly over the window, the first at once") {
  SpreadSchedule schedule(4, milliseconds(1000));
  CHECK(schedule.close_time(0) == milliseconds(0));
  CHECK(schedule.close_time(1) == milliseconds(250));
  CHECK(schedule.close_time(3) == milliseconds(750));
  CHECK(schedule.due_by(milliseconds(0)) == 1);
  CHECK(schedule.due_by(milliseconds(249)) == 1);
  CHECK(schedule.due_by(milliseconds(250)) == 2);
  CHECK(schedule.due_by(milliseconds(999)) == 4);
  CHECK(schedule.due_by(milliseconds(5000)) == 4);  // never more than there are
}

TEST_CASE("closes everything at once with no window") {
  CHECK(SpreadSchedule(100, milliseconds(0)).due_by(milliseconds(0)) == 100);
}

TEST_CASE("has nothing due with no connections") {
  CHECK(SpreadSchedule(0, milliseconds(5000)).due_by(milliseconds(6000)) == 0);
}

TEST_CASE("agrees with itself: close i is due exactly from close_time(i)") {
  SpreadSchedule schedule(7, milliseconds(5000));
  for (std::size_t i = 0; i < 7; ++i) {
    CAPTURE(i);
    auto at = schedule.close_time(i);
    CHECK(schedule.due_by(at) >= i + 1);
    if (at.count() > 0) CHECK(schedule.due_by(at - milliseconds(1)) <= i);
  }
}

TEST_CASE("keeps a large spread exact without overflow") {
  SpreadSchedule schedule(1'000'000, milliseconds(365LL * 24 * 3600 * 1000));
  CHECK(schedule.due_by(milliseconds(365LL * 24 * 3600 * 1000 / 2)) == 500'001);
}
