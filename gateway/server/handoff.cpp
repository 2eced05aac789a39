#include "server/handoff.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <iterator>
#include <unordered_map>

#include "backplane/handoff_state.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "connection/connection.hpp"
#include "server/server_log.hpp"
#include "server/shard.hpp"

namespace sb::server {
namespace {

constexpr std::string_view handoff_type = "application/vnd.switchboard.handoff";

// A holder that is delivering the connection's upstream events answers 503: ask again this often, up
// to this many times (its events are a function call or two away from done).
constexpr auto busy_retry_delay = std::chrono::milliseconds(20);
constexpr int max_asks = 250;

FollowUpAnswer refusal(std::uint16_t status, std::string_view text) {
  return {status, "text/plain; charset=utf-8", std::string(text)};
}

// The arriving end, from the ask to the resume; holds itself while it waits.
class TakeOver : public std::enable_shared_from_this<TakeOver> {
 public:
  TakeOver(std::shared_ptr<http::HttpSession> session, Shard& shard, GatewayContext& context,
           auth::ConnectionTicket ticket, transport::WebSocketLimits limits)
      : session_(std::move(session)),
        shard_(shard),
        context_(context),
        ticket_(std::move(ticket)),
        limits_(limits),
        retry_(session_->executor()) {}

  void start() {
    // Before the ask: whatever this shard runs from now on, the connection may need (handoff.hpp).
    arrival_ = shard_.registry.arrivals().begin();
    ask();
  }

 private:
  void ask() {
    ++asks_;
    backplane::FollowUp request{backplane::RelayKind::take, ticket_.connection_id, {}, {}};
    context_.backplane.relay(std::move(request), session_->executor(),
                             [self = shared_from_this()](std::optional<FollowUpAnswer> answer) { self->on_answer(answer); });
  }

  void on_answer(const std::optional<FollowUpAnswer>& answer) {
    // Its gateway is gone (crashed): with the fleet log, it may have left a checkpoint.
    if (answer && answer->status == 410) return claim_checkpoint();
    if (!answer || answer->status == 404) return refuse(404, "no_holder");
    if (answer->status == 503 && asks_ < max_asks) return ask_later();
    if (answer->status != 200) return refuse(409, answer->status == 503 ? "holder_busy" : "not_resumable");
    auto state = backplane::decode_handoff_state(answer->body);
    if (!state || !is_ours(*state)) {
      // Handed over, but unusable: nobody holds it any more. Counted; the client starts afresh.
      log::emit(log_events::handoff_invalid, {{"conn", ticket_.connection_id},
                                              {"error", state ? std::string("another connection's state") : state.error().message}});
      return refuse(409, "invalid_state");
    }
    continue_with(std::move(*state));
  }

  // The fleet log: the gateway it lived on died without handing it over. Its checkpoint is taken (once,
  // fleet-wide) and the connection rebuilt from it.
  void claim_checkpoint() {
    context_.backplane.claim_checkpoint(
        ticket_.connection_id, session_->executor(), [self = shared_from_this()](backplane::Backplane::CheckpointClaim claim) {
          using Result = backplane::Backplane::CheckpointClaim::Result;
          if (claim.result == Result::holder_alive && self->asks_ < max_asks) return self->ask_later();
          if (claim.result != Result::claimed) return self->refuse(404, "no_holder");
          auto state = backplane::decode_handoff_state(claim.state);
          if (!state || !self->is_ours(*state) || state->log_position.is_zero() || state->positions.size() != 1) {
            log::emit(log_events::handoff_invalid, {{"conn", self->ticket_.connection_id},
                                                    {"error", state ? std::string("not a checkpoint of this connection")
                                                                    : state.error().message}});
            self->end_claimed(state && self->is_ours(*state) ? state->identity : self->ticket_identity());
            return self->refuse(409, "invalid_state");
          }
          self->is_from_checkpoint_ = true;
          self->continue_with(std::move(*state));
        });
  }

  void ask_later() {
    retry_.expires_after(busy_retry_delay);
    retry_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->ask();
    });
  }

  // A claimed checkpoint that can't be used: the claim made this gateway its holder and took it off the
  // reaper's list, so it ends here, once: out of Redis, and its `disconnected` upstream.
  void end_claimed(const connection::ConnectionIdentity& identity) {
    context_.backplane.connection_closed(identity);
    shard_.dispatcher->deliver_orphan_disconnected(identity);
  }

  // Who the connection is, as far as its token says (when its checkpoint can't).
  connection::ConnectionIdentity ticket_identity() const {
    connection::ConnectionIdentity identity;
    identity.connection_id = ticket_.connection_id;
    identity.hub = ticket_.hub_key;
    identity.hub_key = ticket_.hub_key;
    identity.user_id = ticket_.user_id;
    return identity;
  }

  bool is_ours(const backplane::HandoffState& state) const {
    return state.identity.connection_id == ticket_.connection_id && state.identity.hub_key == ticket_.hub_key &&
           state.identity.user_id == ticket_.user_id;
  }

  // A state with a place in the fleet log needs the log's entries after it first.
  void continue_with(backplane::HandoffState state) {
    if (state.log_position.is_zero()) return install(std::move(state), {});
    const auto after = state.log_position;
    context_.backplane.read_log_after(
        after, session_->executor(),
        [self = shared_from_this(), state = std::move(state)](backplane::Backplane::LogReplay replay) mutable {
          if (replay.status == backplane::Backplane::LogReplay::Status::ok)
            return self->install(std::move(state), std::move(replay.entries));
          const char* reason = replay.status == backplane::Backplane::LogReplay::Status::too_old    ? "log_trimmed"
                               : replay.status == backplane::Backplane::LogReplay::Status::too_long ? "log_too_long"
                                                                                                    : "redis";
          self->install_incomplete(std::move(state), reason);
        });
  }

  std::shared_ptr<connection::Connection> arrive(backplane::HandoffState& state) {
    connection::ConnectionTransfer transfer{std::move(state.identity), state.protocol, std::move(state.buffer)};
    transfer.identity.initial_groups = std::move(state.groups);
    auto connection = connection::Connection::arrive(
        std::move(transfer), connection::ConnectionContext{context_.config.connection, shard_.connections, *shard_.dispatcher},
        is_from_checkpoint_);
    context_.directory.add(connection->id(),
                           {shard_.io.get_executor(), {}, TransportKind::websockets, connection->identity().hub_key,
                            connection, &shard_.registry, ticket_.expires_at_ms},
                           unix_now_ms());
    return connection;
  }

  // Moved, but what it missed meanwhile can't be known: it lives here just long enough to end, once
  // (its `disconnected` goes upstream), and the client starts afresh.
  void install_incomplete(backplane::HandoffState state, const char* reason) {
    if (is_arrival_open_) shard_.registry.arrivals().abandon(arrival_);
    is_arrival_open_ = false;
    auto connection = arrive(state);
    metrics().handoff_failures.with(reason).inc();
    log::emit(log_events::handoff_refused, {{"conn", ticket_.connection_id}, {"status", 409}, {"reason", reason}});
    connection->close({"handoff_incomplete", "The connection could not move between gateways intact.", true});
    session_->write(http::resume_refusal(session_->request(), 409));
  }

  void install(backplane::HandoffState state, std::vector<hub::ArrivalLog::Entry> log_entries) {
    auto& registry = shard_.registry;
    auto entries = registry.arrivals().end(arrival_);
    is_arrival_open_ = false;
    const auto log_position = state.log_position;
    auto positions_list = state.positions;
    auto connection = arrive(state);
    if (!entries) {
      // More ran here meanwhile than the arrival log holds: some of it may be missing. It ends, once.
      metrics().handoff_failures.with("arrival_log_full").inc();
      connection->close({"handoff_incomplete", "The connection could not move between gateways intact.", true});
      return session_->write(http::resume_refusal(session_->request(), 409));
    }
    if (log_position.is_zero()) {
      hub::HubRegistry::Positions positions(positions_list.begin(), positions_list.end());
      registry.replay(*connection, *entries, positions);
    } else {
      // What the log held when asked, and what this shard ran since the arrival began: together, in the
      // log's order, every entry after the state that this shard has run.
      log_entries.insert(log_entries.end(), std::make_move_iterator(entries->begin()), std::make_move_iterator(entries->end()));
      std::stable_sort(log_entries.begin(), log_entries.end(),
                       [](const auto& a, const auto& b) { return a.origin.position < b.origin.position; });
      log_entries.erase(std::unique(log_entries.begin(), log_entries.end(),
                                    [](const auto& a, const auto& b) { return a.origin.position == b.origin.position; }),
                        log_entries.end());
      const auto& [own_publisher, own_unlogged] = positions_list.front();
      registry.replay_after(*connection, log_entries, log_position, own_publisher, own_unlogged);
    }
    if (is_from_checkpoint_) metrics().checkpoint_resumes.inc();
    else metrics().handoffs_in.inc();
    auto ws = std::make_shared<transport::WebSocketTransport>(session_->take_stream(), limits_);
    ws->accept(std::move(session_->request()), [connection](std::shared_ptr<transport::WebSocketTransport> accepted) {
      connection->resume(std::move(accepted));  // if the client left meanwhile, it waits out its window
    });
  }

  void refuse(unsigned status, std::string_view reason) {
    if (is_arrival_open_) shard_.registry.arrivals().abandon(arrival_);
    is_arrival_open_ = false;
    if (status != 404) metrics().handoff_failures.with(reason).inc();
    log::emit(log_events::handoff_refused, {{"conn", ticket_.connection_id}, {"status", status}, {"reason", reason}});
    session_->write(http::resume_refusal(session_->request(), status));
  }

  std::shared_ptr<http::HttpSession> session_;
  Shard& shard_;
  GatewayContext& context_;
  auth::ConnectionTicket ticket_;
  transport::WebSocketLimits limits_;
  boost::asio::steady_timer retry_;
  hub::ArrivalLog::Ticket arrival_ = 0;
  bool is_arrival_open_ = true;
  bool is_from_checkpoint_ = false;
  int asks_ = 0;
};

}  // namespace

void serve_handoff(ConnectionDirectory& directory, backplane::FollowUp request, AnswerFollowUp answer) {
  auto found = directory.find(request.connection_id, unix_now_ms());
  if (found.presence != Presence::live || found.entry.kind != TransportKind::websockets)
    return answer(connection_not_found_answer());
  // Posted now, under the backplane's order lock: the positions describe what the shard ran before it.
  boost::asio::post(found.entry.executor, [&directory, weak = found.entry.connection, found_registry = found.entry.registry,
                                           request = std::move(request), answer = std::move(answer)]() mutable {
    auto connection = weak.lock();
    if (!connection || !connection->can_resume()) return answer(refusal(409, "The connection cannot resume."));
    if (!connection->is_settled()) return answer(refusal(503, "The connection's upstream events are in flight."));
    auto* registry = found_registry;
    auto transfer = connection->hand_over();
    directory.forget(request.connection_id);  // not ended: requests for it go to its new holder
    metrics().handoffs_out.inc();
    backplane::HandoffState state;
    state.groups = transfer.identity.initial_groups;
    state.identity = std::move(transfer.identity);
    state.protocol = transfer.protocol;
    state.buffer = std::move(transfer.buffer);
    state.positions = std::move(request.positions);
    // The fleet log: where the connection's shard is in it says what the state reflects, and the
    // own actions that ran here before reaching the log must not run again.
    if (request.has_log && registry && !registry->log_position().is_zero() && state.positions.size() == 1) {
      state.log_position = registry->log_position();
      state.positions.front().second = registry->unlogged_sequence();
    }
    answer({200, std::string(handoff_type), backplane::encode_handoff_state(state)});
  });
}

void take_over(std::shared_ptr<http::HttpSession> session, Shard& shard, GatewayContext& context,
               auth::ConnectionTicket ticket, transport::WebSocketLimits limits) {
  std::make_shared<TakeOver>(std::move(session), shard, context, std::move(ticket), limits)->start();
}

}  // namespace sb::server
