#pragma once
// Liveness in the fleet (docs/scaling.md "Guarantees", Leases): each gateway holds a lease in Redis and
// renews it every third of --redis-lease; a gateway whose lease expired is dead (crashed, or cut off
// from Redis for longer than its lease), and one live gateway, whichever claims it first, reaps it:
// unregisters its connections and sends `disconnected` upstream for each. A gateway that finds its own
// lease reaped must drop its connections, since the function was told they were gone.
// With the fleet log, a dead gateway's stateful connections that have a checkpoint are parked instead:
// they may resume on another gateway until their reconnect window ends, and only then are they reaped
// (reap_parked), once, unless one resumed.
//
// Threads: the backplane thread only. Owned by shared_ptr: a pending reply holds one.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "backplane/fleet_signature.hpp"
#include "backplane/redis_keys.hpp"
#include "common/log_throttle.hpp"
#include "connection/connection_identity.hpp"

namespace sb::backplane {

class CommandQueue;

class LeaseKeeper : public std::enable_shared_from_this<LeaseKeeper> {
 public:
  struct Events {
    std::function<void()> on_lease_lost;  // another gateway reaped this one while it was cut off
    std::function<void(const std::string& gateway)> on_gateway_reaped;  // this one reaped `gateway`
    std::function<void(connection::ConnectionIdentity)> on_orphan;      // one of its: send `disconnected`
  };

  // Reaped identities must carry the fleet's signature: a reaper acts only on what a gateway wrote.
  LeaseKeeper(const RedisKeys& keys, std::string gateway_id, std::chrono::milliseconds lease,
              std::chrono::milliseconds reconnect_window, std::shared_ptr<const FleetSignature> signature,
              std::shared_ptr<CommandQueue> queue, Events events);

  // Renews this gateway's lease, ahead of the queue: a long queue must not let it lapse.
  void renew();
  // Reaps one dead gateway, then the next, until none is left; then parked connections whose window ended.
  void reap();
  // The command by which this gateway leaves: its connections and lease go, so nobody reaps it.
  std::vector<std::string> leave_command() const;

 private:
  std::optional<connection::ConnectionIdentity> signed_identity(std::string_view stored);
  void reap_parked();

  RedisKeys keys_;
  std::shared_ptr<const FleetSignature> signature_;
  log::LogThrottle refused_log_{std::chrono::seconds(5)};
  std::string gateway_id_;
  std::chrono::milliseconds lease_;
  std::chrono::milliseconds reconnect_window_;
  std::shared_ptr<CommandQueue> queue_;
  Events events_;
};

}  // namespace sb::backplane
