#pragma once
// What one shard ran while connections were arriving from another gateway (a handoff, PROTOCOL.md part 3
// §3.8, docs/scaling.md "Rolling restarts"). A connection that moves is asked for before its state is
// known here, and the actions that reach this shard meanwhile (a message to one of its groups, a group
// it joins) must reach it once it is installed. So the shard records every action it runs, with where
// it came from, from the moment an arrival begins until the last one waiting ends; the arriving
// connection then runs, on itself alone, those its old gateway had not run (positions, below).
//
// Recording costs nothing while nothing arrives. It is bounded: past `max_entries` the oldest go, and
// an arrival that needed them fails (the connection is closed cleanly rather than left short).
// Owner thread only.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hub/action.hpp"
#include "hub/log_position.hpp"

namespace sb::hub {

// Where an action came from: the gateway that published it and its number in that gateway's sequence
// (backplane/sequence_tracker.hpp). Empty publisher: not numbered (one gateway, no fleet).
struct ActionOrigin {
  std::shared_ptr<const std::string> publisher;
  std::uint64_t sequence = 0;
  LogPosition position;  // its entry in the fleet's log; zero without one (pub/sub, or held while Redis was down)
};

class ArrivalLog {
 public:
  struct Entry {
    ActionOrigin origin;
    SharedAction action;
  };
  using Ticket = std::uint64_t;

  explicit ArrivalLog(std::size_t max_entries = 200'000) : max_entries_(max_entries) {}

  bool is_recording() const { return !open_.empty(); }
  // Starts an arrival: every action recorded from now on is in its entries.
  Ticket begin();
  void record(const ActionOrigin& origin, const SharedAction& action);
  // Ends the arrival `ticket`: the entries recorded since it began, in order; nullopt when some were
  // dropped for the bound.
  std::optional<std::vector<Entry>> end(Ticket ticket);
  // Ends it without reading (the move failed).
  void abandon(Ticket ticket) { release(ticket); }

 private:
  void release(Ticket ticket);

  std::size_t max_entries_;
  std::deque<Entry> entries_;
  Ticket first_index_ = 0;            // the index of entries_.front()
  std::map<Ticket, std::size_t> open_;  // ticket (index at its begin) -> arrivals holding it
};

}  // namespace sb::hub
