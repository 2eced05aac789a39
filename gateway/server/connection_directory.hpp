#pragma once
// Connections by connection token, for the requests that must find one from any thread: SSE and
// long-polling sends (POST), polls (GET), stops (DELETE), and a second WebSocket for a live id (409).
// One mutex, held for a map operation only; entries point at transports weakly, so a finished
// connection simply stops being found (and is swept out later).
#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "connection/connection.hpp"
#include "transport/transport.hpp"

namespace sb::server {

enum class TransportKind { websockets, server_sent_events, long_polling };

struct DirectoryEntry {
  boost::asio::any_io_executor executor;  // the connection's thread: post everything there
  std::weak_ptr<transport::Transport> transport;      // SSE and long polling: where sends and polls go
  TransportKind kind{};
  std::string hub_key;
  std::weak_ptr<connection::Connection> connection{};  // WebSockets: what a stateful reconnect resumes
};

class ConnectionDirectory {
 public:
  void add(const std::string& token, DirectoryEntry entry);
  // nullopt when unknown or when both its transport and its connection are gone.
  std::optional<DirectoryEntry> find(const std::string& token);
  // Entries held, finished connections not yet swept out included.
  std::size_t size();

  static constexpr std::size_t min_adds_between_sweeps = 1024;

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, DirectoryEntry> entries_;
  std::size_t adds_since_sweep_ = 0;
  std::size_t kept_by_last_sweep_ = 0;
};

}  // namespace sb::server
