#include "backplane/lease_keeper.hpp"

#include <utility>

#include "backplane/backplane_log.hpp"
#include "backplane/command_queue.hpp"
#include "backplane/identity_codec.hpp"
#include "backplane/redis_reply.hpp"
#include "backplane/redis_scripts.hpp"
#include "backplane/refused_message.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"

namespace sb::backplane {

LeaseKeeper::LeaseKeeper(const RedisKeys& keys, std::string gateway_id, std::chrono::milliseconds lease,
                         std::chrono::milliseconds reconnect_window, std::shared_ptr<const FleetSignature> signature,
                         std::shared_ptr<CommandQueue> queue, Events events)
    : keys_(keys),
      signature_(std::move(signature)),
      gateway_id_(std::move(gateway_id)),
      lease_(lease),
      reconnect_window_(reconnect_window),
      queue_(std::move(queue)),
      events_(std::move(events)) {}

void LeaseKeeper::renew() {
  RedisCommand command;
  command.argv = scripts::renew_lease(keys_, gateway_id_, lease_);
  command.on_reply = [self = shared_from_this()](const redis::Reply* reply) {
    auto added = reply_integer(reply);
    if (!added) return;
    if (*added == 2) {
      // Another gateway took us for dead and sent `disconnected` for our connections: they must
      // start afresh, or the function would see messages from connections it was told are gone.
      metrics().backplane_lease_lost.inc();
      log::emit(log_events::lease_lost, {{"gateway", self->gateway_id_}});
      if (self->events_.on_lease_lost) self->events_.on_lease_lost();
    }
  };
  queue_->send_now(std::move(command));
}

void LeaseKeeper::reap() {
  RedisCommand command;
  command.argv = scripts::reap_one(keys_, reconnect_window_);
  command.on_reply = [self = shared_from_this()](const redis::Reply* reply) {
    if (!reply || reply->type != redis::Reply::Type::array) return;
    if (reply->size() == 0) return self->reap_parked();
    std::string dead(reply_text(reply->element(0)));
    if (self->events_.on_gateway_reaped) self->events_.on_gateway_reaped(dead);
    log::emit(log_events::gateway_reaped, {{"gateway", dead}, {"connections", reply->size() - 1}});
    for (std::size_t i = 1; i < reply->size(); ++i) {
      auto identity = self->signed_identity(reply_text(reply->element(i)));
      if (!identity) continue;
      metrics().backplane_reaped.inc();
      if (self->events_.on_orphan) self->events_.on_orphan(std::move(identity).value());
    }
    self->reap();  // another may be dead too
  };
  queue_->submit(std::move(command), /*may_drop=*/false);
}

void LeaseKeeper::reap_parked() {
  constexpr std::size_t batch = 1000;
  RedisCommand command;
  command.argv = scripts::reap_parked(keys_, batch);
  command.on_reply = [self = shared_from_this()](const redis::Reply* reply) {
    if (!reply || reply->type != redis::Reply::Type::array || reply->size() == 0) return;
    log::emit(log_events::parked_reaped, {{"connections", reply->size()}});
    for (std::size_t i = 0; i < reply->size(); ++i) {
      auto identity = self->signed_identity(reply_text(reply->element(i)));
      if (!identity) continue;
      metrics().backplane_reaped.inc();
      if (self->events_.on_orphan) self->events_.on_orphan(std::move(identity).value());
    }
    if (reply->size() == batch) self->reap_parked();
  };
  queue_->submit(std::move(command), /*may_drop=*/false);
}

std::optional<connection::ConnectionIdentity> LeaseKeeper::signed_identity(std::string_view stored) {
  auto opened = signature_->open(stored);
  if (!opened) {
    report_refused(refused_log_, "identity", opened.error(), stored.size());
    return std::nullopt;
  }
  auto identity = decode_identity(*opened);
  if (!identity) return std::nullopt;
  return std::move(identity).value();
}

std::vector<std::string> LeaseKeeper::leave_command() const {
  return scripts::leave(keys_, gateway_id_);
}

}  // namespace sb::backplane
