#pragma once
// Every Redis key and channel the fleet uses (docs/scaling.md "Keys and channels"), named in one
// place. `P` is --redis-prefix. Ids from clients may hold ':', so a key's kind comes before any of
// them (conn:, conngroups:) and hub names, which cannot hold ':', come before groups and users.
//   P:actions                       channel: every action, as an envelope (backplane/envelope.hpp)
//   P:gateways                      zset: gateway id -> lease expiry (ms, Redis's clock)
//   P:gwconns:{gateway}             set: the gateway's connection ids
//   P:reaped:{gateway}              string, a day's TTL: the gateway's lease was reaped (it was cut off)
//   P:conn:{connection}             hash: gw, hub, user, identity (JSON, for a reaper's `disconnected`)
//   P:conngroups:{connection}       set: the connection's groups
//   P:hub:{hub}:conns               zset (lexicographic): the hub's connection ids
//   P:hub:{hub}:users               zset (lexicographic): users with a connection
//   P:hub:{hub}:user:{user}         zset (lexicographic): the user's connection ids
//   P:hub:{hub}:group:{group}       zset (lexicographic): the group's connection ids
//   P:hub:{hub}:usergroups:{user}   zset: group -> membership expiry (ms), for the user's future connections
// The Lua scripts (redis_scripts.cpp) build the same names from the prefix.
#include <string>
#include <string_view>

namespace sb::backplane {

class RedisKeys {
 public:
  explicit RedisKeys(std::string prefix) : prefix_(std::move(prefix)) {}

  const std::string& prefix() const { return prefix_; }
  std::string actions_channel() const { return prefix_ + ":actions"; }
  std::string gateways() const { return prefix_ + ":gateways"; }
  std::string gateway_connections(std::string_view gateway) const { return join("gwconns:", gateway); }
  std::string reaped(std::string_view gateway) const { return join("reaped:", gateway); }
  std::string connection(std::string_view connection_id) const { return join("conn:", connection_id); }
  std::string connection_groups(std::string_view connection_id) const { return join("conngroups:", connection_id); }
  std::string hub_connections(std::string_view hub_key) const { return hub(hub_key) + ":conns"; }
  std::string hub_users(std::string_view hub_key) const { return hub(hub_key) + ":users"; }
  std::string user(std::string_view hub_key, std::string_view user_id) const { return hub(hub_key) + ":user:" + std::string(user_id); }
  std::string group(std::string_view hub_key, std::string_view group) const { return hub(hub_key) + ":group:" + std::string(group); }
  std::string user_groups(std::string_view hub_key, std::string_view user_id) const {
    return hub(hub_key) + ":usergroups:" + std::string(user_id);
  }

 private:
  std::string join(std::string_view kind, std::string_view id) const { return prefix_ + ":" + std::string(kind) + std::string(id); }
  std::string hub(std::string_view hub_key) const { return prefix_ + ":hub:" + std::string(hub_key); }
  std::string prefix_;
};

}  // namespace sb::backplane
