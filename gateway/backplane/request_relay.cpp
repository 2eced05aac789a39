#include "backplane/request_relay.hpp"

#include <boost/asio/post.hpp>

#include "backplane/backplane_log.hpp"
#include "backplane/command_queue.hpp"
#include "backplane/redis_link.hpp"
#include "backplane/redis_reply.hpp"
#include "backplane/redis_scripts.hpp"
#include "backplane/refused_message.hpp"
#include "common/metrics.hpp"

namespace sb::backplane {

namespace asio = boost::asio;

namespace {

// A poll is held up to 90 s by its holder (long_polling_transport): wait a little longer for it.
constexpr auto poll_answer_timeout = std::chrono::seconds(100);
constexpr auto answer_timeout = std::chrono::seconds(10);
// A live holder answers a take from one post to the connection's thread. No answer this soon: it
// probably died just as the take was published (before Redis saw its sockets close); the asker asks
// again, and then finds it gone (and resumes from its checkpoint, with the fleet log).
constexpr auto take_answer_timeout = std::chrono::seconds(1);

std::string_view kind_name(RelayKind kind) {
  switch (kind) {
    case RelayKind::send: return "send";
    case RelayKind::poll: return "poll";
    case RelayKind::stop: return "stop";
    case RelayKind::take: return "take";
    case RelayKind::invoke: return "invoke";
    case RelayKind::refresh: return "refresh";
    case RelayKind::console: return "console";
  }
  return "send";
}

FollowUpAnswer unavailable() {
  return {503, "text/plain; charset=utf-8", "The gateway holding this connection did not answer."};
}

void post_answer(const asio::any_io_executor& reply_on, Backplane::RelayDone done, std::optional<FollowUpAnswer> answer) {
  asio::post(reply_on, [done = std::move(done), answer = std::move(answer)]() mutable { done(std::move(answer)); });
}

// A take whose holder no longer listens (it crashed, or lost Redis): the asker may resume the
// connection from its checkpoint.
FollowUpAnswer holder_gone() {
  return {410, "text/plain; charset=utf-8", "The gateway holding this connection is gone."};
}

}  // namespace

RequestRelay::RequestRelay(asio::io_context& io, const RedisKeys& keys, std::string gateway_id,
                           std::shared_ptr<const FleetSignature> signature, std::shared_ptr<CommandQueue> queue)
    : io_(io), keys_(keys), gateway_id_(std::move(gateway_id)), queue_(std::move(queue)), signature_(std::move(signature)) {}

void RequestRelay::receive_on(const std::shared_ptr<RedisLink>& link) {
  link->subscribe(keys_.inbox(gateway_id_), [weak = weak_from_this()](const redis::Reply* reply) {
    if (auto self = weak.lock()) self->on_inbox(reply);
  });
}

void RequestRelay::claim(const std::string& connection_id, std::chrono::milliseconds ttl, bool is_up,
                         asio::any_io_executor reply_on, Backplane::ClaimDone done) {
  auto answer = [reply_on, done = std::move(done)](ClaimResult result) mutable {
    asio::post(reply_on, [done = std::move(done), result] { done(result); });
  };
  if (!is_up) return answer(ClaimResult::granted);
  RedisCommand command;
  command.argv = scripts::claim_connection(keys_, gateway_id_, connection_id, ttl);
  command.on_reply = [answer = std::move(answer)](const redis::Reply* reply) mutable {
    // No answer (Redis went away): serve it, as everything is served while degraded.
    auto claimed = reply_integer(reply);
    answer(claimed && *claimed == 0 ? ClaimResult::taken : ClaimResult::granted);
  };
  // Never dropped for a full queue: a dropped claim would read as granted, and a second gateway would
  // open a connection another one holds (a burst of handoffs fills the queue with takes).
  queue_->submit(std::move(command), /*may_drop=*/false);
}

void RequestRelay::relay(FollowUp request, bool is_up, asio::any_io_executor reply_on, Backplane::RelayDone done) {
  send(std::nullopt, std::move(request), is_up, std::move(reply_on), std::move(done));
}

void RequestRelay::relay_to_gateway(const std::string& gateway, FollowUp request, bool is_up,
                                    asio::any_io_executor reply_on, Backplane::RelayDone done) {
  send(gateway, std::move(request), is_up, std::move(reply_on), std::move(done));
}

void RequestRelay::send(std::optional<std::string> gateway, FollowUp request, bool is_up, asio::any_io_executor reply_on,
                        Backplane::RelayDone done) {
  if (!is_up) return post_answer(reply_on, std::move(done), std::nullopt);
  if (waiting_.size() >= max_waiting) {
    metrics().relay_failures.with("too_many_waiting").inc();
    return post_answer(reply_on, std::move(done), unavailable());
  }
  const auto id = ++last_request_id_;
  const auto kind = request.kind;
  metrics().relayed_requests.with(kind_name(kind)).inc();
  auto message = signature_->sign(
      encode_relay_message(RelayRequest{gateway_id_, id, kind, request.connection_id, std::move(request.body)}));
  Waiting waiting{std::move(reply_on), std::move(done), std::make_unique<asio::steady_timer>(io_)};
  waiting_.emplace(id, std::move(waiting));
  // A take's clock starts once its holder got it: a burst of takes may wait in the queue for a while.
  // An invoke waits for a client: its owner answers within the caller's time (the owner's own timeout
  // is the same setting), plus the relay's usual margin.
  if (kind == RelayKind::invoke) arm_timeout(id, request.answer_within + answer_timeout);
  else if (kind != RelayKind::take) arm_timeout(id, kind == RelayKind::poll ? poll_answer_timeout : answer_timeout);

  RedisCommand command;
  // To a named gateway: a plain PUBLISH, whose count of receivers says whether it still listens.
  command.argv = gateway ? std::vector<std::string>{"PUBLISH", keys_.inbox(*gateway), std::move(message)}
                         : scripts::relay_to_owner(keys_, gateway_id_, request.connection_id, message);
  command.on_reply = [weak = weak_from_this(), id, kind](const redis::Reply* reply) {
    auto self = weak.lock();
    if (!self) return;
    auto receivers = reply_integer(reply);
    if (!receivers) {
      metrics().relay_failures.with("redis").inc();
      return self->finish(id, unavailable());
    }
    // -1: nobody else holds it; 0: its gateway is gone (its lease will be reaped). Either way it is
    // not a connection any more, as far as this client can tell.
    if (*receivers <= 0) {
      metrics().relay_failures.with(*receivers < 0 ? "no_holder" : "holder_gone").inc();
      // A take may still succeed without its holder: from the checkpoint it left (the fleet log).
      if (*receivers == 0 && kind == RelayKind::take) return self->finish(id, holder_gone());
      return self->finish(id, std::nullopt);
    }
    if (kind == RelayKind::take) self->arm_timeout(id, take_answer_timeout);
  };
  // A take is never dropped for a full queue: it would read as "no answer", and a burst of resumes
  // (every client of a crashed gateway) would keep asking. The waiting limit bounds them.
  queue_->submit(std::move(command), /*may_drop=*/kind != RelayKind::take);
}

void RequestRelay::arm_timeout(std::uint64_t request_id, std::chrono::milliseconds timeout) {
  auto it = waiting_.find(request_id);
  if (it == waiting_.end()) return;
  it->second.timer->expires_after(timeout);
  it->second.timer->async_wait([weak = weak_from_this(), request_id](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      metrics().relay_failures.with("timeout").inc();
      if (self->timeout_log_.admit(std::chrono::steady_clock::now()))
        log::emit(log_events::relay_timeout, {{"request", request_id}});
      self->finish(request_id, unavailable());
    }
  });
}

void RequestRelay::finish(std::uint64_t request_id, std::optional<FollowUpAnswer> answer) {
  auto it = waiting_.find(request_id);
  if (it == waiting_.end()) return;  // answered already (a late reply after the timeout)
  auto waiting = std::move(it->second);
  waiting_.erase(it);
  waiting.timer->cancel();
  post_answer(waiting.reply_on, std::move(waiting.done), std::move(answer));
}

void RequestRelay::on_link_down() {
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& [id, w] : waiting) {
    w.timer->cancel();
    metrics().relay_failures.with("redis").inc();
    post_answer(w.reply_on, std::move(w.done), unavailable());
  }
}

void RequestRelay::on_inbox(const redis::Reply* reply) {
  if (!reply || reply->type != redis::Reply::Type::array || reply->size() < 3) return;
  if (reply_text(reply->element(0)) != "message") return;
  auto signed_message = reply_text(reply->element(2));
  auto payload = signature_->open(signed_message);
  if (!payload) return report_refused(refused_log_, "inbox", payload.error(), signed_message.size());
  auto message = decode_relay_message(*payload);
  if (!message) {
    metrics().backplane_invalid.inc();
    if (invalid_log_.admit(std::chrono::steady_clock::now()))
      log::emit(log_events::invalid_relay_message, {{"error", message.error().message}, {"sample", log::sample(*payload)}});
    return;
  }
  if (auto* request = std::get_if<RelayRequest>(&*message)) return serve(std::move(*request));
  auto& answer = std::get<RelayReply>(*message);
  finish(answer.request_id, FollowUpAnswer{answer.status, std::move(answer.content_type), std::move(answer.body)});
}

void RequestRelay::serve(RelayRequest request) {
  metrics().relays_served.inc();
  auto reply_to = keys_.inbox(request.from_gateway);
  auto request_id = request.request_id;
  const bool is_handoff = request.kind == RelayKind::take;
  // The handler answers on the connection's thread; the reply is published from this one.
  auto answer = [weak = weak_from_this(), &io = io_, reply_to = std::move(reply_to), request_id, is_handoff,
                 asker = request.from_gateway, connection_id = request.connection_id](FollowUpAnswer a) {
    asio::post(io, [weak, reply_to, request_id, is_handoff, asker, connection_id, a = std::move(a)]() mutable {
      auto self = weak.lock();
      if (!self) return;
      RedisCommand command;
      if (is_handoff && a.status == 200) {
        // The connection left this gateway: Redis names the asker its holder as the asker hears of it.
        // If the answer is lost, nobody holds it: it ends here, once (on_handoff_lost).
        auto state = a.body;
        command.argv = scripts::hand_over(self->keys_, self->gateway_id_, asker, connection_id,
                                          self->signature_->sign(encode_relay_message(
                                              RelayReply{request_id, a.status, std::move(a.content_type), std::move(a.body)})));
        command.on_reply = [weak, state = std::move(state)](const redis::Reply* reply) {
          auto receivers = reply_integer(reply);
          if (receivers && *receivers > 0) return;
          metrics().handoff_failures.with(receivers ? "asker_gone" : "redis").inc();
          if (auto relay = weak.lock(); relay && relay->on_handoff_lost_) relay->on_handoff_lost_(state);
        };
        return self->queue_->submit(std::move(command), /*may_drop=*/false);
      }
      command.argv = {"PUBLISH", reply_to,
                      self->signature_->sign(encode_relay_message(
                          RelayReply{request_id, a.status, std::move(a.content_type), std::move(a.body)}))};
      self->queue_->submit(std::move(command), /*may_drop=*/true);
    });
  };
  if (!handler_) return answer({404, "text/plain; charset=utf-8", "No Connection with that ID"});
  handler_(FollowUp{request.kind, std::move(request.connection_id), std::move(request.body), {}}, std::move(answer));
}

}  // namespace sb::backplane
