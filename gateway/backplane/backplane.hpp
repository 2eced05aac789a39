#pragma once
// Where actions go to reach their targets: every shard of this gateway (in-process), and later every
// gateway of the fleet (Redis). One interface, so scale-out is routing, not a second code path.
#include <boost/asio/any_io_executor.hpp>
#include <functional>

#include "hub/action.hpp"

namespace sb::backplane {

class Backplane {
 public:
  using Done = std::function<void(hub::ActionOutcome)>;
  virtual ~Backplane() = default;

  // Runs `action` everywhere. Actions published from one thread run in publication order on every
  // shard. `done` (optional) gets the merged outcome on `reply_on` once every shard has run it.
  virtual void publish(hub::SharedAction action, boost::asio::any_io_executor reply_on, Done done) = 0;
};

}  // namespace sb::backplane
