#include "backplane/redis_scripts.hpp"

#include <algorithm>
#include <utility>

namespace sb::backplane::scripts {
namespace {

// Prepended to every script. ARGV[1..A] are RedisKeys::name_parts(), for the names of keys a script
// only finds while it runs; its own arguments follow, from ARGV[A + 1].
const char* const prelude = R"lua(
local A = 10
local conn_, conngroups_, gwconns_, reaped_, checkpoints_, hub_, conns_, users_, user_, group_ = unpack(ARGV, 1, A)
local function k_conn(c) return conn_ .. c end
local function k_conngroups(c) return conngroups_ .. c end
local function k_gwconns(gw) return gwconns_ .. gw end
local function k_reaped(gw) return reaped_ .. gw end
local function k_checkpoints(gw) return checkpoints_ .. gw end
local function k_hub_conns(h) return hub_ .. h .. conns_ end
local function k_hub_users(h) return hub_ .. h .. users_ end
local function k_user(h, u) return hub_ .. h .. user_ .. u end
local function k_group(h, g) return hub_ .. h .. group_ .. g end
local function now_ms() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
-- `group` and `conngroups` are the keys of group g and of connection c's groups.
local function join(group, conngroups, c, g) redis.call('ZADD', group, 0, c) redis.call('SADD', conngroups, g) end
local function leave(group, conngroups, c, g) redis.call('ZREM', group, c) redis.call('SREM', conngroups, g) end
local function leave_all(h, c, conngroups)
  for _, g in ipairs(redis.call('SMEMBERS', conngroups)) do redis.call('ZREM', k_group(h, g), c) end
  redis.call('DEL', conngroups)
end
local function unregister(c, conn, conngroups)
  local info = redis.call('HMGET', conn, 'gw', 'hub', 'user')
  local gw, h, u = info[1], info[2], info[3]
  if not h then return false end
  leave_all(h, c, conngroups)
  redis.call('ZREM', k_hub_conns(h), c)
  if u and u ~= '' then
    redis.call('ZREM', k_user(h, u), c)
    if redis.call('EXISTS', k_user(h, u)) == 0 then redis.call('ZREM', k_hub_users(h), u) end
  end
  if gw then
    redis.call('SREM', k_gwconns(gw), c)
    redis.call('HDEL', k_checkpoints(gw), c)
  end
  redis.call('DEL', conn)
  return true
end
)lua";

std::string with_prelude(const char* body) {
  return std::string(prelude) + body;
}

const char* scope_name(hub::Scope scope) {
  switch (scope) {
    case hub::Scope::all: return "all";
    case hub::Scope::connection: return "connection";
    case hub::Scope::user: return "user";
    case hub::Scope::group: return "group";
  }
  return "all";
}

EvalCommand eval(const std::string& script, const RedisKeys& names, std::vector<std::string> keys,
                 std::vector<std::string> args) {
  auto parts = names.name_parts();
  EvalCommand command;
  command.reserve(3 + keys.size() + parts.size() + args.size());
  command.push_back("EVAL");
  command.push_back(script);
  command.push_back(std::to_string(keys.size()));
  for (auto& key : keys) command.push_back(std::move(key));
  for (auto& part : parts) command.push_back(std::move(part));
  for (auto& arg : args) command.push_back(std::move(arg));
  return command;
}

// The fan-out's keys join the script's own, its command follows the script's arguments.
EvalCommand eval_then_append(const std::string& script, const RedisKeys& names, std::vector<std::string> keys,
                             std::vector<std::string> args, FanoutAppend append) {
  for (auto& key : append.keys) keys.push_back(std::move(key));
  for (auto& arg : append.command) args.push_back(std::move(arg));
  return eval(script, names, std::move(keys), std::move(args));
}

}  // namespace

// KEYS: the connection, the gateway's connections, the hub's connections, the connection's groups, the
// user's connections, the hub's users, the user's memberships, then one per group.
// ARGV: gateway, connection, hub, user, identity, then the groups.
EvalCommand register_connection(const RedisKeys& keys, std::string_view gateway, std::string_view connection_id,
                                std::string_view hub_key, std::string_view user_id, std::string_view identity_json,
                                const std::vector<std::string>& groups) {
  static const std::string script = with_prelude(R"lua(
local gw, c, h, u, identity = ARGV[A + 1], ARGV[A + 2], ARGV[A + 3], ARGV[A + 4], ARGV[A + 5]
redis.call('HSET', KEYS[1], 'gw', gw, 'hub', h, 'user', u, 'identity', identity)
redis.call('SADD', KEYS[2], c)
redis.call('ZADD', KEYS[3], 0, c)
for i = 8, #KEYS do join(KEYS[i], KEYS[4], c, ARGV[A + i - 2]) end
local memberships = {}
if u ~= '' then
  redis.call('ZADD', KEYS[5], 0, c)
  redis.call('ZADD', KEYS[6], 0, u)
  local now = now_ms()
  local found = redis.call('ZRANGEBYSCORE', KEYS[7], '(' .. now, '+inf', 'WITHSCORES')
  for i = 1, #found, 2 do
    join(k_group(h, found[i]), KEYS[4], c, found[i])
    table.insert(memberships, found[i])
    table.insert(memberships, tostring(tonumber(found[i + 1]) - now))
  end
end
return memberships
)lua");
  std::vector<std::string> declared{keys.connection(connection_id),    keys.gateway_connections(gateway),
                                    keys.hub_connections(hub_key),     keys.connection_groups(connection_id),
                                    keys.user(hub_key, user_id),       keys.hub_users(hub_key),
                                    keys.user_groups(hub_key, user_id)};
  std::vector<std::string> args{std::string(gateway), std::string(connection_id), std::string(hub_key),
                                std::string(user_id), std::string(identity_json)};
  for (const auto& group : groups) {
    declared.push_back(keys.group(hub_key, group));
    args.push_back(group);
  }
  return eval(script, keys, std::move(declared), std::move(args));
}

// KEYS: the connection, its groups. ARGV: connection.
EvalCommand unregister_connection(const RedisKeys& keys, std::string_view connection_id) {
  static const std::string script = with_prelude(R"lua(
if unregister(ARGV[A + 1], KEYS[1], KEYS[2]) then return 1 end
return 0
)lua");
  return eval(script, keys, {keys.connection(connection_id), keys.connection_groups(connection_id)},
              {std::string(connection_id)});
}

// KEYS, for a connection: the connection, its groups, the group; for a user: the user's memberships,
// the user's connections, the group. Then the fan-out's.
// ARGV: hub, op (add|remove), subject (connection|user), id, group, ttl ms (user add), then the
// fan-out's command, run last.
// KEYS: the connection, its groups, the group. ARGV: hub, connection, group, join|leave.
EvalCommand connection_group(const RedisKeys& keys, std::string_view connection_id, std::string_view hub_key,
                             std::string_view group, bool joined) {
  static const std::string script = with_prelude(R"lua(
local h, c, g, op = ARGV[A + 1], ARGV[A + 2], ARGV[A + 3], ARGV[A + 4]
if redis.call('HGET', KEYS[1], 'hub') ~= h then return 0 end
if op == 'join' then join(KEYS[3], KEYS[2], c, g) else leave(KEYS[3], KEYS[2], c, g) end
return 1
)lua");
  return eval(script, keys,
              {keys.connection(connection_id), keys.connection_groups(connection_id), keys.group(hub_key, group)},
              {std::string(hub_key), std::string(connection_id), std::string(group), joined ? "join" : "leave"});
}

EvalCommand membership(const RedisKeys& keys, const hub::MembershipAction& action, std::int64_t ttl_ms,
                       FanoutAppend append) {
  static const std::string script = with_prelude(R"lua(
local h, op, subject, id, g = ARGV[A + 1], ARGV[A + 2], ARGV[A + 3], ARGV[A + 4], ARGV[A + 5]
local matched = 0
if subject == 'connection' then
  if redis.call('HGET', KEYS[1], 'hub') == h then
    matched = 1
    if op == 'add' then join(KEYS[3], KEYS[2], id, g) else leave(KEYS[3], KEYS[2], id, g) end
  end
else
  if op == 'add' then
    local ttl = tonumber(ARGV[A + 6])
    if ttl > 0 then redis.call('ZADD', KEYS[1], now_ms() + ttl, g) end
  else
    redis.call('ZREM', KEYS[1], g)
  end
  for _, c in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    matched = matched + 1
    if op == 'add' then join(KEYS[3], k_conngroups(c), c, g) else leave(KEYS[3], k_conngroups(c), c, g) end
  end
end
redis.call(unpack(ARGV, A + 7))
return matched
)lua");
  const auto& h = action.hub_key;
  std::vector<std::string> declared;
  if (action.subject == hub::Scope::connection)
    declared = {keys.connection(action.id), keys.connection_groups(action.id), keys.group(h, action.group)};
  else
    declared = {keys.user_groups(h, action.id), keys.user(h, action.id), keys.group(h, action.group)};
  return eval_then_append(script, keys, std::move(declared),
                          {h, action.op == hub::MembershipOp::add ? "add" : "remove", scope_name(action.subject),
                           action.id, action.group, std::to_string(ttl_ms)},
                          std::move(append));
}

// KEYS, for a connection: the connection, its groups; for a user: the user's memberships, the user's
// connections. Then the fan-out's.
// ARGV: hub, subject (connection|user), id, then the fan-out's command, run last.
EvalCommand remove_from_all_groups(const RedisKeys& keys, const hub::RemoveFromAllGroupsAction& action,
                                   FanoutAppend append) {
  static const std::string script = with_prelude(R"lua(
local h, subject, id = ARGV[A + 1], ARGV[A + 2], ARGV[A + 3]
local matched = 0
if subject == 'connection' then
  if redis.call('HGET', KEYS[1], 'hub') == h then
    matched = 1
    leave_all(h, id, KEYS[2])
  end
else
  redis.call('DEL', KEYS[1])
  for _, c in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    matched = matched + 1
    leave_all(h, c, k_conngroups(c))
  end
end
redis.call(unpack(ARGV, A + 4))
return matched
)lua");
  const auto& h = action.hub_key;
  std::vector<std::string> declared;
  if (action.subject == hub::Scope::connection)
    declared = {keys.connection(action.id), keys.connection_groups(action.id)};
  else
    declared = {keys.user_groups(h, action.id), keys.user(h, action.id)};
  return eval_then_append(script, keys, std::move(declared), {h, scope_name(action.subject), action.id},
                          std::move(append));
}

// KEYS: the leases, this gateway's tombstone. ARGV: gateway, lease ms.
EvalCommand renew_lease(const RedisKeys& keys, std::string_view gateway, std::chrono::milliseconds lease) {
  static const std::string script = with_prelude(R"lua(
local added = redis.call('ZADD', KEYS[1], now_ms() + tonumber(ARGV[A + 2]), ARGV[A + 1])
if added == 1 and redis.call('DEL', KEYS[2]) == 1 then return 2 end
return added
)lua");
  return eval(script, keys, {keys.gateways(), keys.reaped(gateway)},
              {std::string(gateway), std::to_string(lease.count())});
}

// KEYS: the leases, the parked connections. ARGV: the reconnect window (ms).
// Removing an expired lease from the zset is the claim, so one gateway wins.
EvalCommand reap_one(const RedisKeys& keys, std::chrono::milliseconds window) {
  static const std::string script = with_prelude(R"lua(
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms(), 'LIMIT', 0, 1)
if #dead == 0 then return {} end
local gw = dead[1]
local window = tonumber(ARGV[A + 1])
redis.call('ZREM', KEYS[1], gw)
-- If it was only cut off, it finds this when it comes back, and drops the connections we reaped.
redis.call('SET', k_reaped(gw), 1, 'EX', 86400)
local out = {gw}
local until_ms = now_ms() + window
for _, c in ipairs(redis.call('SMEMBERS', k_gwconns(gw))) do
  if redis.call('HEXISTS', k_checkpoints(gw), c) == 1 then
    -- A stateful connection with a checkpoint may still resume elsewhere: it stays registered (presence
    -- sees it) until its window ends (reap_parked).
    redis.call('ZADD', KEYS[2], until_ms, c)
  else
    local identity = redis.call('HGET', k_conn(c), 'identity')
    if unregister(c, k_conn(c), k_conngroups(c)) and identity then table.insert(out, identity) end
  end
end
redis.call('DEL', k_gwconns(gw))
-- What nobody resumes goes with the window.
redis.call('PEXPIRE', k_checkpoints(gw), window + 60000)
return out
)lua");
  return eval(script, keys, {keys.gateways(), keys.parked()}, {std::to_string(window.count())});
}

// KEYS: the parked connections. ARGV: at most how many.
EvalCommand reap_parked(const RedisKeys& keys, std::size_t limit) {
  static const std::string script = with_prelude(R"lua(
local out = {}
for _, c in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms(), 'LIMIT', 0, tonumber(ARGV[A + 1]))) do
  redis.call('ZREM', KEYS[1], c)
  local identity = redis.call('HGET', k_conn(c), 'identity')
  if unregister(c, k_conn(c), k_conngroups(c)) and identity then table.insert(out, identity) end
end
return out
)lua");
  return eval(script, keys, {keys.parked()}, {std::to_string(limit)});
}

// KEYS: the connection, its claim, the parked connections. ARGV: gateway, connection, the inbox prefix.
EvalCommand claim_checkpoint(const RedisKeys& keys, std::string_view gateway, std::string_view connection_id) {
  static const std::string script = with_prelude(R"lua(
local gw, c = ARGV[A + 1], ARGV[A + 2]
local owner = redis.call('HGET', KEYS[1], 'gw')
if not owner or owner == gw then return {0} end
-- A holder that still listens to its inbox is alive: it answers takes itself.
local listening = redis.call('PUBSUB', 'NUMSUB', ARGV[A + 3] .. owner)
if tonumber(listening[2]) > 0 then return {1} end
local state = redis.call('HGET', k_checkpoints(owner), c)
if not state then return {0} end
redis.call('HDEL', k_checkpoints(owner), c)
redis.call('HSET', KEYS[1], 'gw', gw)
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('SET', KEYS[2], gw, 'KEEPTTL') end
redis.call('SREM', k_gwconns(owner), c)
redis.call('SADD', k_gwconns(gw), c)
redis.call('ZREM', KEYS[3], c)
return {2, state}
)lua");
  return eval(script, keys, {keys.connection(connection_id), keys.claim(connection_id), keys.parked()},
              {std::string(gateway), std::string(connection_id), keys.inbox_prefix()});
}

// KEYS: the log. ARGV: the position (ms-seq, or 0-0), the most entries to return.
EvalCommand read_log_after(const RedisKeys& keys, std::string_view after, std::size_t limit) {
  static const std::string script = with_prelude(R"lua(
local after, limit = ARGV[A + 1], tonumber(ARGV[A + 2])
if after == '0-0' then
  -- From the start: only if nothing was ever trimmed.
  local info = redis.pcall('XINFO', 'STREAM', KEYS[1])
  if type(info) == 'table' and not info.err then
    local added, length = 0, 0
    for i = 1, #info, 2 do
      if info[i] == 'entries-added' then added = info[i + 1] end
      if info[i] == 'length' then length = info[i + 1] end
    end
    if added ~= length then return {1} end
  end
else
  -- Trimming takes the oldest first: while `after` is still there, everything after it is.
  if #redis.call('XRANGE', KEYS[1], after, after) == 0 then return {1} end
end
local entries = redis.call('XRANGE', KEYS[1], '(' .. after, '+', 'COUNT', limit + 1)
if #entries > limit then return {2} end
return {0, entries}
)lua");
  return eval(script, keys, {keys.log()}, {std::string(after), std::to_string(limit)});
}

// KEYS: the gateway's connections, the leases. ARGV: gateway.
EvalCommand leave(const RedisKeys& keys, std::string_view gateway) {
  static const std::string script = with_prelude(R"lua(
for _, c in ipairs(redis.call('SMEMBERS', KEYS[1])) do unregister(c, k_conn(c), k_conngroups(c)) end
redis.call('DEL', KEYS[1])
redis.call('DEL', k_checkpoints(ARGV[A + 1]))
redis.call('ZREM', KEYS[2], ARGV[A + 1])
return 1
)lua");
  return eval(script, keys, {keys.gateway_connections(gateway), keys.gateways()}, {std::string(gateway)});
}

// KEYS: the claim, the connection. ARGV: gateway, ttl (ms).
// The connection's registration names its holder too: after the claim expired, or after Redis restarted
// empty (gateways write their connections back, not their claims), it still says whose the id is.
EvalCommand claim_connection(const RedisKeys& keys, std::string_view gateway, std::string_view connection_id,
                             std::chrono::milliseconds ttl) {
  static const std::string script = with_prelude(R"lua(
local holder = redis.call('GET', KEYS[1]) or redis.call('HGET', KEYS[2], 'gw')
if holder and holder ~= ARGV[A + 1] then return 0 end
redis.call('SET', KEYS[1], ARGV[A + 1], 'PX', ARGV[A + 2])
return 1
)lua");
  return eval(script, keys, {keys.claim(connection_id), keys.connection(connection_id)},
              {std::string(gateway), std::to_string(std::max<std::int64_t>(1, ttl.count()))});
}

// KEYS: the connection, its claim. ARGV: gateway (the asker), the inbox channel prefix, the message.
EvalCommand relay_to_owner(const RedisKeys& keys, std::string_view gateway, std::string_view connection_id,
                           std::string_view message) {
  static const std::string script = with_prelude(R"lua(
local owner = redis.call('HGET', KEYS[1], 'gw')
if not owner then owner = redis.call('GET', KEYS[2]) end
if not owner or owner == ARGV[A + 1] then return -1 end
return redis.call('PUBLISH', ARGV[A + 2] .. owner, ARGV[A + 3])
)lua");
  return eval(script, keys, {keys.connection(connection_id), keys.claim(connection_id)},
              {std::string(gateway), keys.inbox_prefix(), std::string(message)});
}

EvalCommand read_console_samples(const RedisKeys& keys, bool latest_only) {
  static const std::string script = with_prelude(R"lua(
local out = {}
for _, gw in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  out[#out + 1] = gw
  out[#out + 1] = redis.call('LRANGE', ARGV[A + 1] .. gw, tonumber(ARGV[A + 2]), -1)
end
return out
)lua");
  return eval(script, keys, {keys.gateways()}, {keys.console_samples_prefix(), latest_only ? "-1" : "0"});
}

// KEYS: the connection, its claim, the old holder's connections, the new one's, the new one's inbox.
// ARGV: the new holder, the connection, the answer.
EvalCommand hand_over(const RedisKeys& keys, std::string_view gateway, std::string_view to_gateway,
                      std::string_view connection_id, std::string_view answer) {
  static const std::string script = with_prelude(R"lua(
local to, c = ARGV[A + 1], ARGV[A + 2]
if redis.call('EXISTS', KEYS[1]) == 1 then
  local from = redis.call('HGET', KEYS[1], 'gw')
  if from then redis.call('HDEL', k_checkpoints(from), c) end
  redis.call('HSET', KEYS[1], 'gw', to)
end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('SET', KEYS[2], to, 'KEEPTTL') end
redis.call('SREM', KEYS[3], c)
redis.call('SADD', KEYS[4], c)
return redis.call('PUBLISH', KEYS[5], ARGV[A + 3])
)lua");
  return eval(script, keys,
              {keys.connection(connection_id), keys.claim(connection_id), keys.gateway_connections(gateway),
               keys.gateway_connections(to_gateway), keys.inbox(to_gateway)},
              {std::string(to_gateway), std::string(connection_id), std::string(answer)});
}

// KEYS, by kind: connection: the connection; user: the user's connections; group: the group;
// user_in_group: the user's memberships, the user's connections.
// ARGV: kind (connection|user|group|user_in_group), hub, group.
EvalCommand exists(const RedisKeys& keys, const hub::QueryAction& query) {
  static const std::string script = with_prelude(R"lua(
local kind, h, g = ARGV[A + 1], ARGV[A + 2], ARGV[A + 3]
if kind == 'connection' then
  if redis.call('HGET', KEYS[1], 'hub') == h then return 1 end
  return 0
end
if kind == 'user' or kind == 'group' then return redis.call('EXISTS', KEYS[1]) end
local expiry = redis.call('ZSCORE', KEYS[1], g)
if expiry and tonumber(expiry) > now_ms() then return 1 end
for _, c in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('SISMEMBER', k_conngroups(c), g) == 1 then return 1 end
end
return 0
)lua");
  const auto& h = query.hub_key;
  switch (query.kind) {
    case hub::QueryKind::connection_exists:
      return eval(script, keys, {keys.connection(query.id)}, {"connection", h, query.group});
    case hub::QueryKind::user_exists: return eval(script, keys, {keys.user(h, query.id)}, {"user", h, query.group});
    case hub::QueryKind::group_exists:
      return eval(script, keys, {keys.group(h, query.group)}, {"group", h, query.group});
    default:
      return eval(script, keys, {keys.user_groups(h, query.id), keys.user(h, query.id)},
                  {"user_in_group", h, query.group});
  }
}

// KEYS: the listed zset (the hub's connections or users, a group's or a user's connections).
// ARGV: kind (connections|users), scope (all|group|user), hub, after, page limit.
EvalCommand list(const RedisKeys& keys, const hub::QueryAction& query) {
  static const std::string script = with_prelude(R"lua(
local kind, scope, h, after, limit = ARGV[A + 1], ARGV[A + 2], ARGV[A + 3], ARGV[A + 4], tonumber(ARGV[A + 5])
local key = KEYS[1]
if kind == 'connections' or scope == 'all' then
  local out = {redis.call('ZCARD', key)}
  if limit > 0 then
    local from = '-'
    if after ~= '' then from = '(' .. after end
    for _, m in ipairs(redis.call('ZRANGEBYLEX', key, from, '+', 'LIMIT', 0, limit)) do
      table.insert(out, m)
      if kind == 'connections' then
        table.insert(out, redis.call('HGET', k_conn(m), 'user') or '')
      else
        table.insert(out, tostring(redis.call('ZCARD', k_user(h, m))))
      end
    end
  end
  return out
end
-- The users of a group: grouped here, one pass over its connections.
local counts, names = {}, {}
for _, c in ipairs(redis.call('ZRANGE', key, 0, -1)) do
  local u = redis.call('HGET', k_conn(c), 'user')
  if u and u ~= '' then
    if not counts[u] then counts[u] = 0 table.insert(names, u) end
    counts[u] = counts[u] + 1
  end
end
table.sort(names)
local out = {#names}
local n = 0
for _, u in ipairs(names) do
  if n >= limit then break end
  if u > after then
    table.insert(out, u)
    table.insert(out, tostring(counts[u]))
    n = n + 1
  end
end
return out
)lua");
  const auto& h = query.hub_key;
  const bool is_connections = query.kind == hub::QueryKind::list_connections;
  std::string listed = query.scope == hub::Scope::all ? (is_connections ? keys.hub_connections(h) : keys.hub_users(h))
                       : query.scope == hub::Scope::group ? keys.group(h, query.group)
                                                          : keys.user(h, query.id);
  return eval(script, keys, {std::move(listed)},
              {is_connections ? "connections" : "users", scope_name(query.scope), h, query.after,
               std::to_string(query.page_limit)});
}

}  // namespace sb::backplane::scripts
