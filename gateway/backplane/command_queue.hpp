#pragma once
// The commands waiting for Redis, and those sent whose reply has not come yet. Every command of the
// backplane goes through here, on one link, so replies match commands in order (Redis answers in
// order). While Redis is away commands wait; what is owed to the fleet (actions, heartbeats) is bounded
// by max_queue_bytes, past which it is dropped and counted (its sequence number stays used: receivers
// see the gap). State writes are not bounded: while Redis is down they are not queued at all, and the
// resync writes the state back. Queued bytes are exported as `backplane_queue_bytes`.
//
// Threads: the backplane thread only. Owned by shared_ptr: a pending reply reaches it through a weak one.
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/log_throttle.hpp"
#include "redis_client/reply.hpp"


namespace sb::backplane {

class CommandLink;

struct RedisCommand {
  std::vector<std::string> argv;
  std::function<void(const redis::Reply*)> on_reply;  // called once: the reply, or nullptr if none will come
  bool is_state_write = false;                      // dropped when the link is lost: the resync rewrites state anyway
  bool retries_on_loss = false;                     // sent again after a reconnect if its reply never came

  std::size_t bytes() const;
};

class CommandQueue : public std::enable_shared_from_this<CommandQueue> {
 public:
  explicit CommandQueue(std::size_t max_queue_bytes);

  // The link commands go out on from now on: a new one after each connect. Nothing is sent yet.
  void use_link(std::shared_ptr<CommandLink> link);
  // Redis is in sync and the fleet listens: queued commands go out, in order, and later ones follow
  // at once, with at most max_queue_bytes sent and unanswered.
  void start_sending();
  // The link went down (close it first: a closed RedisLink answers what it owed with nullptr, and
  // anything still unanswered is taken as lost the same way). Sending stops; what was sent, never
  // answered and retries on loss goes first next time, then what waited; state writes are dropped.
  void on_link_lost();

  // Queues a command behind the others. `may_drop`: an action or heartbeat, counted against
  // max_queue_bytes and dropped past it (its on_reply gets nullptr at once).
  void submit(RedisCommand command, bool may_drop);
  // Sends a command now, ahead of the queue (a lease renewal, the resync), even before start_sending().
  void send_now(RedisCommand command);

  // Waiting, sent, and lost (to be sent again) together.
  std::size_t queued_bytes() const { return queued_bytes_; }

 private:
  struct Entry {
    RedisCommand command;
    bool is_droppable = false;  // counts against max_queue_bytes
  };

  void flush();
  void issue(Entry entry);
  void on_reply(const redis::Reply* reply);
  void count(const Entry& entry);
  void uncount(const Entry& entry);
  void export_queued_bytes() const;

  std::size_t max_queue_bytes_;
  std::shared_ptr<CommandLink> link_;
  bool is_sending_ = false;
  std::deque<Entry> pending_;        // not sent yet
  std::deque<Entry> in_flight_;      // sent, reply awaited (replies come in order)
  std::deque<Entry> lost_;           // sent, link lost before the reply: requeued by on_link_lost()
  std::size_t queued_bytes_ = 0;     // pending_ + in_flight_ + lost_
  std::size_t droppable_bytes_ = 0;  // the actions and heartbeats among them: what max_queue_bytes bounds
  std::size_t in_flight_bytes_ = 0;
  log::LogThrottle drop_log_{std::chrono::seconds(5)};
};

}  // namespace sb::backplane
