#pragma once
// One event-loop thread's part of a graceful shutdown (PROTOCOL.md part 3 §3.6, docs/architecture.md
// "Shutdown"): send the configured message to every connection, then close them, each with a Close
// message carrying allowReconnect:true:
// - mode `reconnect`: spread evenly over the spread window (lifecycle::SpreadSchedule), so the clients
//   come back to the next gateway at that pace rather than as one herd;
// - mode `wait`: none until the timeout, letting clients leave on their own;
// - both: at the timeout, every connection still there.
// In a fleet, mode `reconnect` hands stateful-reconnect connections over rather than closing them.
// Owner thread only: start() is posted to it.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>

#include "config/config.hpp"
#include "connection/connection_set.hpp"
#include "lifecycle/spread_schedule.hpp"
#include "protocol/encoded_message.hpp"

namespace sb::server {

struct DrainPlan {
  config::ShutdownMode mode = config::ShutdownMode::reconnect;
  std::chrono::steady_clock::time_point started_at;
  std::chrono::milliseconds spread{0};                 // reconnect mode
  std::chrono::steady_clock::time_point close_all_at;  // the timeout
  protocol::SharedEncodedMessage message;              // null: none
  // Mode `reconnect` in a fleet (Redis, reachable): a connection that can resume is handed over
  // instead (its socket dropped without a Close: server/handoff.hpp), in the same spread; one still
  // here at the timeout was not taken, and is closed then.
  bool hands_over = false;
};

class ShardDrain {
 public:
  ShardDrain(boost::asio::any_io_executor executor, connection::ConnectionSet& connections);

  void start(DrainPlan plan);
  // A second signal: close everything now.
  void hurry();
  void stop();

 private:
  void schedule_tick(std::chrono::steady_clock::time_point at);
  void on_tick();
  // Skips connections already closing (and, before the timeout, those already handed over).
  std::size_t close_up_to(std::size_t count, bool is_timeout);

  boost::asio::steady_timer timer_;
  connection::ConnectionSet& connections_;
  DrainPlan plan_;
  lifecycle::SpreadSchedule schedule_;
  std::size_t closed_ = 0;
  bool is_started_ = false;
  bool is_stopped_ = false;
};

}  // namespace sb::server
