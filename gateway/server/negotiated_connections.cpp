#include "server/negotiated_connections.hpp"

namespace sb::server {

NegotiatedConnections::NegotiatedConnections(std::chrono::milliseconds timeout, std::size_t max_entries)
    : timeout_(timeout), max_entries_(max_entries) {}

void NegotiatedConnections::expire(Clock::time_point now) {
  while (!expiry_order_.empty() && expiry_order_.front().first <= now) {
    auto it = entries_.find(expiry_order_.front().second);
    if (it != entries_.end() && it->second.expires_at <= now) entries_.erase(it);
    expiry_order_.pop_front();
  }
}

bool NegotiatedConnections::add(const std::string& token, NegotiatedConnection connection, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  expire(now);
  if (entries_.size() >= max_entries_) return false;
  auto expires_at = now + timeout_;
  entries_[token] = Entry{std::move(connection), expires_at};
  expiry_order_.emplace_back(expires_at, token);
  return true;
}

std::optional<NegotiatedConnection> NegotiatedConnections::take(const std::string& token, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  expire(now);
  auto it = entries_.find(token);
  if (it == entries_.end()) return std::nullopt;
  auto connection = std::move(it->second.connection);
  entries_.erase(it);
  return connection;
}

}  // namespace sb::server
