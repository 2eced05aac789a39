#pragma once
// Connections by connection id, for the requests that must find one from any thread: SSE and
// long-polling sends (POST), polls (GET), stops (DELETE), a stateful reconnect, and a second transport
// for a live id (409). One mutex, held for a map operation only; entries point at transports weakly.
//
// Connection tokens are self-contained (auth/connection_token.hpp): nothing remembers that a token was
// used but this table. So an entry stays after its connection ends, as a tombstone, until its token can
// no longer open a connection (`keep_until_ms`): a poll for a connection that ended answers 404 instead
// of starting it again, and a token opens at most one connection here.
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "transport/transport.hpp"

namespace sb::connection {
class Connection;
}
namespace sb::hub {
class HubRegistry;
}

namespace sb::server {

enum class TransportKind { websockets, server_sent_events, long_polling };

struct DirectoryEntry {
  boost::asio::any_io_executor executor;  // the connection's thread: post everything there
  std::weak_ptr<transport::Transport> transport;      // SSE and long polling: where sends and polls go
  TransportKind kind{};
  std::string hub_key;
  std::weak_ptr<connection::Connection> connection{};  // WebSockets: what a stateful reconnect resumes
  hub::HubRegistry* registry = nullptr;  // WebSockets: its shard's registry (its place in the fleet log)
  std::int64_t keep_until_ms = 0;  // unix ms: the tombstone may go once the token can't open a connection
};

// What the table knows of a connection id.
enum class Presence {
  unknown,  // never opened here (or its tombstone expired)
  live,     // open (or opening): `entry` says where
  ended,    // opened here and over, or reserved by an open that did not get through
};

struct Lookup {
  Presence presence = Presence::unknown;
  DirectoryEntry entry;  // set when live
};

// Unix time in milliseconds, the directory's clock: a token's expiry is a wall-clock time that every
// gateway of a fleet can check.
std::int64_t unix_now_ms();

class ConnectionDirectory {
 public:
  // Claims `connection_id` for a connection about to open, atomically: false (and nothing changes) when
  // the id is live or ended here already. The claim reads as `ended` until `add` fills it in.
  bool reserve(const std::string& connection_id, std::int64_t keep_until_ms, std::int64_t now_ms);
  // Drops a reservation that did not become a connection here (another gateway of the fleet holds the
  // id): later requests for it are relayed, not refused. False when the id is live here.
  bool release(const std::string& connection_id);
  // A connection that moved to another gateway (a handoff): not ended, just not here. Requests for it
  // are relayed to its new holder.
  void forget(const std::string& connection_id);
  // Records (or replaces) where a connection lives.
  void add(const std::string& connection_id, DirectoryEntry entry, std::int64_t now_ms);
  Lookup find(const std::string& connection_id, std::int64_t now_ms);
  // Entries held, tombstones included.
  std::size_t size();

  static constexpr std::size_t min_adds_between_sweeps = 1024;

 private:
  void sweep_if_due(std::int64_t now_ms);

  std::mutex mutex_;
  std::unordered_map<std::string, DirectoryEntry> entries_;
  std::size_t adds_since_sweep_ = 0;
  std::size_t kept_by_last_sweep_ = 0;
};

}  // namespace sb::server
