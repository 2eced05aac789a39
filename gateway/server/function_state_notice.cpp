#include "server/function_state_notice.hpp"

#include <boost/asio/post.hpp>

#include "common/url.hpp"
#include "hub/message_encoding.hpp"
#include "server/shard.hpp"

namespace sb::server {
namespace {

// Does a message of `hub` go to `function` (scheme://authority)? By the first rule that takes the hub's
// messages; a rule that picks by event name counts for the hub if any event may match it.
bool serves(const std::vector<config::UpstreamRule>& rules, const std::string& hub, const std::string& function) {
  for (const auto& rule : rules) {
    if (!rule.hubs.matches(hub) || !rule.categories.matches("messages")) continue;
    auto url = parse_url(rule.expand(hub, "messages", "event"));
    if (url && url->origin() == function) return true;
  }
  return false;
}

}  // namespace

void notify_function_state(hub::HubRegistry& registry, const std::vector<config::UpstreamRule>& rules,
                           const std::string& target, const std::string& function, bool is_down) {
  // Encoded once for every connection of every hub it reaches.
  auto message = hub::encode_invocation(target, is_down ? R"(["down"])" : R"(["up"])");
  const auto now = hub::HubRegistry::Clock::now();
  for (const auto& [hub_key, hub_name] : registry.hubs_with_connections()) {
    if (!serves(rules, hub_name, function)) continue;
    hub::SendAction send;
    send.hub_key = hub_key;
    send.scope = hub::Scope::all;
    send.message = message;
    registry.execute(hub::Action(std::move(send)), now);
  }
}

FunctionStateNotices::FunctionStateNotices(std::vector<Shard*> shards, const std::vector<config::UpstreamRule>& rules,
                                           std::string target)
    : shards_(std::move(shards)), rules_(rules), target_(std::move(target)) {}

void FunctionStateNotices::on_circuit_change(const std::string& function, bool is_open) {
  {
    std::lock_guard lock(mutex_);
    const bool is_transition = is_open ? down_.insert(function).second : down_.erase(function) == 1;
    if (!is_transition) return;
  }
  for (auto* shard : shards_)
    boost::asio::post(shard->io, [this, shard, function, is_open] {
      notify_function_state(shard->registry, rules_, target_, function, is_open);
    });
}

}  // namespace sb::server
