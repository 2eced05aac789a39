#pragma once
// Client results (REST :invoke, PROTOCOL.md part 2 §4.3): Invocations the gateway sent a client with an
// invocation id, each waiting for the client's Completion. One table per connection that has any (an
// idle connection holds none). Invocation ids are this table's own counter: the client keeps its own
// ids for the calls it makes, so the two directions never collide.
// Owned by its Connection; its thread only.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

namespace sb::connection {

enum class ClientResultKind {
  result,       // the client completed it: `text` is the result as JSON text ("null" for a void completion)
  error,        // the client completed it with an error: `text` is the client's error message
  timeout,      // no Completion within the timeout
  closed,       // the connection ended (or left this gateway) first
  not_open,     // not sent: the connection is not open (or not here)
  too_many,     // not sent: --max-client-invocations are waiting on this connection already
};

struct ClientResult {
  ClientResultKind kind = ClientResultKind::result;
  std::string text;
};

using ClientResultHandler = std::function<void(ClientResult)>;

class ClientInvocations {
 public:
  using Clock = std::chrono::steady_clock;

  // A new invocation id, waiting until `deadline`; `done` gets its outcome, exactly once.
  std::string add(Clock::time_point deadline, ClientResultHandler done);
  // The client's Completion for `invocation_id`; false when none waits with that id (unknown or late).
  bool complete(const std::string& invocation_id, ClientResult result);
  // Ends every invocation past its deadline with `timeout`.
  void expire(Clock::time_point now);
  // Ends every invocation with `kind` (the connection ended).
  void fail_all(ClientResultKind kind);

  std::size_t size() const { return waiting_.size(); }

 private:
  struct Waiting {
    Clock::time_point deadline;
    ClientResultHandler done;
  };
  std::uint64_t last_id_ = 0;
  std::unordered_map<std::string, Waiting> waiting_;
};

}  // namespace sb::connection
