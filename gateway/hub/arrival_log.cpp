#include "hub/arrival_log.hpp"

namespace sb::hub {

ArrivalLog::Ticket ArrivalLog::begin() {
  Ticket ticket = first_index_ + entries_.size();
  ++open_[ticket];
  return ticket;
}

void ArrivalLog::record(const ActionOrigin& origin, const SharedAction& action) {
  if (open_.empty()) return;
  entries_.push_back({origin, action});
  if (entries_.size() > max_entries_) {
    entries_.pop_front();
    ++first_index_;
  }
}

std::optional<std::vector<ArrivalLog::Entry>> ArrivalLog::end(Ticket ticket) {
  std::optional<std::vector<Entry>> out;
  if (ticket >= first_index_) {
    auto begin = entries_.begin() + static_cast<std::ptrdiff_t>(ticket - first_index_);
    out.emplace(begin, entries_.end());
  }
  release(ticket);
  return out;
}

void ArrivalLog::release(Ticket ticket) {
  auto it = open_.find(ticket);
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
  // Entries before the oldest open arrival are nobody's any more.
  const Ticket keep_from = open_.empty() ? first_index_ + entries_.size() : open_.begin()->first;
  while (first_index_ < keep_from && !entries_.empty()) {
    entries_.pop_front();
    ++first_index_;
  }
}

}  // namespace sb::hub
