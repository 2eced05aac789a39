#include "backplane/pubsub_fanout.hpp"

#include <utility>

#include "backplane/backplane_log.hpp"
#include "backplane/command_queue.hpp"
#include "backplane/envelope.hpp"
#include "backplane/redis_link.hpp"
#include "backplane/redis_reply.hpp"
#include "backplane/refused_message.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"

namespace sb::backplane {

PubSubFanout::PubSubFanout(boost::asio::io_context& io, const RedisKeys& keys, std::string gateway_id,
                           std::shared_ptr<const FleetSignature> signature, std::shared_ptr<CommandQueue> queue,
                           Events events)
    : channel_(keys.actions_channel()),
      gateway_id_(std::move(gateway_id)),
      signature_(std::move(signature)),
      queue_(std::move(queue)),
      events_(std::move(events)),
      await_timer_(io) {}

FanoutAppend PubSubFanout::append(const hub::SharedAction& action, std::uint64_t sequence) {
  last_sequence_ = sequence;
  return {{}, {"PUBLISH", channel_, signature_->sign(encode_envelope(ActionEnvelope{gateway_id_, sequence, action}))}};
}

void PubSubFanout::receive_on(const std::shared_ptr<RedisLink>& link) {
  link->subscribe(channel_, [weak = weak_from_this()](const redis::Reply* reply) {
    if (auto self = weak.lock()) self->on_channel_reply(reply);
  });
}

void PubSubFanout::on_tick() {
  RedisCommand heartbeat;
  heartbeat.argv = {"PUBLISH", channel_, signature_->sign(encode_envelope(HeartbeatEnvelope{gateway_id_, last_sequence_}))};
  queue_->submit(std::move(heartbeat), /*may_drop=*/true);
}

void PubSubFanout::await_readers(std::chrono::steady_clock::time_point deadline, std::function<void()> done) {
  on_readers_ = std::move(done);
  count_readers(++await_id_, deadline);
}

void PubSubFanout::count_readers(std::uint64_t await_id, std::chrono::steady_clock::time_point deadline) {
  if (await_id != await_id_) return;
  const auto expected = tracker_.publisher_count() + 1;
  RedisCommand command;
  command.argv = {"PUBSUB", "NUMSUB", channel_};
  command.on_reply = [weak = weak_from_this(), await_id, deadline, expected](const redis::Reply* reply) {
    auto self = weak.lock();
    if (!self || !reply || await_id != self->await_id_) return;
    long long listening = 0;
    if (reply->type == redis::Reply::Type::array && reply->size() == 2)
      listening = reply_integer(reply->element(1)).value_or(0);
    if (listening >= static_cast<long long>(expected) || std::chrono::steady_clock::now() >= deadline) {
      if (auto done = std::exchange(self->on_readers_, nullptr)) done();
      return;
    }
    self->await_timer_.expires_after(std::chrono::milliseconds(50));
    self->await_timer_.async_wait([weak, await_id, deadline](boost::system::error_code ec) {
      if (auto s = weak.lock(); s && !ec) s->count_readers(await_id, deadline);
    });
  };
  queue_->send_now(std::move(command));
}

void PubSubFanout::on_link_down() {
  ++await_id_;
  on_readers_ = nullptr;
  await_timer_.cancel();
}

void PubSubFanout::stop() {
  await_timer_.cancel();
}

void PubSubFanout::on_channel_reply(const redis::Reply* reply) {
  if (!reply || reply->type != redis::Reply::Type::array || reply->size() < 3) return;
  auto kind = reply_text(reply->element(0));
  if (kind == "subscribe") {
    if (events_.on_receiving) events_.on_receiving();
    return;
  }
  if (kind != "message") return;
  auto message = reply_text(reply->element(2));
  auto payload = signature_->open(message);
  if (!payload) return report_refused(refused_log_, "pubsub", payload.error(), message.size());
  auto envelope = decode_envelope(*payload);
  if (!envelope) {
    metrics().backplane_invalid.inc();
    if (invalid_log_.admit(std::chrono::steady_clock::now()))
      log::emit(log_events::invalid_envelope,
                {{"error", envelope.error().message}, {"sample", log::sample(*payload)}});
    return;
  }
  if (auto* heartbeat = std::get_if<HeartbeatEnvelope>(&*envelope)) {
    if (heartbeat->publisher == gateway_id_) return;
    auto seen = tracker_.on_heartbeat(heartbeat->publisher, heartbeat->last_sequence);
    if ((seen.verdict == SequenceVerdict::gap || seen.verdict == SequenceVerdict::implausible_gap) && events_.on_gap)
      events_.on_gap(heartbeat->publisher, seen.missed);
    return;
  }
  auto& action = std::get<ActionEnvelope>(*envelope);
  if (action.publisher == gateway_id_) return;  // ran here when it was published
  auto seen = tracker_.on_action(action.publisher, action.sequence);
  if (seen.verdict == SequenceVerdict::duplicate || seen.verdict == SequenceVerdict::implausible) return;
  if (seen.verdict == SequenceVerdict::implausible_gap) {
    if (events_.on_gap) events_.on_gap(action.publisher, seen.missed);
    return;
  }
  if (seen.verdict == SequenceVerdict::gap && events_.on_gap) events_.on_gap(action.publisher, seen.missed);
  if (events_.on_action) events_.on_action(action.publisher, action.sequence, {}, std::move(action.action));
}

}  // namespace sb::backplane
