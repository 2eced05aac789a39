#include "backplane/sequence_tracker.hpp"

#include <doctest/doctest.h>

using sb::backplane::SequenceTracker;
using sb::backplane::SequenceVerdict;

TEST_CASE("takes a publisher's first number as the baseline, then expects each next one") {
  SequenceTracker tracker;
  CHECK(tracker.on_action("a", 41).verdict == SequenceVerdict::first);
  CHECK(tracker.on_action("a", 42).verdict == SequenceVerdict::next);
  CHECK(tracker.on_action("a", 43).verdict == SequenceVerdict::next);
}

TEST_CASE("reports a skipped number as a gap with how many were missed") {
  SequenceTracker tracker;
  tracker.on_action("a", 1);
  auto seen = tracker.on_action("a", 5);
  CHECK(seen.verdict == SequenceVerdict::gap);
  CHECK(seen.missed == 3);
  CHECK(tracker.on_action("a", 6).verdict == SequenceVerdict::next);
}

TEST_CASE("skips a number seen before: a publish sent again after a lost reply") {
  SequenceTracker tracker;
  tracker.on_action("a", 1);
  tracker.on_action("a", 2);
  CHECK(tracker.on_action("a", 2).verdict == SequenceVerdict::duplicate);
  CHECK(tracker.on_action("a", 1).verdict == SequenceVerdict::duplicate);
  CHECK(tracker.on_action("a", 3).verdict == SequenceVerdict::next);
}

TEST_CASE("finds a gap from a heartbeat when the publisher has gone quiet") {
  SequenceTracker tracker;
  tracker.on_action("a", 1);
  CHECK(tracker.on_heartbeat("a", 1).verdict == SequenceVerdict::next);
  auto seen = tracker.on_heartbeat("a", 3);
  CHECK(seen.verdict == SequenceVerdict::gap);
  CHECK(seen.missed == 2);
  CHECK(tracker.on_action("a", 4).verdict == SequenceVerdict::next);
}

TEST_CASE("tracks each publisher on its own, and forgets a reaped one") {
  SequenceTracker tracker;
  tracker.on_action("a", 1);
  tracker.on_action("b", 7);
  CHECK(tracker.on_action("b", 8).verdict == SequenceVerdict::next);
  CHECK(tracker.on_action("a", 2).verdict == SequenceVerdict::next);
  tracker.forget("a");
  CHECK(tracker.publisher_count() == 1);
  CHECK(tracker.on_heartbeat("a", 10).verdict == SequenceVerdict::first);
}
