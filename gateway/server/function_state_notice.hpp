#pragma once
// --upstream-down-target (docs/upstream.md "Telling clients the function is down";
// aspnet/AzureSignalR-samples#263: clients stay "connected" while every invoke fails). When a
// function's circuit opens, and when it closes again, the clients of every hub whose messages go to
// that function get one invocation of the configured method: "down", then "up".
//
// Each shard keeps its own circuits; the gateway announces once per transition of the function as a
// whole: "down" when a first shard's circuit for it opens, "up" when a shard's circuit for it closes
// again (a call went through: the function answers). Other shards' transitions in between say nothing new.
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "config/upstream_rule.hpp"
#include "hub/hub_registry.hpp"

namespace sb::server {

struct Shard;

// Sends the notice to this shard's clients of the hubs `function` serves. On the shard's thread.
void notify_function_state(hub::HubRegistry& registry, const std::vector<config::UpstreamRule>& rules,
                           const std::string& target, const std::string& function, bool is_down);

class FunctionStateNotices {
 public:
  FunctionStateNotices(std::vector<Shard*> shards, const std::vector<config::UpstreamRule>& rules, std::string target);
  // A shard's circuit for `function` opened (true) or closed (false). From any shard's thread.
  void on_circuit_change(const std::string& function, bool is_open);

 private:
  std::vector<Shard*> shards_;
  const std::vector<config::UpstreamRule>& rules_;
  std::string target_;
  std::mutex mutex_;
  std::unordered_set<std::string> down_;  // functions announced down
};

}  // namespace sb::server
