#pragma once
// The default backplane: one gateway. Posts each action once to every thread's registry (nothing is
// posted per recipient) and gathers the outcome.
#include <vector>

#include "backplane/backplane.hpp"
#include "hub/hub_registry.hpp"

namespace sb::backplane {

class InProcessBackplane : public Backplane {
 public:
  struct Shard {
    boost::asio::any_io_executor executor;
    hub::HubRegistry* registry;  // lives as long as the gateway; used on `executor` only
  };

  explicit InProcessBackplane(std::vector<Shard> shards);
  void publish(hub::SharedAction action, boost::asio::any_io_executor reply_on, Done done) override;
  // The same, for an action numbered on the fleet's fan-out: each shard records where it came from.
  void publish(hub::SharedAction action, hub::ActionOrigin origin, boost::asio::any_io_executor reply_on, Done done);

 private:
  std::vector<Shard> shards_;
};

}  // namespace sb::backplane
