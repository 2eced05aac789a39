#include "server/shard_drain.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "connection/connection.hpp"
#include "server/server_log.hpp"

namespace sb::server {
namespace {

// How often the spread closes the next few: fine enough that 5 s hold 250 steps, coarse enough to cost
// nothing (one timer per thread, not per connection).
constexpr auto spread_step = std::chrono::milliseconds(20);

const connection::CloseRequest& shutdown_close() {
  // ASP.NET closes with allowReconnect:true on server shutdown (PROTOCOL.md part 1 §6).
  static const connection::CloseRequest request{"server_shutdown", "Server is shutting down.", true};
  return request;
}

}  // namespace

ShardDrain::ShardDrain(boost::asio::any_io_executor executor, connection::ConnectionSet& connections)
    : timer_(std::move(executor)), connections_(connections) {}

void ShardDrain::start(DrainPlan plan) {
  if (is_started_) return;
  is_started_ = true;
  plan_ = std::move(plan);
  if (plan_.message) {
    // Before any close: a connection's frames go out in order, so its Close follows the message.
    connections_.for_each([this](connection::Connection& c) {
      if (c.is_open()) c.send_message(*plan_.message);
    });
  }
  if (plan_.mode == config::ShutdownMode::reconnect)
    schedule_ = lifecycle::SpreadSchedule(connections_.size(), plan_.spread);
  on_tick();
}

void ShardDrain::hurry() {
  if (!is_started_) return;
  plan_.close_all_at = std::chrono::steady_clock::now();
  on_tick();
}

void ShardDrain::stop() {
  is_stopped_ = true;
  timer_.cancel();
}

std::size_t ShardDrain::close_up_to(std::size_t count, bool is_timeout) {
  std::size_t closed = 0;
  if (count == 0) return 0;
  connections_.for_each([&](connection::Connection& c) {
    if (closed == count) return;
    auto state = c.state();
    if (state != connection::ConnectionState::open && state != connection::ConnectionState::handshaking) return;
    if (plan_.hands_over && !is_timeout && c.can_resume()) {
      if (c.is_detached()) return;  // handed over already, or its client is away: the timeout closes it
      c.detach_for_handoff();
      ++closed;
      return;
    }
    c.close(shutdown_close());
    ++closed;
  });
  metrics().shutdown_closed.inc(closed);
  return closed;
}

void ShardDrain::on_tick() {
  if (is_stopped_) return;
  auto now = std::chrono::steady_clock::now();
  if (now >= plan_.close_all_at) {
    auto closed = close_up_to(connections_.size(), /*is_timeout=*/true);
    if (closed > 0) log::emit(log_events::shutdown_closing_rest, {{"connections", closed}});
    return;  // nothing more to schedule: the gateway stops the loop once everything is delivered
  }
  auto next = plan_.close_all_at;
  if (plan_.mode == config::ShutdownMode::reconnect && closed_ < schedule_.total()) {
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - plan_.started_at);
    auto due = schedule_.due_by(elapsed);
    // Connections that left on their own count as done: don't close more than are due overall.
    if (due > closed_) {
      close_up_to(due - closed_, /*is_timeout=*/false);
      closed_ = due;
    }
    if (closed_ < schedule_.total()) next = std::min(next, now + spread_step);
  }
  schedule_tick(next);
}

void ShardDrain::schedule_tick(std::chrono::steady_clock::time_point at) {
  timer_.expires_at(at);
  // The drain belongs to its shard, which outlives the loop that runs this handler (as ConnectionSet's
  // heartbeat does), so `this` is safe here.
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    on_tick();
  });
}

}  // namespace sb::server
