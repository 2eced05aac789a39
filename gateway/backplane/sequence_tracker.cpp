#include "backplane/sequence_tracker.hpp"

namespace sb::backplane {

SequenceObservation SequenceTracker::on_action(const std::string& publisher, std::uint64_t sequence) {
  auto [it, is_new] = last_seen_.try_emplace(publisher, sequence);
  if (is_new) return {SequenceVerdict::first, 0};
  auto& last = it->second;
  if (sequence <= last) return {SequenceVerdict::duplicate, 0};
  auto missed = sequence - last - 1;
  last = sequence;
  return {missed == 0 ? SequenceVerdict::next : SequenceVerdict::gap, missed};
}

SequenceObservation SequenceTracker::on_heartbeat(const std::string& publisher, std::uint64_t last_sequence) {
  auto [it, is_new] = last_seen_.try_emplace(publisher, last_sequence);
  if (is_new) return {SequenceVerdict::first, 0};
  auto& last = it->second;
  if (last_sequence <= last) return {SequenceVerdict::next, 0};
  auto missed = last_sequence - last;
  last = last_sequence;
  return {SequenceVerdict::gap, missed};
}

}  // namespace sb::backplane
