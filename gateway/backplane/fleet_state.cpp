#include "backplane/fleet_state.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstdlib>
#include <optional>
#include <unordered_set>
#include <utility>

#include "backplane/identity_codec.hpp"
#include "backplane/redis_reply.hpp"
#include "backplane/redis_scripts.hpp"

namespace sb::backplane {
namespace {

namespace asio = boost::asio;

// Azure: a user membership without TTL lives at most a year (as hub_registry.cpp).
constexpr std::int64_t default_user_membership_ms = 365LL * 24 * 3600 * 1000;

// The reply of scripts::exists or scripts::list; nullopt when there is none to read.
std::optional<hub::ActionOutcome> parse_query_reply(const hub::QueryAction& q, const redis::Reply* reply) {
  if (!reply || reply->type == redis::Reply::Type::error) return std::nullopt;
  hub::ActionOutcome outcome;
  outcome.page_limit = q.page_limit;
  if (reply->type == redis::Reply::Type::integer) {
    outcome.matched = static_cast<std::size_t>(std::max<long long>(0, reply->integer));
    return outcome;
  }
  if (reply->type != redis::Reply::Type::array || reply->size() < 1 || reply->element(0)->type != redis::Reply::Type::integer)
    return std::nullopt;
  auto count = static_cast<std::size_t>(std::max<long long>(0, reply->element(0)->integer));
  const bool is_connections = q.kind == hub::QueryKind::list_connections;
  if (is_connections)
    outcome.matched = count;
  else
    outcome.distinct_user_count = count;
  for (std::size_t i = 1; i + 1 < reply->size(); i += 2) {
    hub::PresenceEntry entry;
    entry.id = std::string(reply_text(reply->element(i)));
    auto detail = std::string(reply_text(reply->element(i + 1)));
    if (is_connections) {
      entry.user_id = detail;
      entry.connection_count = 1;
    } else {
      entry.connection_count = static_cast<std::size_t>(std::strtoull(detail.c_str(), nullptr, 10));
      outcome.matched += entry.connection_count;
    }
    outcome.page.push_back(std::move(entry));
  }
  return outcome;
}

}  // namespace

FleetState::FleetState(const RedisKeys& keys, std::string gateway_id, std::shared_ptr<const FleetSignature> signature,
                       std::vector<InProcessBackplane::Shard> shards, asio::any_io_executor backplane,
                       std::shared_ptr<CommandQueue> queue)
    : keys_(keys),
      signature_(std::move(signature)),
      gateway_id_(std::move(gateway_id)),
      shards_(shards),
      local_(std::move(shards)),
      backplane_(std::move(backplane)),
      queue_(std::move(queue)) {}

RedisCommand FleetState::register_command(const connection::ConnectionIdentity& identity,
                                          const std::vector<std::string>& groups) {
  RedisCommand command;
  command.argv = scripts::register_connection(keys_, gateway_id_, identity.connection_id, identity.hub_key,
                                              identity.user_id, signature_->sign(encode_identity(identity)), groups);
  command.is_state_write = true;
  return command;
}

void FleetState::connection_opened(const connection::ConnectionIdentity& identity) {
  auto command = register_command(identity, identity.initial_groups);
  command.on_reply = [self = shared_from_this(), hub_key = identity.hub_key, user_id = identity.user_id](
                         const redis::Reply* reply) { self->apply_user_memberships(hub_key, user_id, reply); };
  queue_->submit(std::move(command), /*may_drop=*/false);
}

void FleetState::connection_closed(const std::string& connection_id) {
  RedisCommand command;
  command.argv = scripts::unregister_connection(keys_, connection_id);
  command.is_state_write = true;
  queue_->submit(std::move(command), /*may_drop=*/false);
}

void FleetState::connection_group_changed(const std::string& connection_id, const std::string& hub_key,
                                          const std::string& group, bool joined) {
  RedisCommand command;
  command.argv = scripts::connection_group(keys_, connection_id, hub_key, group, joined);
  command.is_state_write = true;
  queue_->submit(std::move(command), /*may_drop=*/false);
}

std::vector<std::string> FleetState::publish_command(const hub::SharedAction& action, FanoutAppend append) const {
  if (const auto* m = std::get_if<hub::MembershipAction>(action.get())) {
    std::int64_t ttl_ms = m->ttl ? m->ttl->count() * 1000 : default_user_membership_ms;
    return scripts::membership(keys_, *m, ttl_ms, std::move(append));
  }
  if (const auto* r = std::get_if<hub::RemoveFromAllGroupsAction>(action.get()))
    return scripts::remove_from_all_groups(keys_, *r, std::move(append));
  return std::move(append.command);
}

void FleetState::query(const hub::SharedAction& action, asio::any_io_executor reply_on, Backplane::Done done) {
  const auto& q = std::get<hub::QueryAction>(*action);
  const bool is_listing = q.kind == hub::QueryKind::list_connections || q.kind == hub::QueryKind::list_users;
  RedisCommand command;
  command.argv = is_listing ? scripts::list(keys_, q) : scripts::exists(keys_, q);
  command.on_reply = [self = shared_from_this(), action, reply_on, done](const redis::Reply* reply) mutable {
    auto outcome = parse_query_reply(std::get<hub::QueryAction>(*action), reply);
    // Redis went away meanwhile: this gateway's own answer is better than none.
    if (!outcome) return self->local_.publish(action, std::move(reply_on), std::move(done));
    asio::post(reply_on, [done = std::move(done), outcome = std::move(*outcome)] { done(outcome); });
  };
  queue_->submit(std::move(command), /*may_drop=*/false);
}

void FleetState::apply_user_memberships(const std::string& hub_key, const std::string& user_id,
                                        const redis::Reply* reply) {
  if (!reply || reply->type != redis::Reply::Type::array) return;
  for (std::size_t i = 0; i + 1 < reply->size(); i += 2) {
    hub::MembershipAction m;
    m.hub_key = hub_key;
    m.op = hub::MembershipOp::add;
    m.subject = hub::Scope::user;
    m.id = user_id;
    m.group = std::string(reply_text(reply->element(i)));
    auto remaining_ms = std::strtoll(std::string(reply_text(reply->element(i + 1))).c_str(), nullptr, 10);
    m.ttl = std::chrono::seconds(std::max<long long>(1, remaining_ms / 1000));
    local_.publish(std::make_shared<const hub::Action>(std::move(m)), {}, nullptr);
  }
}

void FleetState::take_snapshots(std::function<void(Snapshots)> done) {
  auto snapshots = std::make_shared<Snapshots>(shards_.size());
  auto remaining = std::make_shared<std::size_t>(shards_.size());
  auto finish = std::make_shared<std::function<void(Snapshots)>>(std::move(done));
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    asio::post(shards_[i].executor,
               [backplane = backplane_, registry = shards_[i].registry, snapshots, remaining, finish, i] {
                 auto snapshot = registry->snapshot();
                 asio::post(backplane, [snapshots, remaining, finish, i, snapshot = std::move(snapshot)]() mutable {
                   (*snapshots)[i] = std::move(snapshot);
                   if (--*remaining == 0) (*finish)(std::move(*snapshots));
                 });
               });
  }
}

std::size_t FleetState::write_back(const Snapshots& snapshots) {
  std::unordered_set<std::string> local_ids;
  for (const auto& s : snapshots)
    for (const auto& member : s.connections) local_ids.insert(member.identity.connection_id);
  RedisCommand listed;
  listed.argv = {"SMEMBERS", keys_.gateway_connections(gateway_id_)};
  listed.on_reply = [self = shared_from_this(), local_ids](const redis::Reply* reply) {
    if (!reply || reply->type != redis::Reply::Type::array) return;
    for (std::size_t i = 0; i < reply->size(); ++i) {
      std::string id(reply_text(reply->element(i)));
      if (!local_ids.count(id)) self->connection_closed(id);
    }
  };
  std::vector<RedisCommand> writes;
  for (const auto& s : snapshots) {
    for (const auto& member : s.connections) writes.push_back(register_command(member.identity, member.groups));
    for (const auto& m : s.user_memberships) {
      auto expires_ms = std::chrono::duration_cast<std::chrono::milliseconds>(m.expires_at.time_since_epoch()).count();
      RedisCommand command;
      command.argv = {"ZADD", keys_.user_groups(m.hub_key, m.user_id), "GT", std::to_string(expires_ms), m.group};
      command.is_state_write = true;
      writes.push_back(std::move(command));
    }
  }
  queue_->send_now(std::move(listed));
  for (auto& command : writes) queue_->send_now(std::move(command));
  return local_ids.size();
}

}  // namespace sb::backplane
