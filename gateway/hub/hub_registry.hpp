#pragma once
// One event-loop thread's index of its connections by hub, user and group, and the place where actions
// run (DESIGN.md "Threads": the registry is sharded per thread; an action is posted once to each shard
// and each walks its own members). Owner thread only (asserted in debug builds); holds non-owning
// pointers that connections remove (through the hub dispatcher) when they close.
//
// No connection is added or removed while an action walks a set: a connection that must end during a
// send or a close posts its end (Connection::finish_soon). Debug builds assert it.
#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/owner_thread.hpp"
#include "connection/connection.hpp"
#include "hub/action.hpp"
#include "hub/arrival_log.hpp"

namespace sb::hub {

class HubRegistry {
 public:
  using Clock = std::chrono::system_clock;

  void add(connection::Connection& connection, Clock::time_point now);
  void remove(connection::Connection& connection);

  ActionOutcome execute(const Action& action, Clock::time_point now);
  // The same, for an action of the fan-out: recorded first while a connection is arriving.
  ActionOutcome execute(const SharedAction& action, const ActionOrigin& origin, Clock::time_point now);

  // Told of each group a connection joins or leaves by a filtered :execute, which the fleet's shared
  // state (Redis) cannot work out from the action itself. Other membership changes are not reported.
  using GroupListener = std::function<void(const connection::Connection&, const std::string& group, bool joined)>;
  void set_group_listener(GroupListener listener) { group_listener_ = std::move(listener); }
  // Connections arriving from another gateway (arrival_log.hpp).
  ArrivalLog& arrivals() { return arrivals_; }
  // An arrived connection, just added, runs on itself alone the recorded actions its old gateway had
  // not run: those numbered past `positions` (publisher -> last sequence it ran; absent: none).
  using Positions = std::unordered_map<std::string, std::uint64_t>;
  void replay(connection::Connection& connection, const std::vector<ArrivalLog::Entry>& entries,
              const Positions& positions);

  // The fleet log (docs/scaling.md "Crashes"): where this shard is in it. `log_position()` is the last
  // entry it ran (or where the gateway started reading); `unlogged_sequence()` the number of the last
  // of this gateway's own actions it ran before they reached the log (while Redis was away).
  void start_log_at(LogPosition position) {
    if (last_position_.is_zero()) last_position_ = position;
  }
  LogPosition log_position() const { return last_position_; }
  std::uint64_t unlogged_sequence() const { return last_unlogged_sequence_; }
  // A connection rebuilt from a state taken at `after` (a checkpoint, or a handoff with the log) runs
  // on itself alone the entries after it that this shard has run: `entries` in log order, unique,
  // as the log and this shard's arrival log hold them. Skipped: `own_publisher`'s actions numbered up
  // to `own_unlogged` (they ran there before reaching the log), and anything this shard has not run
  // yet (it will, with the connection in place).
  void replay_after(connection::Connection& connection, const std::vector<ArrivalLog::Entry>& entries,
                    LogPosition after, const std::string& own_publisher, std::uint64_t own_unlogged);

  // Calls f(Connection&) for every connection of this shard (the checkpoint writer picks its own).
  template <typename F>
  void for_each_connection(F&& f) {
    for (auto& [id, c] : by_id_) f(*c);
  }

  // Drops user memberships whose TTL passed and takes those users' connections out of the groups.
  void expire_memberships(Clock::time_point now);

  std::size_t connection_count() const { return by_id_.size(); }
  // The hubs with at least one connection on this shard, and one connection's hub name as its client wrote it.
  std::vector<std::pair<std::string, std::string>> hubs_with_connections() const;

  // Read-only views for the operator console (console/registry_report.hpp): a hub's users and groups
  // with their sizes, and the connections of a hub, or of one of its groups (empty: all of the hub).
  struct HubCounts {
    std::string hub_key, hub;
    std::size_t connections = 0, users = 0, groups = 0;
  };
  std::vector<HubCounts> hub_counts() const;
  template <typename F>
  void for_each_user(const std::string& hub_key, F&& f) const {
    if (auto it = hubs_.find(hub_key); it != hubs_.end())
      for (const auto& [user, members] : it->second.users) f(user);
  }
  std::vector<std::pair<std::string, std::size_t>> group_sizes(const std::string& hub_key) const;
  template <typename F>
  void for_each_member(const std::string& hub_key, const std::string& group, F&& f) const {
    auto it = hubs_.find(hub_key);
    if (it == hubs_.end()) return;
    const ConnectionPtrSet* set = &it->second.connections;
    if (!group.empty()) {
      auto g = it->second.groups.find(group);
      if (g == it->second.groups.end()) return;
      set = &g->second;
    }
    for (const connection::Connection* c : *set) f(*c);
  }
  const connection::Connection* find_connection(const std::string& hub_key, const std::string& connection_id) const {
    auto it = by_id_.find(connection_id);
    return it == by_id_.end() || it->second->identity().hub_key != hub_key ? nullptr : it->second;
  }

  // Closes every connection of this shard (all hubs) with `request`; returns how many. The Redis
  // backplane's answer to a gap in the fan-out: any of them may have missed a message.
  std::size_t close_every_connection(const connection::CloseRequest& request);

  // What this shard holds, copied, for the Redis backplane to write back after Redis came back (it may
  // have lost its data, or missed changes made while it was down).
  struct Snapshot {
    struct Member {
      connection::ConnectionIdentity identity;
      std::vector<std::string> groups;
    };
    struct UserMembership {
      std::string hub_key, user_id, group;
      Clock::time_point expires_at;
    };
    std::vector<Member> connections;
    std::vector<UserMembership> user_memberships;
  };
  Snapshot snapshot() const;

 private:
  using ConnectionPtrSet = std::unordered_set<connection::Connection*>;

  struct HubIndex {
    ConnectionPtrSet connections;
    std::unordered_map<std::string, ConnectionPtrSet> users;
    std::unordered_map<std::string, ConnectionPtrSet> groups;
    // user -> group -> expiry; applies to the user's current and future connections (Azure semantics).
    std::unordered_map<std::string, std::unordered_map<std::string, Clock::time_point>> user_groups;
  };

  ActionOutcome run(const SendAction& a, Clock::time_point now);
  ActionOutcome run(const MembershipAction& a, Clock::time_point now);
  ActionOutcome run(const RemoveFromAllGroupsAction& a, Clock::time_point now);
  ActionOutcome run(const CloseAction& a, Clock::time_point now);
  ActionOutcome run(const QueryAction& a, Clock::time_point now);
  ActionOutcome run(const ExecuteAction& a, Clock::time_point now);
  ActionOutcome run(const InvokeClientAction& a, Clock::time_point now);
  // An :execute's commands on one connection, when its filter selects it; true when it did.
  bool execute_on(HubIndex& hub, connection::Connection& c, const ExecuteAction& a);
  // Presence listings: one pass over the scope's members on this shard, copying at most
  // `page_limit` ids (PROTOCOL.md part 3 §3.7; docs/rest-api.md "Presence").
  ActionOutcome list(const HubIndex& hub, const QueryAction& a) const;

  // One action, for one connection only (replay).
  void run_for(const Action& action, connection::Connection& c);

  void join(HubIndex& hub, connection::Connection& c, const std::string& group);
  void leave(HubIndex& hub, connection::Connection& c, const std::string& group);
  connection::Connection* find(const std::string& hub_key, const std::string& connection_id);
  HubIndex* find_hub(const std::string& hub_key);

  // Marks a walk over the registry's sets for the debug check in add() and remove().
  class Walk {
   public:
    explicit Walk(const HubRegistry& registry);
    ~Walk();
    Walk(const Walk&) = delete;
    Walk& operator=(const Walk&) = delete;

   private:
    const HubRegistry& registry_;
  };
  void check_not_walking() const;

  std::unordered_map<std::string, HubIndex> hubs_;
  std::unordered_map<std::string, connection::Connection*> by_id_;  // connection ids are unique across hubs
  ArrivalLog arrivals_;
  GroupListener group_listener_;
  LogPosition last_position_;
  std::uint64_t last_unlogged_sequence_ = 0;
  mutable int walks_ = 0;
  OwnerThread owner_thread_;
};

}  // namespace sb::hub
