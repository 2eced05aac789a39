#include "backplane/command_queue.hpp"

#include <chrono>
#include <utility>

#include "backplane/backplane_log.hpp"
#include "backplane/command_link.hpp"
#include "backplane/redis_reply.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"

namespace sb::backplane {

std::size_t RedisCommand::bytes() const {
  std::size_t n = 0;
  for (const auto& a : argv) n += a.size();
  return n;
}

CommandQueue::CommandQueue(std::size_t max_queue_bytes) : max_queue_bytes_(max_queue_bytes) {}

void CommandQueue::use_link(std::shared_ptr<CommandLink> link) {
  link_ = std::move(link);
}

void CommandQueue::start_sending() {
  is_sending_ = true;
  flush();
}

void CommandQueue::submit(RedisCommand command, bool may_drop) {
  const auto bytes = command.bytes();
  if (may_drop && droppable_bytes_ + bytes > max_queue_bytes_) {
    metrics().backplane_dropped.inc();
    if (drop_log_.admit(std::chrono::steady_clock::now()))
      log::emit(log_events::queue_full, {{"queued_bytes", queued_bytes_}, {"limit", max_queue_bytes_}});
    if (command.on_reply) command.on_reply(nullptr);
    return;
  }
  Entry entry{std::move(command), may_drop};
  count(entry);
  pending_.push_back(std::move(entry));
  export_queued_bytes();
  flush();
}

void CommandQueue::send_now(RedisCommand command) {
  Entry entry{std::move(command), false};
  count(entry);
  issue(std::move(entry));
}

void CommandQueue::flush() {
  while (is_sending_ && !pending_.empty() && in_flight_bytes_ < max_queue_bytes_) {
    auto entry = std::move(pending_.front());
    pending_.pop_front();
    issue(std::move(entry));
  }
}

// Sends an entry already counted in queued_bytes_.
void CommandQueue::issue(Entry entry) {
  auto argv = entry.command.argv;
  const auto bytes = entry.command.bytes();
  in_flight_bytes_ += bytes;
  in_flight_.push_back(std::move(entry));
  bool sent = link_ && link_->command(argv, [weak = weak_from_this()](const redis::Reply* reply) {
    if (auto self = weak.lock()) self->on_reply(reply);
  });
  if (sent) return;
  // The link is unusable (it is going down): treat it as lost, as a closing link does.
  auto unsent = std::move(in_flight_.back());
  in_flight_.pop_back();
  in_flight_bytes_ -= bytes;
  if (unsent.command.on_reply) std::exchange(unsent.command.on_reply, nullptr)(nullptr);
  if (unsent.command.retries_on_loss)
    lost_.push_back(std::move(unsent));
  else
    uncount(unsent);
}

void CommandQueue::on_reply(const redis::Reply* reply) {
  if (in_flight_.empty()) return;
  auto entry = std::move(in_flight_.front());
  in_flight_.pop_front();
  in_flight_bytes_ -= entry.command.bytes();
  if (reply && reply->type == redis::Reply::Type::error)
    log::emit(log_events::redis_error,
              {{"command", entry.command.argv.front()}, {"error", log::sample(reply_text(reply))}});
  if (entry.command.on_reply) std::exchange(entry.command.on_reply, nullptr)(reply);
  if (!reply && entry.command.retries_on_loss) {
    lost_.push_back(std::move(entry));  // requeued, in order, by on_link_lost()
  } else {
    uncount(entry);
  }
  export_queued_bytes();
  if (reply) flush();
}

void CommandQueue::on_link_lost() {
  is_sending_ = false;
  while (!in_flight_.empty()) on_reply(nullptr);
  in_flight_bytes_ = 0;
  // Send again what never got an answer, first and in order; state writes are left to the resync.
  std::deque<Entry> requeued;
  for (auto& entry : lost_)
    if (!entry.command.is_state_write)
      requeued.push_back(std::move(entry));
    else
      uncount(entry);
  lost_.clear();
  for (auto& entry : pending_)
    if (!entry.command.is_state_write)
      requeued.push_back(std::move(entry));
    else
      uncount(entry);
  pending_ = std::move(requeued);
  export_queued_bytes();
}

void CommandQueue::count(const Entry& entry) {
  queued_bytes_ += entry.command.bytes();
  if (entry.is_droppable) droppable_bytes_ += entry.command.bytes();
}

void CommandQueue::uncount(const Entry& entry) {
  queued_bytes_ -= entry.command.bytes();
  if (entry.is_droppable) droppable_bytes_ -= entry.command.bytes();
}

void CommandQueue::export_queued_bytes() const {
  metrics().backplane_queue_bytes.set(static_cast<std::int64_t>(queued_bytes_));
}

}  // namespace sb::backplane
