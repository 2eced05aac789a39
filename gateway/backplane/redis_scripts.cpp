#include "backplane/redis_scripts.hpp"

namespace sb::backplane::scripts {
namespace {

// Shared helpers, prepended to every script. Names mirror RedisKeys.
const char* const prelude = R"lua(
local P = ARGV[1]
local function now_ms() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
local function k_conn(c) return P .. ':conn:' .. c end
local function k_conngroups(c) return P .. ':conngroups:' .. c end
local function k_gwconns(gw) return P .. ':gwconns:' .. gw end
local function k_hub(h, part) return P .. ':hub:' .. h .. ':' .. part end
local function k_user(h, u) return P .. ':hub:' .. h .. ':user:' .. u end
local function k_group(h, g) return P .. ':hub:' .. h .. ':group:' .. g end
local function k_usergroups(h, u) return P .. ':hub:' .. h .. ':usergroups:' .. u end
local function join(h, c, g) redis.call('ZADD', k_group(h, g), 0, c) redis.call('SADD', k_conngroups(c), g) end
local function leave(h, c, g) redis.call('ZREM', k_group(h, g), c) redis.call('SREM', k_conngroups(c), g) end
local function leave_all(h, c)
  for _, g in ipairs(redis.call('SMEMBERS', k_conngroups(c))) do redis.call('ZREM', k_group(h, g), c) end
  redis.call('DEL', k_conngroups(c))
end
local function unregister(c)
  local info = redis.call('HMGET', k_conn(c), 'gw', 'hub', 'user')
  local gw, h, u = info[1], info[2], info[3]
  if not h then return false end
  leave_all(h, c)
  redis.call('ZREM', k_hub(h, 'conns'), c)
  if u and u ~= '' then
    redis.call('ZREM', k_user(h, u), c)
    if redis.call('EXISTS', k_user(h, u)) == 0 then redis.call('ZREM', k_hub(h, 'users'), u) end
  end
  if gw then redis.call('SREM', k_gwconns(gw), c) end
  redis.call('DEL', k_conn(c))
  return true
end
)lua";

std::string with_prelude(const char* body) { return std::string(prelude) + body; }

}  // namespace

// ARGV: P, gateway, connection, hub, user, identity, group count, groups…
const std::string& register_connection() {
  static const std::string script = with_prelude(R"lua(
local gw, c, h, u, identity = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
redis.call('HSET', k_conn(c), 'gw', gw, 'hub', h, 'user', u, 'identity', identity)
redis.call('SADD', k_gwconns(gw), c)
redis.call('ZADD', k_hub(h, 'conns'), 0, c)
for i = 1, tonumber(ARGV[7]) do join(h, c, ARGV[7 + i]) end
local memberships = {}
if u ~= '' then
  redis.call('ZADD', k_user(h, u), 0, c)
  redis.call('ZADD', k_hub(h, 'users'), 0, u)
  local now = now_ms()
  local found = redis.call('ZRANGEBYSCORE', k_usergroups(h, u), '(' .. now, '+inf', 'WITHSCORES')
  for i = 1, #found, 2 do
    join(h, c, found[i])
    table.insert(memberships, found[i])
    table.insert(memberships, tostring(tonumber(found[i + 1]) - now))
  end
end
return memberships
)lua");
  return script;
}

// ARGV: P, connection
const std::string& unregister_connection() {
  static const std::string script = with_prelude(R"lua(
if unregister(ARGV[2]) then return 1 end
return 0
)lua");
  return script;
}

// ARGV: P, channel, envelope, hub, op (add|remove), subject (connection|user), id, group, ttl ms (user add)
const std::string& membership() {
  static const std::string script = with_prelude(R"lua(
local channel, envelope, h, op, subject, id, g = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local matched = 0
if subject == 'connection' then
  if redis.call('HGET', k_conn(id), 'hub') == h then
    matched = 1
    if op == 'add' then join(h, id, g) else leave(h, id, g) end
  end
else
  if op == 'add' then
    local ttl = tonumber(ARGV[9])
    if ttl > 0 then redis.call('ZADD', k_usergroups(h, id), now_ms() + ttl, g) end
  else
    redis.call('ZREM', k_usergroups(h, id), g)
  end
  for _, c in ipairs(redis.call('ZRANGE', k_user(h, id), 0, -1)) do
    matched = matched + 1
    if op == 'add' then join(h, c, g) else leave(h, c, g) end
  end
end
redis.call('PUBLISH', channel, envelope)
return matched
)lua");
  return script;
}

// ARGV: P, channel, envelope, hub, subject (connection|user), id
const std::string& remove_from_all_groups() {
  static const std::string script = with_prelude(R"lua(
local channel, envelope, h, subject, id = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local matched = 0
if subject == 'connection' then
  if redis.call('HGET', k_conn(id), 'hub') == h then
    matched = 1
    leave_all(h, id)
  end
else
  redis.call('DEL', k_usergroups(h, id))
  for _, c in ipairs(redis.call('ZRANGE', k_user(h, id), 0, -1)) do
    matched = matched + 1
    leave_all(h, c)
  end
end
redis.call('PUBLISH', channel, envelope)
return matched
)lua");
  return script;
}

// ARGV: P, gateway, lease ms. 0: renewed; 1: taken afresh (first, or Redis lost its data); 2: taken
// afresh after another gateway reaped us (its tombstone says so).
const std::string& renew_lease() {
  static const std::string script = with_prelude(R"lua(
local added = redis.call('ZADD', P .. ':gateways', now_ms() + tonumber(ARGV[3]), ARGV[2])
if added == 1 and redis.call('DEL', P .. ':reaped:' .. ARGV[2]) == 1 then return 2 end
return added
)lua");
  return script;
}

// ARGV: P. Claims one expired lease: removing it from the zset is the claim, so one gateway wins.
const std::string& reap_one() {
  static const std::string script = with_prelude(R"lua(
local dead = redis.call('ZRANGEBYSCORE', P .. ':gateways', '-inf', now_ms(), 'LIMIT', 0, 1)
if #dead == 0 then return {} end
local gw = dead[1]
redis.call('ZREM', P .. ':gateways', gw)
-- If it was only cut off, it finds this when it comes back, and drops the connections we reaped.
redis.call('SET', P .. ':reaped:' .. gw, 1, 'EX', 86400)
local out = {gw}
for _, c in ipairs(redis.call('SMEMBERS', k_gwconns(gw))) do
  local identity = redis.call('HGET', k_conn(c), 'identity')
  if unregister(c) and identity then table.insert(out, identity) end
end
redis.call('DEL', k_gwconns(gw))
return out
)lua");
  return script;
}

// ARGV: P, gateway
const std::string& leave() {
  static const std::string script = with_prelude(R"lua(
local gw = ARGV[2]
for _, c in ipairs(redis.call('SMEMBERS', k_gwconns(gw))) do unregister(c) end
redis.call('DEL', k_gwconns(gw))
redis.call('ZREM', P .. ':gateways', gw)
return 1
)lua");
  return script;
}

// ARGV: P, kind (connection|user|group|user_in_group), hub, id, group
const std::string& exists() {
  static const std::string script = with_prelude(R"lua(
local kind, h, id, g = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if kind == 'connection' then
  if redis.call('HGET', k_conn(id), 'hub') == h then return 1 end
  return 0
end
if kind == 'user' then return redis.call('EXISTS', k_user(h, id)) end
if kind == 'group' then return redis.call('EXISTS', k_group(h, g)) end
local expiry = redis.call('ZSCORE', k_usergroups(h, id), g)
if expiry and tonumber(expiry) > now_ms() then return 1 end
for _, c in ipairs(redis.call('ZRANGE', k_user(h, id), 0, -1)) do
  if redis.call('SISMEMBER', k_conngroups(c), g) == 1 then return 1 end
end
return 0
)lua");
  return script;
}

// ARGV: P, kind (connections|users), scope (all|group|user), hub, id, group, after, page limit.
// Connections: {count, id, user…}; users: {count, user, connection count…}; ids ascending, bytewise.
const std::string& list() {
  static const std::string script = with_prelude(R"lua(
local kind, scope, h, id, g, after, limit = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
local key
if scope == 'all' then
  if kind == 'connections' then key = k_hub(h, 'conns') else key = k_hub(h, 'users') end
elseif scope == 'group' then key = k_group(h, g)
else key = k_user(h, id) end
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
  return script;
}

}  // namespace sb::backplane::scripts
