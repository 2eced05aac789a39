#pragma once
// Per-publisher sequence numbers on the fan-out (PROTOCOL.md part 3 §3.8): each gateway numbers the
// actions it publishes 1, 2, 3…; a receiver remembers the last number seen from each publisher and
// reports a gap when one is skipped, either by a later action or by a heartbeat announcing more than
// it saw. Redis pub/sub drops messages silently (a subscriber that reconnects, or one Redis cut off
// for its output buffer), so this is how a loss becomes visible. Pure; owner thread only.
//
// Bounded against nonsense: a number more than 2^32 ahead of the last one (no gateway publishes that
// many between two heartbeats) is a gap once and is not believed, so it never makes what follows look
// like duplicates; at most 4096 publishers are tracked, the longest silent one forgotten first.
#include <cstdint>
#include <string>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace sb::backplane {

enum class SequenceVerdict {
  next,       // the expected number: run it
  first,      // the first seen from this publisher: run it, it is the baseline
  gap,        // numbers were skipped (`missed` of them): run it, and close what may have missed some
  duplicate,  // already seen (a publish retried after a lost reply): skip it
  implausible_gap,  // implausibly far ahead, the first time: skip it, and close as for a gap
  implausible,      // implausibly far ahead again: skip it
};

struct SequenceObservation {
  SequenceVerdict verdict = SequenceVerdict::next;
  std::uint64_t missed = 0;
};

class SequenceTracker {
 public:
  // An action numbered `sequence`.
  SequenceObservation on_action(const std::string& publisher, std::uint64_t sequence);
  // A heartbeat: the publisher has published every number up to `last_sequence`. Never a duplicate.
  SequenceObservation on_heartbeat(const std::string& publisher, std::uint64_t last_sequence);
  // The publisher is gone (its lease was reaped): stop tracking it.
  void forget(const std::string& publisher) {
    last_seen_.erase(publisher);
    heard_.erase(publisher);
    jumped_.erase(publisher);
  }
  std::size_t publisher_count() const { return last_seen_.size(); }
  // Publisher -> the last number accounted for (run, or announced before the first one seen).
  const std::unordered_map<std::string, std::uint64_t>& last_seen() const { return last_seen_; }

  static constexpr std::uint64_t max_jump = std::uint64_t{1} << 32;
  static constexpr std::size_t max_publishers = 4096;

 private:
  // The observation for a number `ahead` past the last one, or nullopt when it is plausible.
  std::optional<SequenceObservation> check_jump(const std::string& publisher, std::uint64_t ahead);
  // Makes room for a new publisher, then starts tracking it at `sequence`.
  void add(const std::string& publisher, std::uint64_t sequence);

  std::unordered_map<std::string, std::uint64_t> last_seen_;
  std::unordered_map<std::string, std::uint64_t> heard_;  // publisher -> when last heard (a counter)
  std::unordered_set<std::string> jumped_;                // told of an implausible number; not yet past it
  std::uint64_t clock_ = 0;
};

}  // namespace sb::backplane
