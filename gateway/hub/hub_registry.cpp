#include "hub/hub_registry.hpp"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <string_view>
#include <vector>

namespace sb::hub {
namespace {

using connection::Connection;

// Azure: a user membership without TTL lives at most a year.
constexpr auto default_user_membership_ttl = std::chrono::hours(24 * 365);

// Resolves excluded ids to pointers once, so the walk compares pointers, not strings.
template <typename Find>
std::vector<Connection*> resolve_excluded(const std::vector<std::string>& excluded, Find find) {
  std::vector<Connection*> out;
  for (const auto& id : excluded)
    if (auto* c = find(id)) out.push_back(c);
  return out;
}

bool contains(const std::vector<Connection*>& list, Connection* c) {
  for (auto* x : list)
    if (x == c) return true;
  return false;
}

// Keeps the `limit` smallest keys greater than `after` among those offered, in a max-heap, so that a
// shard's pass over n members costs O(n log limit) comparisons and copies no id: the keys are views
// into the registry, valid while the (synchronous) query runs. Only the final page is copied out.
struct PageCandidate {
  std::string_view id;
  std::string_view user_id;
  std::size_t connection_count = 0;
};

class SmallestAfter {
 public:
  SmallestAfter(std::string_view after, std::size_t limit) : after_(after), limit_(limit) { heap_.reserve(limit); }

  void offer(const PageCandidate& candidate) {
    if (limit_ == 0 || candidate.id <= after_) return;
    if (heap_.size() < limit_) {
      heap_.push_back(candidate);
      std::push_heap(heap_.begin(), heap_.end(), by_id);
    } else if (candidate.id < heap_.front().id) {
      std::pop_heap(heap_.begin(), heap_.end(), by_id);
      heap_.back() = candidate;
      std::push_heap(heap_.begin(), heap_.end(), by_id);
    }
  }

  std::vector<PresenceEntry> take_sorted() {
    std::sort_heap(heap_.begin(), heap_.end(), by_id);
    std::vector<PresenceEntry> page;
    page.reserve(heap_.size());
    for (const auto& c : heap_) page.push_back({std::string(c.id), std::string(c.user_id), c.connection_count});
    return page;
  }

 private:
  static bool by_id(const PageCandidate& a, const PageCandidate& b) { return a.id < b.id; }
  std::string_view after_;
  std::size_t limit_;
  std::vector<PageCandidate> heap_;
};

// FNV-1a, 64 bits: stable across processes (std::hash is not), so gateways could merge these too.
std::uint64_t user_key(std::string_view user_id) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : user_id) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace

HubRegistry::Walk::Walk(const HubRegistry& registry) : registry_(registry) {
  registry_.owner_thread_.check();
  ++registry_.walks_;
}

HubRegistry::Walk::~Walk() { --registry_.walks_; }

void HubRegistry::check_not_walking() const {
  owner_thread_.check();
  assert(walks_ == 0 && "a connection was added or removed during a walk: post its end instead");
}

HubRegistry::HubIndex* HubRegistry::find_hub(const std::string& hub_key) {
  auto it = hubs_.find(hub_key);
  return it == hubs_.end() ? nullptr : &it->second;
}

Connection* HubRegistry::find(const std::string& hub_key, const std::string& connection_id) {
  auto it = by_id_.find(connection_id);
  if (it == by_id_.end() || it->second->identity().hub_key != hub_key) return nullptr;
  return it->second;
}

void HubRegistry::add(Connection& c, Clock::time_point now) {
  check_not_walking();
  const auto& identity = c.identity();
  by_id_[identity.connection_id] = &c;
  auto& hub = hubs_[identity.hub_key];
  hub.connections.insert(&c);
  for (const auto& group : identity.initial_groups) join(hub, c, group);
  if (identity.user_id.empty()) return;
  hub.users[identity.user_id].insert(&c);
  auto memberships = hub.user_groups.find(identity.user_id);
  if (memberships == hub.user_groups.end()) return;
  for (const auto& [group, expires_at] : memberships->second)
    if (expires_at > now) join(hub, c, group);
}

void HubRegistry::remove(Connection& c) {
  check_not_walking();
  const auto& identity = c.identity();
  by_id_.erase(identity.connection_id);
  auto* hub = find_hub(identity.hub_key);
  if (!hub) return;
  hub->connections.erase(&c);
  if (!identity.user_id.empty()) {
    auto user = hub->users.find(identity.user_id);
    if (user != hub->users.end()) {
      user->second.erase(&c);
      if (user->second.empty()) hub->users.erase(user);
    }
  }
  for (const auto& group : c.groups()) {
    auto it = hub->groups.find(group);
    if (it == hub->groups.end()) continue;
    it->second.erase(&c);
    if (it->second.empty()) hub->groups.erase(it);
  }
  c.groups().clear();
  if (hub->connections.empty() && hub->user_groups.empty()) hubs_.erase(identity.hub_key);
}

void HubRegistry::join(HubIndex& hub, Connection& c, const std::string& group) {
  hub.groups[group].insert(&c);
  if (c.groups().insert(group).second) c.note_changed();
}

void HubRegistry::leave(HubIndex& hub, Connection& c, const std::string& group) {
  auto it = hub.groups.find(group);
  if (it != hub.groups.end()) {
    it->second.erase(&c);
    if (it->second.empty()) hub.groups.erase(it);
  }
  if (c.groups().erase(group) > 0) c.note_changed();
}

ActionOutcome HubRegistry::execute(const Action& action, Clock::time_point now) {
  Walk walk(*this);
  return std::visit([&](const auto& a) { return run(a, now); }, action);
}

ActionOutcome HubRegistry::execute(const SharedAction& action, const ActionOrigin& origin, Clock::time_point now) {
  arrivals_.record(origin, action);
  if (!origin.position.is_zero()) last_position_ = origin.position;
  else if (origin.publisher) last_unlogged_sequence_ = origin.sequence;
  return execute(*action, now);
}

void HubRegistry::replay_after(Connection& c, const std::vector<ArrivalLog::Entry>& entries, LogPosition after,
                               const std::string& own_publisher, std::uint64_t own_unlogged) {
  Walk walk(*this);
  for (const auto& entry : entries) {
    const auto& at = entry.origin.position;
    if (at.is_zero() || at <= after || at > last_position_) continue;
    if (entry.origin.publisher && *entry.origin.publisher == own_publisher && entry.origin.sequence <= own_unlogged)
      continue;
    run_for(*entry.action, c);
  }
}

void HubRegistry::replay(Connection& c, const std::vector<ArrivalLog::Entry>& entries, const Positions& positions) {
  Walk walk(*this);
  for (const auto& entry : entries) {
    if (entry.origin.publisher) {
      auto ran = positions.find(*entry.origin.publisher);
      if (ran != positions.end() && entry.origin.sequence <= ran->second) continue;  // the old gateway ran it
    }
    run_for(*entry.action, c);
  }
}

void HubRegistry::run_for(const Action& action, Connection& c) {
  const auto& identity = c.identity();
  auto in_scope = [&](Scope scope, const std::string& id) {
    switch (scope) {
      case Scope::all: return true;
      case Scope::connection: return id == identity.connection_id;
      case Scope::user: return !identity.user_id.empty() && id == identity.user_id;
      case Scope::group: return c.groups().count(id) > 0;
    }
    return false;
  };
  auto excluded = [&](const std::vector<std::string>& ids) {
    return std::find(ids.begin(), ids.end(), identity.connection_id) != ids.end();
  };
  if (const auto* send = std::get_if<SendAction>(&action)) {
    if (send->hub_key == identity.hub_key && in_scope(send->scope, send->id) && !excluded(send->excluded))
      c.send_message(*send->message);
  } else if (const auto* m = std::get_if<MembershipAction>(&action)) {
    // A user's membership also changed this shard's user_groups when it ran: only the connection moves.
    if (m->hub_key != identity.hub_key || !in_scope(m->subject, m->id)) return;
    auto& hub = hubs_[identity.hub_key];
    if (m->op == MembershipOp::add) join(hub, c, m->group);
    else leave(hub, c, m->group);
  } else if (const auto* r = std::get_if<RemoveFromAllGroupsAction>(&action)) {
    if (r->hub_key != identity.hub_key || !in_scope(r->subject, r->id)) return;
    auto& hub = hubs_[identity.hub_key];
    std::vector<std::string> groups(c.groups().begin(), c.groups().end());
    for (const auto& g : groups) leave(hub, c, g);
  } else if (const auto* close = std::get_if<CloseAction>(&action)) {
    if (close->hub_key == identity.hub_key && in_scope(close->scope, close->id) && !excluded(close->excluded))
      c.close({"closed_by_api", close->reason, close->allow_reconnect});
  } else if (const auto* invoke = std::get_if<InvokeClientAction>(&action)) {
    if (invoke->hub_key == identity.hub_key && invoke->connection_id == identity.connection_id)
      c.invoke_client_for_upstream(invoke->target, invoke->arguments_json, invoke->result_target, invoke->correlation_json);
  } else if (const auto* execute = std::get_if<ExecuteAction>(&action)) {
    if (execute->hub_key == identity.hub_key) execute_on(hubs_[identity.hub_key], c, *execute);
  }
}

bool HubRegistry::execute_on(HubIndex& hub, Connection& c, const ExecuteAction& a) {
  const auto& identity = c.identity();
  if (a.filter) {
    filter::FilterSubject subject{identity.connection_id, identity.user_id, !identity.user_id.empty(),
                                  [&c](std::string_view group) { return c.groups().count(std::string(group)) > 0; }};
    if (!a.filter->matches(subject)) return false;
  }
  for (const auto& command : a.commands) {
    switch (command.kind) {
      case CommandKind::send:
        c.send_message(*command.message);
        break;
      case CommandKind::join_group:
        if (c.groups().count(command.group) > 0) break;
        join(hub, c, command.group);
        if (group_listener_) group_listener_(c, command.group, true);
        break;
      case CommandKind::leave_group:
        if (c.groups().count(command.group) == 0) break;
        leave(hub, c, command.group);
        if (group_listener_) group_listener_(c, command.group, false);
        break;
      case CommandKind::close:
        c.close({"closed_by_api", command.reason, command.allow_reconnect});
        break;
    }
  }
  return true;
}

ActionOutcome HubRegistry::run(const InvokeClientAction& a, Clock::time_point) {
  ActionOutcome outcome;
  if (auto* c = find(a.hub_key, a.connection_id)) {
    c->invoke_client_for_upstream(a.target, a.arguments_json, a.result_target, a.correlation_json);
    outcome.matched = 1;
  }
  return outcome;
}

ActionOutcome HubRegistry::run(const ExecuteAction& a, Clock::time_point) {
  ActionOutcome outcome;
  auto* hub = find_hub(a.hub_key);
  if (!hub) return outcome;
  // Copied: the commands change the hub's group sets while this walks its connections.
  std::vector<Connection*> targets(hub->connections.begin(), hub->connections.end());
  for (auto* c : targets)
    if (execute_on(*hub, *c, a)) ++outcome.matched;
  return outcome;
}

ActionOutcome HubRegistry::run(const SendAction& a, Clock::time_point) {
  ActionOutcome outcome;
  auto* hub = find_hub(a.hub_key);
  if (!hub) return outcome;
  auto excluded = resolve_excluded(a.excluded, [&](const std::string& id) { return find(a.hub_key, id); });
  auto send_each = [&](const ConnectionPtrSet& members) {
    for (auto* c : members) {
      if (!excluded.empty() && contains(excluded, c)) continue;
      c->send_message(*a.message);
      ++outcome.matched;
    }
  };
  switch (a.scope) {
    case Scope::all:
      send_each(hub->connections);
      break;
    case Scope::connection:
      if (auto* c = find(a.hub_key, a.id)) {
        c->send_message(*a.message);
        ++outcome.matched;
      }
      break;
    case Scope::user:
      if (auto it = hub->users.find(a.id); it != hub->users.end()) send_each(it->second);
      break;
    case Scope::group:
      if (auto it = hub->groups.find(a.id); it != hub->groups.end()) send_each(it->second);
      break;
  }
  return outcome;
}

ActionOutcome HubRegistry::run(const MembershipAction& a, Clock::time_point now) {
  ActionOutcome outcome;
  if (a.subject == Scope::connection) {
    auto* c = find(a.hub_key, a.id);
    if (!c) return outcome;
    auto& hub = hubs_[a.hub_key];
    if (a.op == MembershipOp::add) join(hub, *c, a.group);
    else leave(hub, *c, a.group);
    outcome.matched = 1;
    return outcome;
  }
  // A user: every shard keeps the membership, so the user's future connections here join too.
  auto& hub = hubs_[a.hub_key];
  if (a.op == MembershipOp::add) {
    if (!a.ttl || a.ttl->count() > 0)
      hub.user_groups[a.id][a.group] = now + (a.ttl ? std::chrono::duration_cast<Clock::duration>(*a.ttl)
                                                     : std::chrono::duration_cast<Clock::duration>(default_user_membership_ttl));
  } else if (auto it = hub.user_groups.find(a.id); it != hub.user_groups.end()) {
    it->second.erase(a.group);
    if (it->second.empty()) hub.user_groups.erase(it);
  }
  if (auto user = hub.users.find(a.id); user != hub.users.end()) {
    for (auto* c : user->second) {
      if (a.op == MembershipOp::add) join(hub, *c, a.group);
      else leave(hub, *c, a.group);
      ++outcome.matched;
    }
  }
  if (hub.connections.empty() && hub.user_groups.empty()) hubs_.erase(a.hub_key);
  return outcome;
}

ActionOutcome HubRegistry::run(const RemoveFromAllGroupsAction& a, Clock::time_point) {
  ActionOutcome outcome;
  auto* hub = find_hub(a.hub_key);
  if (!hub) return outcome;
  auto leave_all = [&](Connection& c) {
    std::vector<std::string> groups(c.groups().begin(), c.groups().end());
    for (const auto& g : groups) leave(*hub, c, g);
    ++outcome.matched;
  };
  if (a.subject == Scope::connection) {
    if (auto* c = find(a.hub_key, a.id)) leave_all(*c);
    return outcome;
  }
  hub->user_groups.erase(a.id);
  if (auto user = hub->users.find(a.id); user != hub->users.end())
    for (auto* c : user->second) leave_all(*c);
  if (hub->connections.empty() && hub->user_groups.empty()) hubs_.erase(a.hub_key);
  return outcome;
}

ActionOutcome HubRegistry::run(const CloseAction& a, Clock::time_point) {
  ActionOutcome outcome;
  auto* hub = find_hub(a.hub_key);
  if (!hub) return outcome;
  std::vector<Connection*> targets;
  switch (a.scope) {
    case Scope::all:
      targets.assign(hub->connections.begin(), hub->connections.end());
      break;
    case Scope::connection:
      if (auto* c = find(a.hub_key, a.id)) targets.push_back(c);
      break;
    case Scope::user:
      if (auto it = hub->users.find(a.id); it != hub->users.end()) targets.assign(it->second.begin(), it->second.end());
      break;
    case Scope::group:
      if (auto it = hub->groups.find(a.id); it != hub->groups.end()) targets.assign(it->second.begin(), it->second.end());
      break;
  }
  // Closing never ends a connection here (its end is posted), but copy the targets anyway: a close
  // must not depend on that to walk safely.
  for (auto* c : targets) {
    if (std::find(a.excluded.begin(), a.excluded.end(), c->id()) != a.excluded.end()) continue;
    c->close({"closed_by_api", a.reason, a.allow_reconnect});
    ++outcome.matched;
  }
  return outcome;
}

ActionOutcome HubRegistry::list(const HubIndex& hub, const QueryAction& a) const {
  ActionOutcome outcome;
  outcome.page_limit = a.page_limit;
  // The members in scope: the hub's connections, a group's, or a user's.
  const ConnectionPtrSet* members = &hub.connections;
  if (a.scope == Scope::group || a.scope == Scope::user) {
    const auto& index = a.scope == Scope::group ? hub.groups : hub.users;
    auto it = index.find(a.scope == Scope::group ? a.group : a.id);
    if (it == index.end()) return outcome;
    members = &it->second;
  }
  outcome.matched = members->size();
  SmallestAfter page(a.after, a.page_limit);

  if (a.kind == QueryKind::list_connections) {
    for (const auto* c : *members) page.offer({c->id(), c->identity().user_id, 1});
    outcome.page = page.take_sorted();
    return outcome;
  }

  // Users: the hub's user index already groups connections by user; a group's members are grouped
  // here, by views into the registry (no id is copied).
  auto add_users = [&](const auto& users) {
    for (const auto& [user_id, count] : users) {
      page.offer({user_id, {}, count});
      if (a.wants_distinct_users) outcome.distinct_user_keys.push_back(user_key(user_id));
    }
  };
  if (a.scope == Scope::all) {
    std::vector<std::pair<std::string_view, std::size_t>> users;
    users.reserve(hub.users.size());
    for (const auto& [user_id, connections] : hub.users) users.emplace_back(user_id, connections.size());
    add_users(users);
  } else {
    std::unordered_map<std::string_view, std::size_t> users;
    for (const auto* c : *members)
      if (!c->identity().user_id.empty()) ++users[c->identity().user_id];
    add_users(users);
  }
  outcome.page = page.take_sorted();
  std::sort(outcome.distinct_user_keys.begin(), outcome.distinct_user_keys.end());
  outcome.distinct_user_keys.erase(std::unique(outcome.distinct_user_keys.begin(), outcome.distinct_user_keys.end()),
                                   outcome.distinct_user_keys.end());
  return outcome;
}

ActionOutcome HubRegistry::run(const QueryAction& a, Clock::time_point now) {
  ActionOutcome outcome;
  auto* hub = find_hub(a.hub_key);
  if (!hub) {
    outcome.page_limit = a.page_limit;
    return outcome;
  }
  switch (a.kind) {
    case QueryKind::list_connections:
    case QueryKind::list_users: return list(*hub, a);
    case QueryKind::connection_exists:
      outcome.matched = find(a.hub_key, a.id) ? 1 : 0;
      break;
    case QueryKind::user_exists:
      outcome.matched = hub->users.count(a.id);
      break;
    case QueryKind::group_exists:
      outcome.matched = hub->groups.count(a.group);
      break;
    case QueryKind::user_in_group: {
      auto memberships = hub->user_groups.find(a.id);
      if (memberships != hub->user_groups.end()) {
        auto g = memberships->second.find(a.group);
        if (g != memberships->second.end() && g->second > now) outcome.matched = 1;
      }
      if (outcome.matched == 0)
        if (auto user = hub->users.find(a.id); user != hub->users.end())
          for (auto* c : user->second)
            if (c->groups().count(a.group)) outcome.matched = 1;
      break;
    }
  }
  return outcome;
}

std::vector<std::pair<std::string, std::string>> HubRegistry::hubs_with_connections() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, hub] : hubs_)
    if (!hub.connections.empty()) out.emplace_back(key, (*hub.connections.begin())->identity().hub);
  return out;
}

std::vector<HubRegistry::HubCounts> HubRegistry::hub_counts() const {
  std::vector<HubCounts> out;
  for (const auto& [key, hub] : hubs_) {
    if (hub.connections.empty()) continue;
    std::size_t groups = 0;
    for (const auto& [name, members] : hub.groups) groups += members.empty() ? 0 : 1;
    out.push_back({key, (*hub.connections.begin())->identity().hub, hub.connections.size(), hub.users.size(), groups});
  }
  return out;
}

std::vector<std::pair<std::string, std::size_t>> HubRegistry::group_sizes(const std::string& hub_key) const {
  std::vector<std::pair<std::string, std::size_t>> out;
  if (auto it = hubs_.find(hub_key); it != hubs_.end())
    for (const auto& [name, members] : it->second.groups)
      if (!members.empty()) out.emplace_back(name, members.size());
  return out;
}

std::size_t HubRegistry::close_every_connection(const connection::CloseRequest& request) {
  Walk walk(*this);
  std::vector<Connection*> targets;
  targets.reserve(by_id_.size());
  for (const auto& [id, c] : by_id_) targets.push_back(c);
  for (auto* c : targets) c->close(request);
  return targets.size();
}

HubRegistry::Snapshot HubRegistry::snapshot() const {
  Walk walk(*this);
  Snapshot out;
  out.connections.reserve(by_id_.size());
  for (const auto& [id, c] : by_id_)
    out.connections.push_back({c->identity(), std::vector<std::string>(c->groups().begin(), c->groups().end())});
  for (const auto& [hub_key, hub] : hubs_)
    for (const auto& [user_id, groups] : hub.user_groups)
      for (const auto& [group, expires_at] : groups) out.user_memberships.push_back({hub_key, user_id, group, expires_at});
  return out;
}

void HubRegistry::expire_memberships(Clock::time_point now) {
  Walk walk(*this);
  for (auto it = hubs_.begin(); it != hubs_.end();) {
    auto& hub = it->second;
    for (auto user = hub.user_groups.begin(); user != hub.user_groups.end();) {
      for (auto g = user->second.begin(); g != user->second.end();) {
        if (g->second > now) {
          ++g;
          continue;
        }
        if (auto members = hub.users.find(user->first); members != hub.users.end())
          for (auto* c : members->second) leave(hub, *c, g->first);
        g = user->second.erase(g);
      }
      user = user->second.empty() ? hub.user_groups.erase(user) : std::next(user);
    }
    it = hub.connections.empty() && hub.user_groups.empty() ? hubs_.erase(it) : std::next(it);
  }
}

}  // namespace sb::hub
