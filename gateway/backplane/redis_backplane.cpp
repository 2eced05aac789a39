#include "backplane/redis_backplane.hpp"

#include <hiredis/hiredis.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>
#include <utility>

#include "backplane/envelope.hpp"
#include "backplane/redis_keys.hpp"
#include "backplane/redis_link.hpp"
#include "backplane/redis_scripts.hpp"
#include "backplane/sequence_tracker.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/log_throttle.hpp"
#include "common/metrics.hpp"

namespace sb::backplane {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::system_clock;

// Azure: a user membership without TTL lives at most a year (as hub_registry.cpp).
constexpr std::int64_t default_user_membership_ms = 365LL * 24 * 3600 * 1000;
constexpr auto first_backoff = std::chrono::milliseconds(100);

// What a reaper needs to send `disconnected` for a connection of a dead gateway.
std::string identity_json(const connection::ConnectionIdentity& identity) {
  nlohmann::json claims = nlohmann::json::array();
  for (const auto& [type, value] : identity.claims) claims.push_back({type, value});
  nlohmann::json doc{{"connectionId", identity.connection_id}, {"hub", identity.hub},     {"hubKey", identity.hub_key},
                     {"userId", identity.user_id},             {"claims", claims},         {"query", identity.client_query}};
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<connection::ConnectionIdentity> parse_identity(std::string_view text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object()) return std::nullopt;
  auto text_of = [&](const char* key) {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  connection::ConnectionIdentity identity;
  identity.connection_id = text_of("connectionId");
  identity.hub = text_of("hub");
  identity.hub_key = text_of("hubKey");
  identity.user_id = text_of("userId");
  identity.client_query = text_of("query");
  if (auto claims = doc.find("claims"); claims != doc.end() && claims->is_array())
    for (const auto& pair : *claims)
      if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string())
        identity.claims.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  if (identity.connection_id.empty() || identity.hub.empty()) return std::nullopt;
  return identity;
}

std::string_view reply_text(const redisReply* reply) {
  if (!reply || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS &&
                 reply->type != REDIS_REPLY_ERROR))
    return {};
  return {reply->str, reply->len};
}

std::optional<long long> reply_integer(const redisReply* reply) {
  if (!reply || reply->type != REDIS_REPLY_INTEGER) return std::nullopt;
  return reply->integer;
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

}  // namespace

class RedisBackplane::Core : public std::enable_shared_from_this<Core> {
 public:
  Core(const config::RedisConfig& config, std::vector<InProcessBackplane::Shard> shards, OrphanHandler on_orphan)
      : config_(config),
        keys_(config.key_prefix),
        gateway_id_(random_id()),
        shards_(shards),
        local_(std::move(shards)),
        on_orphan_(std::move(on_orphan)),
        work_(io_.get_executor()),
        reconnect_timer_(io_),
        tick_timer_(io_),
        hold_timer_(io_) {}

  asio::io_context io_;
  std::atomic<bool> is_degraded_{true};

  const std::string& gateway_id() const { return gateway_id_; }
  InProcessBackplane& local() { return local_; }

  void run() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {  // a bug: keep the backplane serving (gateway.cpp's run_loop)
        metrics().handler_exceptions.inc();
        log::error("backplane", "handler_exception", {{"what", e.what()}});
      }
    }
  }

  void start() {
    log::info("backplane", "redis_starting",
              {{"host", config_.endpoint.host}, {"port", config_.endpoint.port}, {"gateway", gateway_id_}});
    connect();
    do_tick();
  }

  // Runs on the backplane thread. Leaves the fleet, then lets io_.run() return.
  void leave(std::function<void()> done) {
    is_stopping_ = true;
    reconnect_timer_.cancel();
    tick_timer_.cancel();
    hold_timer_.cancel();
    auto finish = [self = shared_from_this(), done = std::move(done)] {
      if (self->cmd_) self->cmd_->close();
      if (self->sub_) self->sub_->close();
      self->work_.reset();
      done();
    };
    if (state_ != State::up || !cmd_) return finish();
    bool sent = cmd_->command({"EVAL", scripts::leave(), "0", keys_.prefix(), gateway_id_},
                              [finish](const redisReply*) { finish(); });
    if (!sent) finish();
  }

  // --- From the shards (posted here) ------------------------------------------------------------

  void publish_remote(const hub::SharedAction& action, std::function<void(std::optional<long long>)> on_matched) {
    if (is_stopping_) {
      if (on_matched) on_matched(std::nullopt);
      return;
    }
    const auto sequence = ++last_sequence_;
    auto envelope = encode_envelope(ActionEnvelope{gateway_id_, sequence, action});
    Command command;
    if (const auto* m = std::get_if<hub::MembershipAction>(action.get())) {
      std::int64_t ttl_ms = m->ttl ? m->ttl->count() * 1000 : default_user_membership_ms;
      command.argv = {"EVAL", scripts::membership(), "0", keys_.prefix(), keys_.actions_channel(), std::move(envelope),
                      m->hub_key, m->op == hub::MembershipOp::add ? "add" : "remove", scope_name(m->subject), m->id,
                      m->group, std::to_string(ttl_ms)};
    } else if (const auto* r = std::get_if<hub::RemoveFromAllGroupsAction>(action.get())) {
      command.argv = {"EVAL", scripts::remove_from_all_groups(), "0", keys_.prefix(), keys_.actions_channel(),
                      std::move(envelope), r->hub_key, scope_name(r->subject), r->id};
    } else {
      command.argv = {"PUBLISH", keys_.actions_channel(), std::move(envelope)};
    }
    command.retries_on_loss = true;  // receivers drop the repeat by its sequence number
    if (on_matched) {
      // While Redis is away the caller does not wait for it: queued is accepted, answered from here.
      if (state_ != State::up) on_matched(std::nullopt);
      else command.on_reply = [on_matched](const redisReply* reply) { on_matched(reply_integer(reply)); };
    }
    metrics().backplane_published.inc();
    submit(std::move(command), /*may_drop=*/true);
  }

  void query(const hub::SharedAction& action, asio::any_io_executor reply_on, Done done) {
    if (state_ != State::up) return local_.publish(action, std::move(reply_on), std::move(done));
    const auto& q = std::get<hub::QueryAction>(*action);
    Command command;
    if (q.kind == hub::QueryKind::list_connections || q.kind == hub::QueryKind::list_users) {
      const bool is_connections = q.kind == hub::QueryKind::list_connections;
      command.argv = {"EVAL", scripts::list(), "0", keys_.prefix(), is_connections ? "connections" : "users",
                      scope_name(q.scope), q.hub_key, q.id, q.group, q.after, std::to_string(q.page_limit)};
    } else {
      const char* kind = q.kind == hub::QueryKind::connection_exists ? "connection"
                         : q.kind == hub::QueryKind::user_exists     ? "user"
                         : q.kind == hub::QueryKind::group_exists    ? "group"
                                                                     : "user_in_group";
      command.argv = {"EVAL", scripts::exists(), "0", keys_.prefix(), kind, q.hub_key, q.id, q.group};
    }
    command.on_reply = [self = shared_from_this(), action, reply_on, done](const redisReply* reply) mutable {
      auto outcome = parse_query_reply(std::get<hub::QueryAction>(*action), reply);
      // Redis went away meanwhile: this gateway's own answer is better than none.
      if (!outcome) return self->local_.publish(action, std::move(reply_on), std::move(done));
      asio::post(reply_on, [done = std::move(done), outcome = std::move(*outcome)] { done(outcome); });
    };
    submit(std::move(command), /*may_drop=*/false);
  }

  void connection_opened(connection::ConnectionIdentity identity) {
    if (state_ == State::down || is_stopping_) return;  // the resync after reconnecting writes it
    Command command;
    command.argv = {"EVAL", scripts::register_connection(), "0", keys_.prefix(), gateway_id_, identity.connection_id,
                    identity.hub_key, identity.user_id, identity_json(identity),
                    std::to_string(identity.initial_groups.size())};
    for (const auto& g : identity.initial_groups) command.argv.push_back(g);
    command.is_state_write = true;
    command.on_reply = [self = shared_from_this(), hub_key = identity.hub_key, user_id = identity.user_id](
                           const redisReply* reply) { self->apply_user_memberships(hub_key, user_id, reply); };
    submit(std::move(command), /*may_drop=*/false);
  }

  void connection_closed(const std::string& connection_id) {
    if (state_ == State::down) return;
    Command command;
    command.argv = {"EVAL", scripts::unregister_connection(), "0", keys_.prefix(), connection_id};
    command.is_state_write = true;
    submit(std::move(command), /*may_drop=*/false);
  }

 private:
  // down: no usable link (waiting to reconnect); connecting: links being made; syncing: links up, our
  // state being written back; up: in sync, commands flow.
  enum class State { down, connecting, syncing, up };

  struct Command {
    std::vector<std::string> argv;
    std::function<void(const redisReply*)> on_reply;  // called once: the reply, or nullptr if none will come
    bool is_state_write = false;   // dropped when the link is lost: the resync rewrites state anyway
    bool retries_on_loss = false;  // sent again after a reconnect if its reply never came
    bool is_droppable = false;     // an action or heartbeat: counts against max_queue_bytes
    std::size_t bytes() const {
      std::size_t n = 0;
      for (const auto& a : argv) n += a.size();
      return n;
    }
  };

  static std::optional<hub::ActionOutcome> parse_query_reply(const hub::QueryAction& q, const redisReply* reply) {
    if (!reply || reply->type == REDIS_REPLY_ERROR) return std::nullopt;
    hub::ActionOutcome outcome;
    outcome.page_limit = q.page_limit;
    if (reply->type == REDIS_REPLY_INTEGER) {
      outcome.matched = static_cast<std::size_t>(std::max<long long>(0, reply->integer));
      return outcome;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 || reply->element[0]->type != REDIS_REPLY_INTEGER)
      return std::nullopt;
    auto count = static_cast<std::size_t>(std::max<long long>(0, reply->element[0]->integer));
    const bool is_connections = q.kind == hub::QueryKind::list_connections;
    if (is_connections) outcome.matched = count;
    else outcome.distinct_user_count = count;
    for (std::size_t i = 1; i + 1 < reply->elements; i += 2) {
      hub::PresenceEntry entry;
      entry.id = std::string(reply_text(reply->element[i]));
      auto detail = std::string(reply_text(reply->element[i + 1]));
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

  // The user's memberships that Redis knows (registered by any gateway, maybe before this one started)
  // apply to its connections here too.
  void apply_user_memberships(const std::string& hub_key, const std::string& user_id, const redisReply* reply) {
    if (!reply || reply->type != REDIS_REPLY_ARRAY) return;
    for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
      hub::MembershipAction m;
      m.hub_key = hub_key;
      m.op = hub::MembershipOp::add;
      m.subject = hub::Scope::user;
      m.id = user_id;
      m.group = std::string(reply_text(reply->element[i]));
      auto remaining_ms = std::strtoll(std::string(reply_text(reply->element[i + 1])).c_str(), nullptr, 10);
      m.ttl = std::chrono::seconds(std::max<long long>(1, remaining_ms / 1000));
      local_.publish(std::make_shared<const hub::Action>(std::move(m)), {}, nullptr);
    }
  }

  // --- The command queue -------------------------------------------------------------------------

  // Every command goes through here, so replies match commands in order (hiredis answers in order).
  // Past max_queue_bytes an action is dropped (its sequence number stays used: receivers see the gap).
  void submit(Command command, bool may_drop) {
    const auto bytes = command.bytes();
    if (may_drop && droppable_bytes_ + bytes > config_.max_queue_bytes) {
      metrics().backplane_dropped.inc();
      if (drop_log_.admit(std::chrono::steady_clock::now()))
        log::warn("backplane", "queue_full", {{"queued_bytes", queued_bytes_}, {"limit", config_.max_queue_bytes}});
      if (command.on_reply) command.on_reply(nullptr);
      return;
    }
    command.is_droppable = may_drop;
    count(command);
    pending_.push_back(std::move(command));
    metrics().backplane_queue_bytes.set(static_cast<std::int64_t>(queued_bytes_));
    flush();
  }

  void flush() {
    while (state_ == State::up && !is_holding_ && !pending_.empty() && in_flight_bytes_ < config_.max_queue_bytes) {
      auto command = std::move(pending_.front());
      pending_.pop_front();
      issue(std::move(command));
    }
  }

  // State writes are not bounded here: while Redis is down they are not queued at all (the resync
  // writes the state back), so the bound is on what the fleet is owed, the actions.
  void count(const Command& command) {
    queued_bytes_ += command.bytes();
    if (command.is_droppable) droppable_bytes_ += command.bytes();
  }
  void uncount(const Command& command) {
    queued_bytes_ -= command.bytes();
    if (command.is_droppable) droppable_bytes_ -= command.bytes();
  }

  // Sends a command already counted in queued_bytes_.
  void issue(Command command) {
    auto argv = command.argv;
    const auto bytes = command.bytes();
    in_flight_bytes_ += bytes;
    in_flight_.push_back(std::move(command));
    bool sent = cmd_ && cmd_->command(argv, [weak = weak_from_this()](const redisReply* reply) {
      if (auto self = weak.lock()) self->on_command_reply(reply);
    });
    if (sent) return;
    // The link is unusable (it is going down): treat it as lost, as hiredis would have.
    auto unsent = std::move(in_flight_.back());
    in_flight_.pop_back();
    in_flight_bytes_ -= bytes;
    if (unsent.on_reply) std::exchange(unsent.on_reply, nullptr)(nullptr);
    if (unsent.retries_on_loss) lost_.push_back(std::move(unsent));
    else uncount(unsent);
  }

  // Sends a command now, ahead of the queue (lease renewals, the resync).
  void issue_now(Command command) {
    count(command);
    issue(std::move(command));
  }

  void on_command_reply(const redisReply* reply) {
    if (in_flight_.empty()) return;
    auto command = std::move(in_flight_.front());
    in_flight_.pop_front();
    const auto bytes = command.bytes();
    in_flight_bytes_ -= bytes;
    if (reply && reply->type == REDIS_REPLY_ERROR)
      log::warn("backplane", "redis_error", {{"command", command.argv.front()}, {"error", log::sample(reply_text(reply))}});
    if (command.on_reply) {
      auto on_reply = std::move(command.on_reply);
      command.on_reply = nullptr;
      on_reply(reply);
    }
    if (!reply && command.retries_on_loss) {
      lost_.push_back(std::move(command));  // requeued, in order, when the link is declared down
    } else {
      uncount(command);
    }
    metrics().backplane_queue_bytes.set(static_cast<std::int64_t>(queued_bytes_));
    if (reply) flush();
  }

  // --- Links, sync, ticks -------------------------------------------------------------------------

  void connect() {
    if (is_stopping_) return;
    state_ = State::connecting;
    is_cmd_up_ = is_subscribed_ = false;
    cmd_ = std::make_shared<RedisLink>(io_, config_.endpoint);
    sub_ = std::make_shared<RedisLink>(io_, config_.endpoint);
    auto weak = weak_from_this();
    auto down = [weak](const std::string& reason) {
      if (auto self = weak.lock()) self->on_link_down(reason);
    };
    cmd_->connect(config_.connect_timeout, [weak] {
      if (auto self = weak.lock()) {
        self->is_cmd_up_ = true;
        self->maybe_sync();
      }
    }, down);
    sub_->connect(config_.connect_timeout, [weak] {
      auto self = weak.lock();
      if (!self) return;
      self->sub_->subscribe(self->keys_.actions_channel(), [weak](const redisReply* reply) {
        if (auto s = weak.lock()) s->on_channel_reply(reply);
      });
    }, down);
  }

  void on_link_down(const std::string& reason) {
    if (state_ == State::down || is_stopping_) return;
    const bool was_up = state_ == State::up || state_ == State::syncing;
    state_ = State::down;
    is_holding_ = false;
    hold_timer_.cancel();
    is_degraded_ = true;
    metrics().backplane_redis_up.set(0);
    if (was_up || down_log_.admit(std::chrono::steady_clock::now()))
      log::warn("backplane", "redis_down", {{"reason", reason}, {"retry_ms", backoff_.count()}});
    // Closing a link runs its pending handlers with nullptr: the lost commands collect in lost_.
    if (cmd_) cmd_->close();
    if (sub_) sub_->close();
    while (!in_flight_.empty()) on_command_reply(nullptr);
    in_flight_bytes_ = 0;
    // Send again what never got an answer, first and in order; state writes are left to the resync.
    std::deque<Command> requeued;
    for (auto& command : lost_)
      if (!command.is_state_write) requeued.push_back(std::move(command));
      else uncount(command);
    lost_.clear();
    for (auto& command : pending_)
      if (!command.is_state_write) requeued.push_back(std::move(command));
      else uncount(command);
    pending_ = std::move(requeued);
    metrics().backplane_queue_bytes.set(static_cast<std::int64_t>(queued_bytes_));

    reconnect_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, config_.max_backoff);
    reconnect_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->connect();
    });
  }

  void on_channel_reply(const redisReply* reply) {
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
    auto kind = reply_text(reply->element[0]);
    if (kind == "subscribe") {
      is_subscribed_ = true;
      return maybe_sync();
    }
    if (kind != "message") return;
    auto payload = reply_text(reply->element[2]);
    auto envelope = decode_envelope(payload);
    if (!envelope) {
      metrics().backplane_invalid.inc();
      if (invalid_log_.admit(std::chrono::steady_clock::now()))
        log::warn("backplane", "invalid_envelope", {{"error", envelope.error().message}, {"sample", log::sample(payload)}});
      return;
    }
    if (auto* heartbeat = std::get_if<HeartbeatEnvelope>(&*envelope)) {
      if (heartbeat->publisher == gateway_id_) return;
      auto seen = tracker_.on_heartbeat(heartbeat->publisher, heartbeat->last_sequence);
      if (seen.verdict == SequenceVerdict::gap) on_gap(heartbeat->publisher, seen.missed);
      return;
    }
    auto& action = std::get<ActionEnvelope>(*envelope);
    if (action.publisher == gateway_id_) return;  // ran here when it was published
    auto seen = tracker_.on_action(action.publisher, action.sequence);
    if (seen.verdict == SequenceVerdict::duplicate) return;
    if (seen.verdict == SequenceVerdict::gap) on_gap(action.publisher, seen.missed);
    metrics().backplane_received.inc();
    local_.publish(std::move(action.action), {}, nullptr);
  }

  // Messages from `publisher` were lost on their way here: any connection of ours may have missed one,
  // so each is closed with allowReconnect, never left silently short of messages.
  void on_gap(const std::string& publisher, std::uint64_t missed) {
    metrics().backplane_gaps.inc();
    log::warn("backplane", "sequence_gap", {{"publisher", publisher}, {"missed", missed}});
    close_every_connection("backplane_gap");
  }

  void close_every_connection(const char* reason) {
    for (const auto& shard : shards_)
      asio::post(shard.executor, [registry = shard.registry, reason] {
        registry->close_every_connection(
            {reason, "Messages between gateways may have been lost; reconnect to continue.", true});
      });
  }

  void maybe_sync() {
    if (state_ != State::connecting || !is_cmd_up_ || !is_subscribed_) return;
    state_ = State::syncing;
    renew_lease();
    // Take every shard's snapshot, then write it back.
    auto snapshots = std::make_shared<std::vector<hub::HubRegistry::Snapshot>>(shards_.size());
    auto remaining = std::make_shared<std::size_t>(shards_.size());
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      asio::post(shards_[i].executor, [self = shared_from_this(), registry = shards_[i].registry, snapshots, remaining, i] {
        auto snapshot = registry->snapshot();
        asio::post(self->io_, [self, snapshots, remaining, i, snapshot = std::move(snapshot)]() mutable {
          (*snapshots)[i] = std::move(snapshot);
          if (--*remaining == 0) self->resync(*snapshots);
        });
      });
    }
  }

  // Redis may have lost our state (restarted) or kept some that is stale (connections that closed
  // while we were away): remove what is no longer ours, write back what is.
  void resync(const std::vector<hub::HubRegistry::Snapshot>& snapshots) {
    if (state_ != State::syncing) return;
    std::unordered_set<std::string> local_ids;
    for (const auto& s : snapshots)
      for (const auto& member : s.connections) local_ids.insert(member.identity.connection_id);
    Command listed;
    listed.argv = {"SMEMBERS", keys_.gateway_connections(gateway_id_)};
    listed.on_reply = [self = shared_from_this(), local_ids](const redisReply* reply) {
      if (!reply || reply->type != REDIS_REPLY_ARRAY) return;
      for (std::size_t i = 0; i < reply->elements; ++i) {
        std::string id(reply_text(reply->element[i]));
        if (!local_ids.count(id)) self->connection_closed(id);
      }
    };
    std::vector<Command> writes;
    for (const auto& s : snapshots) {
      for (const auto& member : s.connections) {
        Command command;
        const auto& identity = member.identity;
        command.argv = {"EVAL", scripts::register_connection(), "0", keys_.prefix(), gateway_id_,
                        identity.connection_id, identity.hub_key, identity.user_id, identity_json(identity),
                        std::to_string(member.groups.size())};
        for (const auto& g : member.groups) command.argv.push_back(g);
        command.is_state_write = true;
        writes.push_back(std::move(command));
      }
      for (const auto& m : s.user_memberships) {
        auto expires_ms = std::chrono::duration_cast<std::chrono::milliseconds>(m.expires_at.time_since_epoch()).count();
        Command command;
        command.argv = {"ZADD", keys_.user_groups(m.hub_key, m.user_id), "GT", std::to_string(expires_ms), m.group};
        command.is_state_write = true;
        writes.push_back(std::move(command));
      }
    }
    // Ahead of anything queued meanwhile: these describe the past, the queue the present.
    state_ = State::up;
    issue_now(std::move(listed));
    for (auto& command : writes) issue_now(std::move(command));
    backoff_ = first_backoff;
    log::info("backplane", "redis_in_sync", {{"gateway", gateway_id_}, {"connections", local_ids.size()}});
    // Actions held through the outage wait until the gateways we know of listen again: after Redis
    // restarts they resubscribe one by one, and one that is a moment late would miss them (and see a gap).
    is_holding_ = true;
    await_listeners(std::chrono::steady_clock::now() + config_.lease);
  }

  void await_listeners(std::chrono::steady_clock::time_point deadline) {
    if (state_ != State::up) return;
    const auto expected = tracker_.publisher_count() + 1;
    Command command;
    command.argv = {"PUBSUB", "NUMSUB", keys_.actions_channel()};
    command.on_reply = [self = shared_from_this(), deadline, expected](const redisReply* reply) {
      if (!reply || self->state_ != State::up) return;
      long long listening = 0;
      if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
        listening = reply_integer(reply->element[1]).value_or(0);
      if (listening >= static_cast<long long>(expected) || std::chrono::steady_clock::now() >= deadline)
        return self->release_hold();
      self->hold_timer_.expires_after(std::chrono::milliseconds(50));
      self->hold_timer_.async_wait([weak = self->weak_from_this(), deadline](boost::system::error_code ec) {
        if (auto s = weak.lock(); s && !ec) s->await_listeners(deadline);
      });
    };
    issue_now(std::move(command));
  }

  void release_hold() {
    is_holding_ = false;
    is_degraded_ = false;
    metrics().backplane_redis_up.set(1);
    flush();
  }

  void renew_lease() {
    Command command;
    command.argv = {"EVAL", scripts::renew_lease(), "0", keys_.prefix(), gateway_id_,
                    std::to_string(config_.lease.count())};
    command.on_reply = [self = shared_from_this()](const redisReply* reply) {
      auto added = reply_integer(reply);
      if (!added) return;
      if (*added == 2) {
        // Another gateway took us for dead and sent `disconnected` for our connections: they must
        // start afresh, or the function would see messages from connections it was told are gone.
        metrics().backplane_lease_lost.inc();
        log::warn("backplane", "lease_lost", {{"gateway", self->gateway_id_}});
        self->close_every_connection("lease_lost");
      }
    };
    // Straight to the link, ahead of the queue: a long queue must not let the lease lapse.
    issue_now(std::move(command));
  }

  // Every third of a lease: renew ours, tell the others how far our sequence got, reap the dead.
  void do_tick() {
    tick_timer_.expires_after(std::max(config_.lease / 3, std::chrono::milliseconds(100)));
    tick_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (!self || ec) return;
      self->on_tick();
      self->do_tick();
    });
  }

  void on_tick() {
    if (state_ != State::up) return;
    renew_lease();
    Command heartbeat;
    heartbeat.argv = {"PUBLISH", keys_.actions_channel(),
                      encode_envelope(HeartbeatEnvelope{gateway_id_, last_sequence_})};
    submit(std::move(heartbeat), /*may_drop=*/true);
    reap();
  }

  void reap() {
    Command command;
    command.argv = {"EVAL", scripts::reap_one(), "0", keys_.prefix()};
    command.on_reply = [self = shared_from_this()](const redisReply* reply) {
      if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) return;
      std::string dead(reply_text(reply->element[0]));
      self->tracker_.forget(dead);
      log::info("backplane", "gateway_reaped", {{"gateway", dead}, {"connections", reply->elements - 1}});
      for (std::size_t i = 1; i < reply->elements; ++i) {
        auto identity = parse_identity(reply_text(reply->element[i]));
        if (!identity) continue;
        metrics().backplane_reaped.inc();
        if (self->on_orphan_) self->on_orphan_(std::move(*identity));
      }
      self->reap();  // another may be dead too
    };
    submit(std::move(command), /*may_drop=*/false);
  }

  const config::RedisConfig& config_;
  RedisKeys keys_;
  std::string gateway_id_;
  std::vector<InProcessBackplane::Shard> shards_;
  InProcessBackplane local_;
  OrphanHandler on_orphan_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer reconnect_timer_;
  asio::steady_timer tick_timer_;
  asio::steady_timer hold_timer_;

  State state_ = State::down;
  bool is_stopping_ = false;
  bool is_holding_ = false;  // in sync, but the queue waits for the fleet to listen (await_listeners)
  bool is_cmd_up_ = false;
  bool is_subscribed_ = false;
  std::chrono::milliseconds backoff_ = first_backoff;
  std::shared_ptr<RedisLink> cmd_;
  std::shared_ptr<RedisLink> sub_;

  std::deque<Command> pending_;    // not sent yet
  std::deque<Command> in_flight_;  // sent, reply awaited (hiredis replies in order)
  std::deque<Command> lost_;       // sent, link lost before the reply: requeued on reconnect
  std::size_t queued_bytes_ = 0;     // pending_ + in_flight_ + lost_
  std::size_t droppable_bytes_ = 0;  // the actions and heartbeats among them: what max_queue_bytes bounds
  std::size_t in_flight_bytes_ = 0;
  std::uint64_t last_sequence_ = 0;
  SequenceTracker tracker_;
  log::LogThrottle drop_log_{std::chrono::seconds(5)};
  log::LogThrottle down_log_{std::chrono::seconds(30)};
  log::LogThrottle invalid_log_{std::chrono::seconds(5)};
};

RedisBackplane::RedisBackplane(const config::RedisConfig& config, std::vector<InProcessBackplane::Shard> shards,
                               OrphanHandler on_orphan)
    : core_(std::make_shared<Core>(config, std::move(shards), std::move(on_orphan))) {}

RedisBackplane::~RedisBackplane() {
  if (thread_.joinable()) stop(std::chrono::milliseconds(0));
}

void RedisBackplane::start() {
  asio::post(core_->io_, [core = core_] { core->start(); });
  thread_ = std::thread([core = core_] { core->run(); });
}

void RedisBackplane::stop(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return;
  auto left = std::make_shared<std::promise<void>>();
  auto future = left->get_future();
  asio::post(core_->io_, [core = core_, left] { core->leave([left] { left->set_value(); }); });
  if (future.wait_for(timeout) != std::future_status::ready) log::warn("backplane", "leave_timeout", {});
  core_->io_.stop();
  thread_.join();
}

void RedisBackplane::publish(hub::SharedAction action, asio::any_io_executor reply_on, Done done) {
  if (std::holds_alternative<hub::QueryAction>(*action)) {
    asio::post(core_->io_, [core = core_, action = std::move(action), reply_on = std::move(reply_on),
                            done = std::move(done)]() mutable { core->query(action, std::move(reply_on), std::move(done)); });
    return;
  }
  // This gateway's shards run it now, in the caller's order; the fleet gets it through Redis, in the
  // same order (one thread posts to the backplane thread, which sends in order on one link).
  if (!done) {
    core_->local().publish(action, {}, nullptr);
    asio::post(core_->io_, [core = core_, action = std::move(action)] { core->publish_remote(action, nullptr); });
    return;
  }
  // Both halves report on the backplane thread; the last one answers the caller.
  struct Gather {
    std::size_t remaining = 2;
    hub::ActionOutcome local;
    std::optional<long long> fleet_matched;  // membership changes: Redis knows the whole fleet
    asio::any_io_executor reply_on;
    Done done;
    void finish_one() {
      if (--remaining != 0) return;
      if (fleet_matched) local.matched = static_cast<std::size_t>(std::max<long long>(0, *fleet_matched));
      asio::post(reply_on, [done = std::move(done), outcome = std::move(local)] { done(outcome); });
    }
  };
  auto gather = std::make_shared<Gather>();
  gather->reply_on = std::move(reply_on);
  gather->done = std::move(done);
  core_->local().publish(action, core_->io_.get_executor(), [gather](hub::ActionOutcome outcome) {
    gather->local = std::move(outcome);
    gather->finish_one();
  });
  asio::post(core_->io_, [core = core_, action = std::move(action), gather] {
    core->publish_remote(action, [gather](std::optional<long long> matched) {
      gather->fleet_matched = matched;
      gather->finish_one();
    });
  });
}

void RedisBackplane::connection_opened(const connection::ConnectionIdentity& identity) {
  asio::post(core_->io_, [core = core_, identity] { core->connection_opened(identity); });
}

void RedisBackplane::connection_closed(const connection::ConnectionIdentity& identity) {
  asio::post(core_->io_, [core = core_, id = identity.connection_id] { core->connection_closed(id); });
}

bool RedisBackplane::is_degraded() const { return core_->is_degraded_.load(std::memory_order_relaxed); }

}  // namespace sb::backplane
