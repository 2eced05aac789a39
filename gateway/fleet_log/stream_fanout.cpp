#include "fleet_log/stream_fanout.hpp"


#include <utility>

#include "backplane/backplane_log.hpp"
#include "backplane/command_queue.hpp"
#include "backplane/envelope.hpp"
#include "backplane/redis_link.hpp"
#include "backplane/redis_reply.hpp"
#include "backplane/refused_message.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"

namespace sb::fleet_log {
namespace {

using backplane::reply_text;

// One read returns at most this many entries; it blocks this long when there are none, so that a dead
// link shows (the link's own checks) without a read hanging forever.
constexpr const char* read_count = "1000";
constexpr const char* block_ms = "5000";
constexpr const char* field = "e";

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

StreamFanout::StreamFanout(const backplane::RedisKeys& keys, std::string gateway_id,
                           std::shared_ptr<const backplane::FleetSignature> signature,
                           std::shared_ptr<backplane::CommandQueue> queue, StreamLimits limits, Events events)
    : key_(keys.log()),
      gateway_id_(std::move(gateway_id)),
      signature_(std::move(signature)),
      queue_(std::move(queue)),
      limits_(limits),
      events_(std::move(events)) {}

// Entries older than the retention go as new ones come ("~": Redis trims whole nodes, cheaply; the
// floor is this gateway's clock, so keep clocks in step to within the retention).
std::string StreamFanout::trim_floor() const {
  const auto retention = static_cast<std::uint64_t>(limits_.retention.count());
  const auto now = now_ms();
  return std::to_string(now > retention ? now - retention : 0);
}

backplane::FanoutAppend StreamFanout::append(const hub::SharedAction& action, std::uint64_t sequence) {
  last_sequence_ = sequence;
  return {{key_},
          {"XADD", key_, "MINID", "~", trim_floor(), "*", field,
           signature_->sign(backplane::encode_envelope(backplane::ActionEnvelope{gateway_id_, sequence, action}))}};
}

void StreamFanout::on_tick() {
  backplane::RedisCommand heartbeat;
  heartbeat.argv = {"XADD", key_, "MINID", "~", trim_floor(), "*", field,
                    signature_->sign(backplane::encode_envelope(backplane::HeartbeatEnvelope{gateway_id_, last_sequence_}))};
  queue_->submit(std::move(heartbeat), /*may_drop=*/true);
  backplane::RedisCommand trim;
  trim.argv = {"XTRIM", key_, "MAXLEN", "~", std::to_string(limits_.max_entries)};
  queue_->submit(std::move(trim), /*may_drop=*/true);
}

void StreamFanout::receive_on(const std::shared_ptr<backplane::RedisLink>& link) {
  link_ = link;
  const auto generation = ++read_generation_;
  if (has_read_) {
    read_next(generation);
    if (events_.on_receiving) events_.on_receiving();
    return;
  }
  // The first time: read from the log's current end, fixed before anything of ours is appended (an
  // XREAD "$" sent on this link could reach Redis after our first XADD on the other).
  // An empty log gets a first entry (a heartbeat), so that every position a gateway reports is an
  // entry the log holds until it is trimmed: what a resume checks (backplane::scripts::read_log_after).
  link->command({"XADD", key_, "*", field,
                 signature_->sign(backplane::encode_envelope(backplane::HeartbeatEnvelope{gateway_id_, last_sequence_}))},
                [](const redis::Reply*) {});
  link->command({"XREVRANGE", key_, "+", "-", "COUNT", "1"}, [weak = weak_from_this(), generation](const redis::Reply* reply) {
    auto self = weak.lock();
    if (!self || generation != self->read_generation_ || !reply || reply->type != redis::Reply::Type::array) return;
    if (reply->size() == 1 && reply->element(0)->type == redis::Reply::Type::array && reply->element(0)->size() >= 1) {
      if (auto last = hub::LogPosition::parse(reply_text(reply->element(0)->element(0)))) self->last_read_ = *last;
    }
    self->has_read_ = true;
    if (self->events_.on_reading_from) self->events_.on_reading_from(self->last_read_);
    self->read_next(generation);
    if (self->events_.on_receiving) self->events_.on_receiving();
  });
}

void StreamFanout::read_next(std::uint64_t generation) {
  auto link = link_.lock();
  if (!link || generation != read_generation_) return;
  link->command({"XREAD", "COUNT", read_count, "BLOCK", block_ms, "STREAMS", key_, last_read_.to_string()},
                [weak = weak_from_this(), generation](const redis::Reply* reply) {
                  auto self = weak.lock();
                  if (!self || generation != self->read_generation_ || !reply) return;  // the link went down
                  self->on_entries(reply);
                  self->read_next(generation);
                });
}

// [[key, [[id, [field, value, …]], …]]], or nil when the block timed out.
void StreamFanout::on_entries(const redis::Reply* reply) {
  if (reply->type != redis::Reply::Type::array || reply->size() == 0) return;
  const redis::Reply* stream = reply->element(0);
  if (stream->type != redis::Reply::Type::array || stream->size() < 2 || stream->element(1)->type != redis::Reply::Type::array) return;
  const redis::Reply* entries = stream->element(1);
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const redis::Reply* entry = entries->element(i);
    if (entry->type != redis::Reply::Type::array || entry->size() < 2) continue;
    auto position = hub::LogPosition::parse(reply_text(entry->element(0)));
    if (!position) continue;
    last_read_ = *position;
    const redis::Reply* fields = entry->element(1);
    std::string_view payload;
    if (fields->type == redis::Reply::Type::array && fields->size() >= 2 && reply_text(fields->element(0)) == field)
      payload = reply_text(fields->element(1));
    on_entry(*position, payload);
  }
}

void StreamFanout::on_entry(hub::LogPosition position, std::string_view message) {
  auto opened = signature_->open(message);
  if (!opened) return backplane::report_refused(refused_log_, "fleet_log", opened.error(), message.size());
  std::string_view payload = *opened;
  // Our own actions come back too: the owner runs the ones it kept (or skips them, run already), so
  // their actions need no decoding.
  if (auto stamp = backplane::decode_envelope_stamp(payload);
      stamp && !stamp->is_heartbeat && stamp->publisher == gateway_id_) {
    if (events_.on_action) events_.on_action(stamp->publisher, stamp->sequence, position, nullptr);
    return;
  }
  auto envelope = backplane::decode_envelope(payload);
  if (!envelope) {
    metrics().backplane_invalid.inc();
    if (invalid_log_.admit(std::chrono::steady_clock::now()))
      log::emit(backplane::log_events::invalid_envelope,
                {{"error", envelope.error().message}, {"sample", log::sample(payload)}});
    return;
  }
  if (auto* heartbeat = std::get_if<backplane::HeartbeatEnvelope>(&*envelope)) {
    if (heartbeat->publisher == gateway_id_) return;
    auto seen = tracker_.on_heartbeat(heartbeat->publisher, heartbeat->last_sequence);
    if ((seen.verdict == backplane::SequenceVerdict::gap || seen.verdict == backplane::SequenceVerdict::implausible_gap) && events_.on_gap)
      events_.on_gap(heartbeat->publisher, seen.missed);
    return;
  }
  auto& action = std::get<backplane::ActionEnvelope>(*envelope);
  auto seen = tracker_.on_action(action.publisher, action.sequence);
  if (seen.verdict == backplane::SequenceVerdict::duplicate || seen.verdict == backplane::SequenceVerdict::implausible) return;
  if (seen.verdict == backplane::SequenceVerdict::implausible_gap) {
    if (events_.on_gap) events_.on_gap(action.publisher, seen.missed);
    return;
  }
  if (seen.verdict == backplane::SequenceVerdict::gap && events_.on_gap) events_.on_gap(action.publisher, seen.missed);
  if (events_.on_action) events_.on_action(action.publisher, action.sequence, position, std::move(action.action));
}

}  // namespace sb::fleet_log
