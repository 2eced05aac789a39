#include "connection/connection_set.hpp"

#include <algorithm>

#include "connection/connection.hpp"

namespace sb::connection {

ConnectionSet::ConnectionSet(boost::asio::any_io_executor executor)
    : timer_(std::move(executor)), coarse_now_(std::chrono::steady_clock::now()) {}

void ConnectionSet::add(Connection& connection) {
  connection.set_index_ = connections_.size();
  connections_.push_back(&connection);
}

void ConnectionSet::remove(Connection& connection) {
  auto index = connection.set_index_;
  if (index >= connections_.size() || connections_[index] != &connection) return;
  if (is_walking_) {
    // Removing would reorder the vector under the walk: tombstone now, compact after.
    connections_[index] = nullptr;
    connection.set_index_ = static_cast<std::size_t>(-1);
    has_removed_during_walk_ = true;
    return;
  }
  connections_[index] = connections_.back();
  connections_[index]->set_index_ = index;
  connections_.pop_back();
  connection.set_index_ = static_cast<std::size_t>(-1);
}

void ConnectionSet::start_heartbeat() {
  is_stopped_ = false;
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    // The set outlives its timer (both belong to the thread's shard, stopped before destruction).
    if (ec || is_stopped_) return;
    on_tick();
    start_heartbeat();
  });
}

void ConnectionSet::stop_heartbeat() {
  is_stopped_ = true;
  timer_.cancel();
}

void ConnectionSet::on_tick() {
  refresh_clock();
  for_each([this](Connection& c) { c.on_heartbeat(coarse_now_); });
}

void ConnectionSet::finish_walk() {
  is_walking_ = false;
  if (has_removed_during_walk_) {
    has_removed_during_walk_ = false;
    connections_.erase(std::remove(connections_.begin(), connections_.end(), nullptr), connections_.end());
    for (std::size_t i = 0; i < connections_.size(); ++i) connections_[i]->set_index_ = i;
  }
}

}  // namespace sb::connection
