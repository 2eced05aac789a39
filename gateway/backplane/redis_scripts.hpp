#pragma once
// The Lua scripts that change and read the fleet's state in Redis, each with the EVAL command that runs
// it. A script runs atomically, so a membership change and the append of its action to the fan-out
// happen as one step, and a reaper's claim on a dead gateway's lease is taken by exactly one gateway.
//
// Key names come from RedisKeys only (redis_keys.hpp). Every key known before the call is declared in
// KEYS, as Redis asks of scripts (a Cluster routes and checks by them). The keys a script only finds
// while it runs (a connection's groups, a dead gateway's connections) cannot be declared: it names them
// from RedisKeys::name_parts(), its first ARGV, so on a Cluster they would need the prefix to be a hash
// tag to share a slot.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backplane/fanout_log.hpp"
#include "backplane/redis_keys.hpp"
#include "hub/action.hpp"

namespace sb::backplane::scripts {

// EVAL, the script, the key count, KEYS, then ARGV.
using EvalCommand = std::vector<std::string>;

// Registers a connection of `gateway` with its groups. Reply: the user's stored memberships, which
// apply to this connection too, as {group, milliseconds left, …}.
EvalCommand register_connection(const RedisKeys& keys, std::string_view gateway, std::string_view connection_id,
                                std::string_view hub_key, std::string_view user_id, std::string_view identity_json,
                                const std::vector<std::string>& groups);
// Removes a connection from every membership. Reply: 1 if it was registered, else 0.
EvalCommand unregister_connection(const RedisKeys& keys, std::string_view connection_id);
// Records that a registered connection joined or left `group` (a filtered :execute did it on the
// connection's own gateway). Reply: 1 if the connection is registered in that hub, else 0.
EvalCommand connection_group(const RedisKeys& keys, std::string_view connection_id, std::string_view hub_key,
                             std::string_view group, bool joined);
// Applies a membership change (`ttl_ms`: how long a user's membership lasts) and appends the action.
// Reply: the connections matched.
EvalCommand membership(const RedisKeys& keys, const hub::MembershipAction& action, std::int64_t ttl_ms,
                       FanoutAppend append);
// Applies a RemoveFromAllGroupsAction and appends it. Reply: the connections matched.
EvalCommand remove_from_all_groups(const RedisKeys& keys, const hub::RemoveFromAllGroupsAction& action,
                                   FanoutAppend append);
// Renews `gateway`'s lease. Reply: 0 renewed; 1 taken afresh (the first, or Redis lost its data); 2 taken
// afresh after another gateway reaped this one (its tombstone says so).
EvalCommand renew_lease(const RedisKeys& keys, std::string_view gateway, std::chrono::milliseconds lease);
// Claims one expired lease and unregisters its gateway's connections, but for those with a checkpoint
// (they may still resume elsewhere): those are parked until `window` from now. Reply: {gateway,
// identity of each unregistered…}, or {}.
EvalCommand reap_one(const RedisKeys& keys, std::chrono::milliseconds window);
// Unregisters at most `limit` parked connections whose window ended. Reply: {identity…}.
EvalCommand reap_parked(const RedisKeys& keys, std::size_t limit);
// Takes the checkpoint of a connection whose holder no longer listens to its inbox, for `gateway`.
// Reply: {0} nothing to take, {1} its holder is alive, {2, state} taken (the connection is `gateway`'s).
EvalCommand claim_checkpoint(const RedisKeys& keys, std::string_view gateway, std::string_view connection_id);
// The log's entries after `after` ("ms-seq"; "0-0": from the start). Reply: {0, entries} (XRANGE's
// form), {1} some after it were trimmed, {2} more than `limit`.
EvalCommand read_log_after(const RedisKeys& keys, std::string_view after, std::size_t limit);
// `gateway` stops: its connections and its lease go.
EvalCommand leave(const RedisKeys& keys, std::string_view gateway);
// Claims a connection id for `gateway` for `ttl` unless another gateway holds it. Reply: 1 claimed (or
// already ours), 0 another gateway's.
EvalCommand claim_connection(const RedisKeys& keys, std::string_view gateway, std::string_view connection_id,
                             std::chrono::milliseconds ttl);
// Every gateway with a lease, and its console samples (the last one only when `latest_only`). Reply:
// {gateway, {sample…}, gateway, {sample…}…}.
EvalCommand read_console_samples(const RedisKeys& keys, bool latest_only);
// Publishes `message` to the inbox of the gateway holding the connection (registered, or claimed while it
// opens). Reply: the subscribers that got it (0: its gateway is gone), -1 when no other gateway holds it.
EvalCommand relay_to_owner(const RedisKeys& keys, std::string_view gateway, std::string_view connection_id,
                           std::string_view message);

// Hands a connection of `gateway` over to `to_gateway` (the handoff's answer, request_relay.cpp): the
// connection's record, its claim and the gateways' connection sets name the new holder, and the answer
// is published to the asker's inbox, in one step, so nothing in between sees the connection nowhere.
// Replies the number of receivers of the answer (0: the asker is gone).
EvalCommand hand_over(const RedisKeys& keys, std::string_view gateway, std::string_view to_gateway,
                      std::string_view connection_id, std::string_view answer);
// connection_exists, user_exists, group_exists, user_in_group. Reply: 1 or 0.
EvalCommand exists(const RedisKeys& keys, const hub::QueryAction& query);
// list_connections, list_users: a presence page, {count, id, detail, id, detail…}, ids ascending
// bytewise; detail is a connection's user, or a user's connection count.
EvalCommand list(const RedisKeys& keys, const hub::QueryAction& query);

}  // namespace sb::backplane::scripts
