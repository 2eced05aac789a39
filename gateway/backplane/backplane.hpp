#pragma once
// Where actions go to reach their targets: every shard of this gateway (in-process), and every gateway
// of the fleet (Redis). One interface, so scale-out is routing, not a second code path.
#include <boost/asio/any_io_executor.hpp>
#include <functional>

#include "connection/connection_identity.hpp"
#include "hub/action.hpp"

namespace sb::backplane {

class Backplane {
 public:
  using Done = std::function<void(hub::ActionOutcome)>;
  virtual ~Backplane() = default;

  // Runs `action` everywhere. Actions published from one thread run in publication order on every
  // shard (and, with Redis, on every gateway). `done` (optional) gets the merged outcome on `reply_on`
  // once every shard has run it (with Redis: once Redis has taken it, or queued while Redis is down).
  virtual void publish(hub::SharedAction action, boost::asio::any_io_executor reply_on, Done done) = 0;

  // A connection of this gateway opened (handshake done, indexed in its shard's registry) or closed.
  // Called on the connection's thread; the fleet's state records it. Nothing to do in-process.
  virtual void connection_opened(const connection::ConnectionIdentity&) {}
  virtual void connection_closed(const connection::ConnectionIdentity&) {}

  // False while this gateway cannot reach the rest of the fleet (Redis down): it still serves its own
  // connections, and /health/ready says "degraded". Any thread.
  virtual bool is_degraded() const { return false; }
};

}  // namespace sb::backplane
