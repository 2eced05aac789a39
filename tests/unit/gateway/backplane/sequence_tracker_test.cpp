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

TEST_CASE("a number implausibly far ahead is a gap once and never makes the real ones duplicates") {
  SequenceTracker tracker;
  tracker.on_action("a", 1);
  tracker.on_action("a", 2);
  // A forged heartbeat claiming 2^62: one gap, and the claim is not believed.
  CHECK(tracker.on_heartbeat("a", std::uint64_t{1} << 62).verdict == SequenceVerdict::implausible_gap);
  CHECK(tracker.on_action("a", std::uint64_t{1} << 62).verdict == SequenceVerdict::implausible);
  CHECK(tracker.on_heartbeat("a", std::uint64_t{1} << 61).verdict == SequenceVerdict::implausible);
  CHECK(tracker.on_action("a", 3).verdict == SequenceVerdict::next);
  CHECK(tracker.last_seen().at("a") == 3);
  // Past it, another such claim is a gap once again.
  CHECK(tracker.on_action("a", std::uint64_t{1} << 40).verdict == SequenceVerdict::implausible_gap);
  // A real gap just under the bound is still a gap that moves the baseline.
  auto seen = tracker.on_action("a", 3 + SequenceTracker::max_jump - 1);
  CHECK(seen.verdict == SequenceVerdict::gap);
  CHECK(seen.missed == SequenceTracker::max_jump - 2);
}

TEST_CASE("tracks at most max_publishers, forgetting the longest silent one") {
  SequenceTracker tracker;
  for (std::size_t i = 0; i < SequenceTracker::max_publishers; ++i) tracker.on_action("p" + std::to_string(i), 1);
  tracker.on_action("p0", 2);  // p0 spoke again: p1 is now the longest silent
  tracker.on_action("new", 1);
  CHECK(tracker.publisher_count() == SequenceTracker::max_publishers);
  CHECK(tracker.last_seen().count("p0") == 1);
  CHECK(tracker.last_seen().count("p1") == 0);
  CHECK(tracker.last_seen().count("new") == 1);
  CHECK(tracker.on_action("p1", 5).verdict == SequenceVerdict::first);
}
