#include "backplane/sequence_tracker.hpp"

#include <algorithm>

namespace sb::backplane {

void SequenceTracker::add(const std::string& publisher, std::uint64_t sequence) {
  if (last_seen_.size() >= max_publishers) {
    auto oldest = std::min_element(heard_.begin(), heard_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    forget(std::string(oldest->first));
  }
  last_seen_.emplace(publisher, sequence);
  heard_[publisher] = ++clock_;
}

std::optional<SequenceObservation> SequenceTracker::check_jump(const std::string& publisher, std::uint64_t ahead) {
  if (ahead < max_jump) {
    jumped_.erase(publisher);
    return std::nullopt;
  }
  bool is_first = jumped_.insert(publisher).second;
  return SequenceObservation{is_first ? SequenceVerdict::implausible_gap : SequenceVerdict::implausible, 0};
}

SequenceObservation SequenceTracker::on_action(const std::string& publisher, std::uint64_t sequence) {
  auto it = last_seen_.find(publisher);
  if (it == last_seen_.end()) {
    add(publisher, sequence);
    return {SequenceVerdict::first, 0};
  }
  heard_[publisher] = ++clock_;
  auto& last = it->second;
  if (sequence <= last) return {SequenceVerdict::duplicate, 0};
  if (auto jump = check_jump(publisher, sequence - last)) return *jump;
  auto missed = sequence - last - 1;
  last = sequence;
  return {missed == 0 ? SequenceVerdict::next : SequenceVerdict::gap, missed};
}

SequenceObservation SequenceTracker::on_heartbeat(const std::string& publisher, std::uint64_t last_sequence) {
  auto it = last_seen_.find(publisher);
  if (it == last_seen_.end()) {
    add(publisher, last_sequence);
    return {SequenceVerdict::first, 0};
  }
  heard_[publisher] = ++clock_;
  auto& last = it->second;
  if (last_sequence <= last) return {SequenceVerdict::next, 0};
  if (auto jump = check_jump(publisher, last_sequence - last)) return *jump;
  auto missed = last_sequence - last;
  last = last_sequence;
  return {SequenceVerdict::gap, missed};
}

}  // namespace sb::backplane
