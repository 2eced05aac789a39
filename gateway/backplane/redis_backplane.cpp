#include "backplane/redis_backplane.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "backplane/backplane_log.hpp"
#include "backplane/command_queue.hpp"
#include "backplane/envelope.hpp"
#include "backplane/fleet_state.hpp"
#include "backplane/handoff_state.hpp"
#include "backplane/lease_keeper.hpp"
#include "backplane/pubsub_fanout.hpp"
#include "backplane/redis_keys.hpp"
#include "backplane/redis_link.hpp"
#include "backplane/redis_reply.hpp"
#include "backplane/redis_scripts.hpp"
#include "backplane/refused_message.hpp"
#include "backplane/fleet_signature.hpp"
#include "backplane/request_relay.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/log_throttle.hpp"
#include "common/metrics.hpp"
#include "fleet_log/stream_fanout.hpp"
#include "tls_client/client_tls_context.hpp"

namespace sb::backplane {
namespace {

namespace asio = boost::asio;

constexpr auto first_backoff = std::chrono::milliseconds(100);
// A resume replays at most this many log entries (a connection's state older than that is refused).
constexpr std::size_t max_replay_entries = 200'000;

}  // namespace

// Ties the parts together on the backplane thread: the two links to Redis and their state (connect with
// back-off, resync, hold, in sync), and the tick. Its parts: the command queue (command_queue.hpp), the
// fan-out (fanout_log.hpp), this gateway's state in Redis (fleet_state.hpp), and the lease and reaper
// (lease_keeper.hpp). They reach it back through events holding a weak_ptr.
class RedisBackplane::Core : public std::enable_shared_from_this<Core> {
 public:
  static std::shared_ptr<Core> create(const config::RedisConfig& config, const std::vector<std::string>& access_keys,
                                      std::chrono::milliseconds reconnect_window,
                                      std::vector<InProcessBackplane::Shard> shards, OrphanHandler on_orphan) {
    auto core = std::make_shared<Core>(config, access_keys, reconnect_window, std::move(shards), std::move(on_orphan));
    core->make_parts();
    return core;
  }

  // Use create(): the parts need a weak_ptr to this.
  Core(const config::RedisConfig& config, const std::vector<std::string>& access_keys,
       std::chrono::milliseconds reconnect_window, std::vector<InProcessBackplane::Shard> shards,
       OrphanHandler on_orphan)
      : is_ordered_log_(config.fleet_log),
        config_(config),
        signature_(std::make_shared<const FleetSignature>(access_keys, config.fleet_signing)),
        reconnect_window_(reconnect_window),
        keys_(config.key_prefix),
        gateway_id_(random_id()),
        shards_(shards),
        local_(std::move(shards)),
        on_orphan_(std::move(on_orphan)),
        work_(io_.get_executor()),
        reconnect_timer_(io_),
        tick_timer_(io_),
        queue_(std::make_shared<CommandQueue>(config.max_queue_bytes)) {}

  asio::io_context io_;
  std::atomic<bool> is_degraded_{true};
  std::atomic<std::uint64_t> resyncs_{0};

  // This gateway numbers its actions as it runs them on its shards and hands them to the backplane
  // thread, under one lock: every shard runs them in that order, and Redis gets them in it. A handoff
  // reads its positions under the same lock (serve_relayed), so the number it reports for this
  // gateway splits its actions into those the connection's shard ran before and after.
  std::mutex order_mutex_;
  std::uint64_t last_sequence_ = 0;
  std::shared_ptr<const std::string> self_name_;  // gateway_id_, shared by every origin (set in make_parts)

  // The fleet log: while Redis is in sync, this gateway's own actions run when they come back from the
  // log, in its order, like everyone else's (stream_fanout.hpp). Until then they wait here, in order.
  // While Redis is away they run at once (runs_own_on_read_ false), and those that come back later are
  // skipped by their number (own_applied_). Under order_mutex_.
  struct PendingOwn {
    std::uint64_t sequence;
    hub::SharedAction action;
    Done done;  // the local half of a publish that reports its outcome
  };
  bool runs_own_on_read_ = false;
  std::deque<PendingOwn> pending_own_;
  std::uint64_t own_applied_ = 0;
  const bool is_ordered_log_;

  InProcessBackplane& local() { return local_; }

  void run() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {  // a bug: keep the backplane serving (gateway.cpp's run_loop)
        metrics().handler_exceptions.inc();
        log::emit(log_events::handler_exception, {{"what", e.what()}});
      }
    }
  }

  std::optional<std::string> prepare() {
    auto target = std::make_shared<RedisTarget>();
    const auto& e = config_.endpoint;
    target->connection = {e.host, e.port, e.username, e.password, e.database, nullptr, false};
    if (e.tls) {
      auto tls = tls_client::ClientTlsContext::create({config_.tls_ca, config_.tls_cert, config_.tls_key, "redis"});
      if (!tls) return tls.error().message;
      target->connection.tls = std::move(tls).value();
    }
    for (const auto& s : config_.sentinels) target->sentinel.sentinels.push_back({s.host, s.port});
    target->sentinel.master_name = config_.sentinel_master;
    target->sentinel.password = config_.sentinel_password;
    target->sentinel.tls = target->connection.tls;  // sentinels speak what the servers speak
    target_ = std::move(target);
    return std::nullopt;
  }

  void start() {
    // Never the credentials: where, and how.
    log::emit(log_events::redis_starting,
              {{"host", config_.sentinels.empty() ? config_.endpoint.host : "(from sentinels)"},
               {"port", config_.sentinels.empty() ? config_.endpoint.port : 0},
               {"tls", config_.endpoint.tls},
               {"auth", config_.endpoint.password.empty() ? "none" : config_.endpoint.username.empty() ? "password" : "acl user"},
               {"sentinels", config_.sentinels.size()},
               {"gateway", gateway_id_}});
    connect();
    do_tick();
  }

  // Runs on the backplane thread. Leaves the fleet, then lets io_.run() return.
  void leave(std::function<void()> done) {
    is_stopping_ = true;
    reconnect_timer_.cancel();
    tick_timer_.cancel();
    fanout_->stop();
    relay_->stop();
    auto finish = [self = shared_from_this(), done = std::move(done)] {
      if (self->cmd_) self->cmd_->close();
      if (self->sub_) self->sub_->close();
      if (self->log_) self->log_->close();
      self->work_.reset();
      done();
    };
    if (state_ != State::up || !cmd_) return finish();
    bool sent = cmd_->command(lease_->leave_command(), [finish](const redis::Reply*) { finish(); });
    if (!sent) finish();
  }

  // --- From the shards (posted here) ------------------------------------------------------------

  void publish_remote(const hub::SharedAction& action, std::uint64_t sequence,
                      std::function<void(std::optional<long long>)> on_matched) {
    if (is_stopping_) {
      if (on_matched) on_matched(std::nullopt);
      return;
    }
    RedisCommand command;
    command.argv = fleet_->publish_command(action, fanout_->append(action, sequence));
    command.retries_on_loss = true;  // receivers drop the repeat by its sequence number (and so do we)
    if (on_matched) {
      // While Redis is away the caller does not wait for it: queued is accepted, answered from here.
      if (state_ != State::up) on_matched(std::nullopt);
      else command.on_reply = [on_matched](const redis::Reply* reply) { on_matched(reply_integer(reply)); };
    }
    metrics().backplane_published.inc();
    queue_->submit(std::move(command), /*may_drop=*/true);
  }

  void query(const hub::SharedAction& action, asio::any_io_executor reply_on, Done done) {
    if (state_ != State::up) return local_.publish(action, std::move(reply_on), std::move(done));
    fleet_->query(action, std::move(reply_on), std::move(done));
  }

  void connection_opened(const connection::ConnectionIdentity& identity) {
    if (state_ == State::down || is_stopping_) return;  // the resync after reconnecting writes it
    fleet_->connection_opened(identity);
  }

  void connection_closed(const std::string& connection_id) {
    if (state_ == State::down) return;
    fleet_->connection_closed(connection_id);
  }

  void connection_group_changed(const std::string& connection_id, const std::string& hub_key, const std::string& group,
                                bool joined) {
    if (state_ == State::down) return;  // the resync after reconnecting writes every group
    fleet_->connection_group_changed(connection_id, hub_key, group, joined);
  }

  void claim_connection(const std::string& connection_id, std::chrono::milliseconds ttl, asio::any_io_executor reply_on,
                        ClaimDone done) {
    relay_->claim(connection_id, ttl, state_ == State::up && !is_stopping_, std::move(reply_on), std::move(done));
  }

  void relay(FollowUp request, asio::any_io_executor reply_on, RelayDone done) {
    relay_->relay(std::move(request), state_ == State::up && !is_stopping_, std::move(reply_on), std::move(done));
  }

  void relay_to_gateway(const std::string& gateway, FollowUp request, asio::any_io_executor reply_on, RelayDone done) {
    relay_->relay_to_gateway(gateway, std::move(request), state_ == State::up && !is_stopping_, std::move(reply_on),
                             std::move(done));
  }

  static constexpr std::size_t console_samples_kept = 900;  // 15 minutes, one a second

  // --- The operator console's figures --------------------------------------------------------------

  void publish_console_sample(std::string sample) {
    if (state_ != State::up || is_stopping_) return;  // a second's figures: not worth queueing
    const auto key = keys_.console_samples(gateway_id_);
    RedisCommand push;
    push.argv = {"RPUSH", key, signature_->sign(sample)};
    queue_->submit(std::move(push), /*may_drop=*/true);
    RedisCommand trim;
    trim.argv = {"LTRIM", key, "-" + std::to_string(console_samples_kept), "-1"};
    queue_->submit(std::move(trim), /*may_drop=*/true);
    RedisCommand expire;  // a gateway that is gone stops showing once its lease would have
    expire.argv = {"PEXPIRE", key, std::to_string(std::max<long long>(config_.lease.count(), 1000))};
    queue_->submit(std::move(expire), /*may_drop=*/true);
  }

  void read_console_samples(bool latest_only, asio::any_io_executor reply_on, ConsoleSamplesDone done) {
    auto answer = [reply_on, done = std::move(done)](std::optional<ConsoleSamples> samples) mutable {
      asio::post(reply_on, [done = std::move(done), samples = std::move(samples)]() mutable { done(std::move(samples)); });
    };
    if (state_ != State::up || is_stopping_) return answer(std::nullopt);
    RedisCommand command;
    command.argv = scripts::read_console_samples(keys_, latest_only);
    command.on_reply = [weak = weak_from_this(), answer = std::move(answer)](const redis::Reply* reply) mutable {
      auto self = weak.lock();
      if (!self || !reply || reply->type != redis::Reply::Type::array) return answer(std::nullopt);
      // id, [samples], id, [samples]...; a sample without the fleet's signature is dropped.
      ConsoleSamples samples;
      for (std::size_t i = 0; i + 1 < reply->size(); i += 2) {
        const redis::Reply* list = reply->element(i + 1);
        if (list->type != redis::Reply::Type::array) continue;
        std::vector<std::string> opened;
        for (std::size_t j = 0; j < list->size(); ++j)
          if (auto payload = self->signature_->open(reply_text(list->element(j)))) opened.emplace_back(*payload);
        samples.emplace_back(std::string(reply_text(reply->element(i))), std::move(opened));
      }
      answer(std::move(samples));
    };
    queue_->submit(std::move(command), /*may_drop=*/true);
  }

  void serve_relayed(RelayHandler handler) {
    relay_->set_handler([weak = weak_from_this(), handler = std::move(handler)](
                            FollowUp request, std::function<void(FollowUpAnswer)> answer) mutable {
      auto self = weak.lock();
      if (!self || request.kind != RelayKind::take) return handler(std::move(request), std::move(answer));
      // The handler posts the take to the connection's shard at once: everything this gateway ran
      // before is queued there ahead of it, nothing after (see order_mutex_).
      std::lock_guard lock(self->order_mutex_);
      if (self->is_ordered_log_) {
        request.has_log = true;
        request.positions = {{self->gateway_id_, 0}};
        return handler(std::move(request), std::move(answer));
      }
      const auto& seen = self->fanout_->positions();
      request.positions.assign(seen.begin(), seen.end());
      request.positions.emplace_back(self->gateway_id_, self->last_sequence_);
      handler(std::move(request), std::move(answer));
    });
    relay_->on_handoff_lost([weak = weak_from_this()](const std::string& state) {
      auto self = weak.lock();
      auto decoded = decode_handoff_state(state);
      if (!self || !decoded) return;
      self->fleet_->connection_closed(decoded->identity.connection_id);
      if (self->on_orphan_) self->on_orphan_(decoded->identity);
    });
  }

  // --- The fleet log's checkpoints and replays ---------------------------------------------------------

  bool has_ordered_log() const { return is_ordered_log_; }
  const std::string& gateway_id() const { return gateway_id_; }  // set at construction, read from any thread

  void write_checkpoints(std::vector<std::pair<std::string, std::string>> states) {
    if (state_ != State::up || is_stopping_ || states.empty()) return;  // the resync asks for them all again
    RedisCommand command;
    command.argv.reserve(2 + 2 * states.size());
    command.argv.push_back("HSET");
    command.argv.push_back(keys_.checkpoints(gateway_id_));
    for (auto& [connection_id, state] : states) {
      command.argv.push_back(std::move(connection_id));
      command.argv.push_back(signature_->sign(state));
    }
    command.is_state_write = true;
    metrics().checkpoints_written.inc(states.size());
    queue_->submit(std::move(command), /*may_drop=*/false);
  }

  void read_log_after(hub::LogPosition after, asio::any_io_executor reply_on, LogReplayDone done) {
    auto answer = [reply_on, done = std::move(done)](LogReplay replay) mutable {
      asio::post(reply_on, [done = std::move(done), replay = std::move(replay)]() mutable { done(std::move(replay)); });
    };
    if (state_ != State::up || is_stopping_) return answer({});
    RedisCommand command;
    command.argv = scripts::read_log_after(keys_, after.to_string(), max_replay_entries);
    command.on_reply = [weak = weak_from_this(), answer = std::move(answer)](const redis::Reply* reply) mutable {
      auto self = weak.lock();
      if (!self) return;
      answer(self->decode_replay(reply));
    };
    queue_->submit(std::move(command), /*may_drop=*/false);
  }

  LogReplay decode_replay(const redis::Reply* reply) {
    LogReplay replay;
    if (!reply || reply->type != redis::Reply::Type::array || reply->size() == 0) return replay;
    auto status = reply_integer(reply->element(0)).value_or(-1);
    if (status == 1) replay.status = LogReplay::Status::too_old;
    if (status == 2) replay.status = LogReplay::Status::too_long;
    if (status != 0) return replay;
    replay.status = LogReplay::Status::ok;
    if (reply->size() < 2 || reply->element(1)->type != redis::Reply::Type::array) return replay;
    const redis::Reply* entries = reply->element(1);
    replay.entries.reserve(entries->size());
    for (std::size_t i = 0; i < entries->size(); ++i) {
      const redis::Reply* entry = entries->element(i);
      if (entry->type != redis::Reply::Type::array || entry->size() < 2 || entry->element(1)->type != redis::Reply::Type::array ||
          entry->element(1)->size() < 2)
        continue;
      auto position = hub::LogPosition::parse(reply_text(entry->element(0)));
      auto payload = signature_->open(reply_text(entry->element(1)->element(1)));
      if (!position || !payload) continue;  // counted and logged when the reader met it
      auto envelope = decode_envelope(*payload);
      if (!envelope) continue;
      auto* action = std::get_if<ActionEnvelope>(&*envelope);
      if (!action) continue;
      replay.entries.push_back({hub::ActionOrigin{publisher_name(action->publisher), action->sequence, *position},
                                std::move(action->action)});
    }
    return replay;
  }

  void claim_checkpoint(const std::string& connection_id, asio::any_io_executor reply_on, CheckpointClaimDone done) {
    auto answer = [reply_on, done = std::move(done)](CheckpointClaim claim) mutable {
      asio::post(reply_on, [done = std::move(done), claim = std::move(claim)]() mutable { done(std::move(claim)); });
    };
    if (state_ != State::up || is_stopping_ || !is_ordered_log_) return answer({});
    RedisCommand command;
    command.argv = scripts::claim_checkpoint(keys_, gateway_id_, connection_id);
    command.on_reply = [weak = weak_from_this(), answer = std::move(answer), connection_id](const redis::Reply* reply) mutable {
      auto self = weak.lock();
      if (!self) return;
      CheckpointClaim claim;
      if (reply && reply->type == redis::Reply::Type::array && reply->size() >= 1) {
        auto result = reply_integer(reply->element(0)).value_or(0);
        if (result == 1) claim.result = CheckpointClaim::Result::holder_alive;
        if (result == 2 && reply->size() >= 2) {
          claim.result = CheckpointClaim::Result::claimed;
          // Only a checkpoint a gateway of this fleet signed: anything else is unusable (the connection ends).
          auto stored = reply_text(reply->element(1));
          if (auto state = self->signature_->open(stored)) claim.state = std::string(*state);
          else report_refused(self->refused_log_, "checkpoint", state.error(), stored.size());
          log::emit(log_events::checkpoint_claimed, {{"conn", connection_id}});
        }
      }
      answer(std::move(claim));
    };
    // Never dropped: a dropped claim would leave the connection to nobody.
    queue_->submit(std::move(command), /*may_drop=*/false);
  }

  std::shared_ptr<const std::string> publisher_name(const std::string& publisher) {
    auto [it, is_new] = publishers_.try_emplace(publisher);
    if (is_new) it->second = std::make_shared<const std::string>(publisher);
    return it->second;
  }

 private:
  // down: no usable link (waiting to reconnect); connecting: links being made; syncing: links up, our
  // state being written back; up: in sync, commands flow once the fleet listens again.
  enum class State { down, connecting, syncing, up };

  void make_parts() {
    self_name_ = std::make_shared<const std::string>(gateway_id_);
    auto weak = weak_from_this();
    FanoutLog::Events fanout_events;
    fanout_events.on_receiving = [weak] {
      if (auto self = weak.lock()) {
        self->is_receiving_ = true;
        self->maybe_sync();
      }
    };
    fanout_events.on_action = [weak](const std::string& publisher, std::uint64_t sequence, hub::LogPosition position,
                                     hub::SharedAction action) {
      auto self = weak.lock();
      if (!self) return;
      if (publisher == self->gateway_id_) return self->run_own(sequence, position);
      self->on_remote_action(publisher, sequence, position, std::move(action));
    };
    fanout_events.on_reading_from = [weak](hub::LogPosition position) {
      if (auto self = weak.lock()) self->start_shards_at(position);
    };
    fanout_events.on_gap = [weak](const std::string& publisher, std::uint64_t missed) {
      if (auto self = weak.lock()) self->on_gap(publisher, missed);
    };
    if (is_ordered_log_)
      fanout_ = std::make_shared<fleet_log::StreamFanout>(
          keys_, gateway_id_, signature_, queue_, fleet_log::StreamLimits{config_.log_retention, config_.log_max_entries},
          std::move(fanout_events));
    else
      fanout_ = std::make_shared<PubSubFanout>(io_, keys_, gateway_id_, signature_, queue_, std::move(fanout_events));
    fleet_ = std::make_shared<FleetState>(keys_, gateway_id_, signature_, shards_, io_.get_executor(), queue_);
    LeaseKeeper::Events lease_events;
    lease_events.on_lease_lost = [weak] {
      if (auto self = weak.lock()) self->close_every_connection("lease_lost");
    };
    lease_events.on_gateway_reaped = [weak](const std::string& gateway) {
      if (auto self = weak.lock()) {
        self->fanout_->forget(gateway);
        self->publishers_.erase(gateway);
      }
    };
    lease_events.on_orphan = on_orphan_;
    lease_ = std::make_shared<LeaseKeeper>(keys_, gateway_id_, config_.lease, reconnect_window_, signature_, queue_,
                                           std::move(lease_events));
    relay_ = std::make_shared<RequestRelay>(io_, keys_, gateway_id_, signature_, queue_);
  }

  // --- Links and sync -----------------------------------------------------------------------------

  void connect() {
    if (is_stopping_) return;
    state_ = State::connecting;
    is_cmd_up_ = is_receiving_ = false;
    cmd_ = std::make_shared<RedisLink>(io_, target_);
    sub_ = std::make_shared<RedisLink>(io_, target_);
    log_ = is_ordered_log_ ? std::make_shared<RedisLink>(io_, target_) : nullptr;
    queue_->use_link(cmd_);
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
      if (auto self = weak.lock()) {
        self->relay_->receive_on(self->sub_);
        if (!self->log_) self->fanout_->receive_on(self->sub_);
      }
    }, down);
    // The log is read on a link of its own: XREAD BLOCK holds it.
    if (log_)
      log_->connect(config_.connect_timeout, [weak] {
        if (auto self = weak.lock()) self->fanout_->receive_on(self->log_);
      }, down);
  }

  void on_link_down(const std::string& reason) {
    if (state_ == State::down || is_stopping_) return;
    const bool was_up = state_ == State::up || state_ == State::syncing;
    state_ = State::down;
    fanout_->on_link_down();
    relay_->on_link_down();
    is_degraded_ = true;
    metrics().backplane_redis_up.set(0);
    if (was_up || down_log_.admit(std::chrono::steady_clock::now()))
      log::emit(log_events::redis_down, {{"reason", reason}, {"retry_ms", backoff_.count()}});
    // Closing a link answers its pending replies with nullptr: the queue takes them as lost.
    if (cmd_) cmd_->close();
    if (sub_) sub_->close();
    if (log_) log_->close();
    run_pending_own_now();
    queue_->on_link_lost();

    reconnect_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, config_.max_backoff);
    reconnect_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->connect();
    });
  }

  void maybe_sync() {
    if (state_ != State::connecting || !is_cmd_up_ || !is_receiving_) return;
    state_ = State::syncing;
    lease_->renew();
    // Held while the shards take their snapshots: they post back to io_, which must outlive them.
    fleet_->take_snapshots([self = shared_from_this()](FleetState::Snapshots snapshots) { self->resync(snapshots); });
  }

  void resync(const FleetState::Snapshots& snapshots) {
    if (state_ != State::syncing) return;
    state_ = State::up;
    const auto connections = fleet_->write_back(snapshots);
    resyncs_.fetch_add(1, std::memory_order_relaxed);
    backoff_ = first_backoff;
    log::emit(log_events::redis_in_sync, {{"gateway", gateway_id_}, {"connections", connections}});
    // Actions held through the outage wait until the gateways we know of read the fan-out again.
    fanout_->await_readers(std::chrono::steady_clock::now() + config_.lease, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->release_hold();
    });
  }

  void release_hold() {
    {
      std::lock_guard lock(order_mutex_);
      runs_own_on_read_ = is_ordered_log_;
    }
    is_degraded_ = false;
    metrics().backplane_redis_up.set(1);
    queue_->start_sending();
  }

  // --- The fan-out's events -----------------------------------------------------------------------

  void on_remote_action(const std::string& publisher, std::uint64_t sequence, hub::LogPosition position,
                        hub::SharedAction action) {
    metrics().backplane_received.inc();
    local_.publish(std::move(action), hub::ActionOrigin{publisher_name(publisher), sequence, position}, {}, nullptr);
  }

  // One of ours came back from the log: it runs now, with those before it that never reached the log
  // (dropped while the queue was full), unless it ran already (while Redis was away) or came twice.
  void run_own(std::uint64_t sequence, hub::LogPosition position) {
    std::lock_guard lock(order_mutex_);
    if (sequence <= own_applied_) return;
    while (!pending_own_.empty() && pending_own_.front().sequence <= sequence) {
      auto own = std::move(pending_own_.front());
      pending_own_.pop_front();
      own_applied_ = own.sequence;
      hub::ActionOrigin origin{self_name_, own.sequence, own.sequence == sequence ? position : hub::LogPosition{}};
      run_locally(std::move(own), std::move(origin));
    }
  }

  void run_locally(PendingOwn own, hub::ActionOrigin origin) {
    asio::any_io_executor reply_on;  // where `done` reports, when there is one
    if (own.done) reply_on = io_.get_executor();
    local_.publish(std::move(own.action), std::move(origin), std::move(reply_on), std::move(own.done));
  }

  // Redis went away: what waits for the log runs now, and what follows runs at once until it is back.
  void run_pending_own_now() {
    std::lock_guard lock(order_mutex_);
    runs_own_on_read_ = false;
    for (auto& own : pending_own_) {
      own_applied_ = own.sequence;
      auto origin = hub::ActionOrigin{self_name_, own.sequence, {}};
      run_locally(std::move(own), std::move(origin));
    }
    pending_own_.clear();
  }

  // Where the log was when this gateway started reading it: its shards' state reflects every entry up
  // to there (none of them concerns a connection of theirs), so a checkpoint taken before they run any
  // names that position.
  void start_shards_at(hub::LogPosition position) {
    for (const auto& shard : shards_)
      asio::post(shard.executor, [registry = shard.registry, position] { registry->start_log_at(position); });
  }

  // Messages from `publisher` were lost on their way here: any connection of ours may have missed one,
  // so each is closed with allowReconnect, never left silently short of messages.
  void on_gap(const std::string& publisher, std::uint64_t missed) {
    metrics().backplane_gaps.inc();
    log::emit(log_events::sequence_gap, {{"publisher", publisher}, {"missed", missed}});
    close_every_connection("backplane_gap");
  }

  void close_every_connection(const char* reason) {
    for (const auto& shard : shards_)
      asio::post(shard.executor, [registry = shard.registry, reason] {
        registry->close_every_connection(
            {reason, "Messages between gateways may have been lost; reconnect to continue.", true});
      });
  }

  // --- Ticks --------------------------------------------------------------------------------------

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
    lease_->renew();
    fanout_->on_tick();
    lease_->reap();
  }

  const config::RedisConfig& config_;
  std::shared_ptr<const FleetSignature> signature_;  // what this fleet writes to Redis is signed
  std::chrono::milliseconds reconnect_window_;
  RedisKeys keys_;
  std::string gateway_id_;
  std::vector<InProcessBackplane::Shard> shards_;
  InProcessBackplane local_;
  OrphanHandler on_orphan_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer reconnect_timer_;
  asio::steady_timer tick_timer_;

  State state_ = State::down;
  bool is_stopping_ = false;
  bool is_cmd_up_ = false;
  bool is_receiving_ = false;
  std::chrono::milliseconds backoff_ = first_backoff;
  std::shared_ptr<const RedisTarget> target_;  // where the links go (prepare())
  log::LogThrottle refused_log_{std::chrono::seconds(5)};
  std::shared_ptr<RedisLink> cmd_;
  std::shared_ptr<RedisLink> sub_;
  std::shared_ptr<RedisLink> log_;  // the fleet log's reads (--fleet-log on)

  std::shared_ptr<CommandQueue> queue_;
  std::shared_ptr<FanoutLog> fanout_;
  std::shared_ptr<FleetState> fleet_;
  std::shared_ptr<LeaseKeeper> lease_;
  std::shared_ptr<RequestRelay> relay_;
  std::unordered_map<std::string, std::shared_ptr<const std::string>> publishers_;  // interned, for origins
  log::LogThrottle down_log_{std::chrono::seconds(30)};
};

RedisBackplane::RedisBackplane(const config::RedisConfig& config, const std::vector<std::string>& access_keys,
                               std::chrono::milliseconds reconnect_window, std::vector<InProcessBackplane::Shard> shards,
                               OrphanHandler on_orphan)
    : core_(Core::create(config, access_keys, reconnect_window, std::move(shards), std::move(on_orphan))) {}

RedisBackplane::~RedisBackplane() {
  if (thread_.joinable()) stop(std::chrono::milliseconds(0));
}

std::optional<std::string> RedisBackplane::prepare() { return core_->prepare(); }

void RedisBackplane::start() {
  asio::post(core_->io_, [core = core_] { core->start(); });
  thread_ = std::thread([core = core_] { core->run(); });
}

void RedisBackplane::stop(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return;
  auto left = std::make_shared<std::promise<void>>();
  auto future = left->get_future();
  asio::post(core_->io_, [core = core_, left] { core->leave([left] { left->set_value(); }); });
  if (future.wait_for(timeout) != std::future_status::ready) log::emit(log_events::leave_timeout);
  core_->io_.stop();
  thread_.join();
}

void RedisBackplane::publish(hub::SharedAction action, asio::any_io_executor reply_on, Done done) {
  if (std::holds_alternative<hub::QueryAction>(*action)) {
    asio::post(core_->io_, [core = core_, action = std::move(action), reply_on = std::move(reply_on),
                            done = std::move(done)]() mutable { core->query(action, std::move(reply_on), std::move(done)); });
    return;
  }
  // Numbered, then handed to the backplane thread (which sends in order on one link) and to this
  // gateway's shards, under one lock (Core::order_mutex_): Redis first, so that an action a shard has
  // run is always queued for Redis ahead of anything that shard does next (a handoff's request).
  // With the fleet log in sync, the local half waits for the log (Core::run_own) instead.
  std::lock_guard lock(core_->order_mutex_);
  const auto sequence = ++core_->last_sequence_;
  hub::ActionOrigin origin{core_->self_name_, sequence, {}};
  const bool waits_for_log = core_->runs_own_on_read_;
  if (!waits_for_log) core_->own_applied_ = sequence;
  if (!done) {
    asio::post(core_->io_, [core = core_, action, sequence] { core->publish_remote(action, sequence, nullptr); });
    if (waits_for_log) core_->pending_own_.push_back({sequence, std::move(action), nullptr});
    else core_->local().publish(std::move(action), std::move(origin), {}, nullptr);
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
  asio::post(core_->io_, [core = core_, action, sequence, gather] {
    core->publish_remote(action, sequence, [gather](std::optional<long long> matched) {
      gather->fleet_matched = matched;
      gather->finish_one();
    });
  });
  Done local_done = [gather](hub::ActionOutcome outcome) {
    gather->local = std::move(outcome);
    gather->finish_one();
  };
  if (waits_for_log) core_->pending_own_.push_back({sequence, std::move(action), std::move(local_done)});
  else core_->local().publish(std::move(action), std::move(origin), core_->io_.get_executor(), std::move(local_done));
}

void RedisBackplane::connection_opened(const connection::ConnectionIdentity& identity) {
  asio::post(core_->io_, [core = core_, identity] { core->connection_opened(identity); });
}

void RedisBackplane::connection_closed(const connection::ConnectionIdentity& identity) {
  asio::post(core_->io_, [core = core_, id = identity.connection_id] { core->connection_closed(id); });
}

void RedisBackplane::connection_group_changed(const connection::ConnectionIdentity& identity, const std::string& group,
                                              bool joined) {
  asio::post(core_->io_, [core = core_, id = identity.connection_id, hub_key = identity.hub_key, group, joined] {
    core->connection_group_changed(id, hub_key, group, joined);
  });
}

void RedisBackplane::claim_connection(const std::string& connection_id, std::chrono::milliseconds ttl,
                                      asio::any_io_executor reply_on, ClaimDone done) {
  asio::post(core_->io_, [core = core_, connection_id, ttl, reply_on = std::move(reply_on), done = std::move(done)]() mutable {
    core->claim_connection(connection_id, ttl, std::move(reply_on), std::move(done));
  });
}

void RedisBackplane::relay(FollowUp request, asio::any_io_executor reply_on, RelayDone done) {
  asio::post(core_->io_, [core = core_, request = std::move(request), reply_on = std::move(reply_on), done = std::move(done)]() mutable {
    core->relay(std::move(request), std::move(reply_on), std::move(done));
  });
}

void RedisBackplane::publish_console_sample(std::string sample_json) {
  asio::post(core_->io_, [core = core_, sample = std::move(sample_json)]() mutable { core->publish_console_sample(std::move(sample)); });
}

void RedisBackplane::read_console_samples(bool latest_only, asio::any_io_executor reply_on, ConsoleSamplesDone done) {
  asio::post(core_->io_, [core = core_, latest_only, reply_on = std::move(reply_on), done = std::move(done)]() mutable {
    core->read_console_samples(latest_only, std::move(reply_on), std::move(done));
  });
}

void RedisBackplane::relay_to_gateway(const std::string& gateway_id, FollowUp request, asio::any_io_executor reply_on,
                                      RelayDone done) {
  asio::post(core_->io_, [core = core_, gateway_id, request = std::move(request), reply_on = std::move(reply_on),
                          done = std::move(done)]() mutable {
    core->relay_to_gateway(gateway_id, std::move(request), std::move(reply_on), std::move(done));
  });
}

// Before start(): the backplane thread does not run yet, so this is the only thread touching the relay.
void RedisBackplane::serve_relayed(RelayHandler handler) { core_->serve_relayed(std::move(handler)); }

bool RedisBackplane::has_ordered_log() const { return core_->has_ordered_log(); }
std::string RedisBackplane::gateway_id() const { return core_->gateway_id(); }
std::uint64_t RedisBackplane::resyncs() const { return core_->resyncs_.load(std::memory_order_relaxed); }

void RedisBackplane::write_checkpoints(std::vector<std::pair<std::string, std::string>> states) {
  asio::post(core_->io_, [core = core_, states = std::move(states)]() mutable { core->write_checkpoints(std::move(states)); });
}

void RedisBackplane::read_log_after(hub::LogPosition after, asio::any_io_executor reply_on, LogReplayDone done) {
  asio::post(core_->io_, [core = core_, after, reply_on = std::move(reply_on), done = std::move(done)]() mutable {
    core->read_log_after(after, std::move(reply_on), std::move(done));
  });
}

void RedisBackplane::claim_checkpoint(const std::string& connection_id, asio::any_io_executor reply_on,
                                      CheckpointClaimDone done) {
  asio::post(core_->io_, [core = core_, connection_id, reply_on = std::move(reply_on), done = std::move(done)]() mutable {
    core->claim_checkpoint(connection_id, std::move(reply_on), std::move(done));
  });
}

bool RedisBackplane::is_degraded() const { return core_->is_degraded_.load(std::memory_order_relaxed); }

}  // namespace sb::backplane
