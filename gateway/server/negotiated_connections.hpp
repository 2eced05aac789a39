#pragma once
// Connections that negotiated but have not connected yet, by connection token. Negotiate and connect may
// land on different threads, so this one table is shared, behind a mutex held for a map operation only.
// An entry is taken (single use) by the transport that connects, or dropped after the negotiate timeout.
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/jwt.hpp"

namespace sb::server {

struct NegotiatedConnection {
  std::string connection_id;
  std::string hub;
  std::string user_id;
  auth::Claims claims;
  bool allows_stateful_reconnect = false;
  std::vector<std::string> groups;  // from a blocking `connect` reply, joined when it opens
};

class NegotiatedConnections {
 public:
  using Clock = std::chrono::steady_clock;
  NegotiatedConnections(std::chrono::milliseconds timeout, std::size_t max_entries);

  // False when the table is full (a negotiate flood): the caller answers 429/503.
  bool add(const std::string& token, NegotiatedConnection connection, Clock::time_point now);
  std::optional<NegotiatedConnection> take(const std::string& token, Clock::time_point now);

 private:
  void expire(Clock::time_point now);  // called with the mutex held

  struct Entry {
    NegotiatedConnection connection;
    Clock::time_point expires_at;
  };
  std::chrono::milliseconds timeout_;
  std::size_t max_entries_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::pair<Clock::time_point, std::string>> expiry_order_;
};

}  // namespace sb::server
