#pragma once
// Every Redis key and channel the fleet uses (docs/scaling.md "Keys and channels"), named in one
// place. `P` is --redis-prefix. Ids from clients may hold ':', so a key's kind comes before any of
// them (conn:, conngroups:) and hub names, which cannot hold ':', come before groups and users.
//   P:actions                       channel: every action, as an envelope (backplane/envelope.hpp)
//   P:log                           stream: the fan-out log, when --fleet-log is on (every action, as an envelope)
//   P:checkpoints:{gateway}         hash: connection id -> checkpoint (backplane/checkpoint.hpp) of the
//                                   gateway's stateful-reconnect connections
//   P:parked                        zset: connection id -> end of its reconnect window (ms), for
//                                   stateful connections of a reaped gateway that may still resume
//   P:gateways                      zset: gateway id -> lease expiry (ms, Redis's clock)
//   P:gwconns:{gateway}             set: the gateway's connection ids
//   P:reaped:{gateway}              string, a day's TTL: the gateway's lease was reaped (it was cut off)
//   P:conn:{connection}             hash: gw, hub, user, identity (JSON, for a reaper's `disconnected`)
//   P:conngroups:{connection}       set: the connection's groups
//   P:claim:{connection}            string, expiring: the gateway that opened (or opens) the connection
//   P:inbox:{gateway}               channel: follow-up requests relayed to the gateway, and replies to it
//   P:hub:{hub}:conns               zset (lexicographic): the hub's connection ids
//   P:hub:{hub}:users               zset (lexicographic): users with a connection
//   P:hub:{hub}:user:{user}         zset (lexicographic): the user's connection ids
//   P:hub:{hub}:group:{group}       zset (lexicographic): the group's connection ids
//   P:hub:{hub}:usergroups:{user}   zset: group -> membership expiry (ms), for the user's future connections
//   P:console:{gateway}             list: the gateway's last 15 minutes of console samples, one a second
// The Lua scripts (redis_scripts.cpp) get their keys from here too: in KEYS, or as name_parts().
#include <string>
#include <string_view>
#include <vector>

namespace sb::backplane {

class RedisKeys {
 public:
  explicit RedisKeys(std::string prefix) : prefix_(std::move(prefix)) {}

  std::string actions_channel() const { return prefix_ + ":actions"; }
  std::string log() const { return prefix_ + ":log"; }
  std::string checkpoints(std::string_view gateway) const { return join(checkpoints_part, gateway); }
  std::string parked() const { return prefix_ + ":parked"; }
  std::string gateways() const { return prefix_ + ":gateways"; }
  std::string gateway_connections(std::string_view gateway) const { return join(gwconns_part, gateway); }
  std::string reaped(std::string_view gateway) const { return join(reaped_part, gateway); }
  std::string connection(std::string_view connection_id) const { return join(conn_part, connection_id); }
  std::string connection_groups(std::string_view connection_id) const { return join(conngroups_part, connection_id); }
  std::string claim(std::string_view connection_id) const { return join(claim_part, connection_id); }
  std::string inbox(std::string_view gateway) const { return join(inbox_part, gateway); }
  std::string inbox_prefix() const { return prefix_ + std::string(inbox_part); }
  std::string console_samples(std::string_view gateway) const { return join(console_part, gateway); }
  std::string console_samples_prefix() const { return prefix_ + std::string(console_part); }
  std::string hub_connections(std::string_view hub_key) const { return under_hub(hub_key, conns_part, ""); }
  std::string hub_users(std::string_view hub_key) const { return under_hub(hub_key, users_part, ""); }
  std::string user(std::string_view hub_key, std::string_view user_id) const {
    return under_hub(hub_key, user_part, user_id);
  }
  std::string group(std::string_view hub_key, std::string_view group) const {
    return under_hub(hub_key, group_part, group);
  }
  std::string user_groups(std::string_view hub_key, std::string_view user_id) const {
    return under_hub(hub_key, usergroups_part, user_id);
  }

  // The parts names are joined from, for a script naming keys it only finds while it runs (a dead
  // gateway's connections, a connection's groups), in the order redis_scripts.cpp's prelude reads
  // them: P:conn:, P:conngroups:, P:gwconns:, P:reaped:, P:checkpoints: (each followed by an id), then P:hub: and the
  // kinds under a hub, :conns, :users, :user:, :group: (hub part, hub, kind, then the id if any).
  std::vector<std::string> name_parts() const {
    return {prefix_ + std::string(conn_part),
            prefix_ + std::string(conngroups_part),
            prefix_ + std::string(gwconns_part),
            prefix_ + std::string(reaped_part),
            prefix_ + std::string(checkpoints_part),
            prefix_ + std::string(hub_part),
            std::string(conns_part),
            std::string(users_part),
            std::string(user_part),
            std::string(group_part)};
  }

 private:
  static constexpr std::string_view conn_part = ":conn:";
  static constexpr std::string_view conngroups_part = ":conngroups:";
  static constexpr std::string_view gwconns_part = ":gwconns:";
  static constexpr std::string_view reaped_part = ":reaped:";
  static constexpr std::string_view checkpoints_part = ":checkpoints:";
  static constexpr std::string_view claim_part = ":claim:";
  static constexpr std::string_view inbox_part = ":inbox:";
  static constexpr std::string_view console_part = ":console:";
  static constexpr std::string_view hub_part = ":hub:";
  static constexpr std::string_view conns_part = ":conns";
  static constexpr std::string_view users_part = ":users";
  static constexpr std::string_view user_part = ":user:";
  static constexpr std::string_view group_part = ":group:";
  static constexpr std::string_view usergroups_part = ":usergroups:";

  std::string join(std::string_view kind, std::string_view id) const {
    return prefix_ + std::string(kind) + std::string(id);
  }
  std::string under_hub(std::string_view hub_key, std::string_view kind, std::string_view id) const {
    return prefix_ + std::string(hub_part) + std::string(hub_key) + std::string(kind) + std::string(id);
  }
  std::string prefix_;
};

}  // namespace sb::backplane
