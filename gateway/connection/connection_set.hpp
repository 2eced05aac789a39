#pragma once
// The live connections of one event-loop thread, and that thread's 1 s heartbeat: one timer per
// thread walks them for keep-alive pings and timeouts (ASP.NET checks on a 1 s heartbeat too), rather
// than one timer per connection. Owner thread only.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <vector>

namespace sb::connection {

class Connection;

class ConnectionSet {
 public:
  explicit ConnectionSet(boost::asio::any_io_executor executor);

  void add(Connection& connection);
  void remove(Connection& connection);  // safe during a heartbeat walk
  std::size_t size() const { return connections_.size(); }
  // The thread's loop: a connection posts its own end there (see Connection::finish_soon).
  boost::asio::any_io_executor executor() { return timer_.get_executor(); }

  // A clock read once per tick, for stamping sends and receives without a syscall per message.
  std::chrono::steady_clock::time_point coarse_now() const { return coarse_now_; }
  void refresh_clock() { coarse_now_ = std::chrono::steady_clock::now(); }

  // Calls `f` for each live connection (handshaking ones too); safe if `f` ends connections.
  template <typename F>
  void for_each(F f) {
    is_walking_ = true;
    for (std::size_t i = 0; i < connections_.size(); ++i)
      if (auto* c = connections_[i]) f(*c);
    finish_walk();
  }

  void start_heartbeat();
  void stop_heartbeat();

 private:
  void on_tick();
  void finish_walk();

  boost::asio::steady_timer timer_;
  std::vector<Connection*> connections_;  // each connection knows its index (swap-remove)
  std::chrono::steady_clock::time_point coarse_now_;
  bool is_walking_ = false;
  bool is_stopped_ = false;
  bool has_removed_during_walk_ = false;  // tombstones (nulls) to compact when the walk ends
};

}  // namespace sb::connection
