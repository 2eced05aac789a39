#pragma once
// The operator console's JSON API (docs/operations.md "Operator console", the API table): the fleet's
// figures and history, this gateway's hubs, groups and connections, and the operator's actions (close
// a connection or a group, send a test message, drain a gateway). A question for another gateway of
// the fleet (`gateway=<id>`) is relayed to it through Redis (RelayKind::console) and answered there by
// its own ConsoleApi; actions on clients go through the backplane, so they reach the whole fleet.
//
// Threads: answer() may be called on any loop thread; the answer is posted to `reply_on`.
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "console/fleet_trace_feed.hpp"
#include "console/peer_trace_watches.hpp"
#include "console/registry_report.hpp"

namespace sb::backplane {
class Backplane;
}

namespace sb::console {

class StatsSampler;

struct ApiAnswer {
  unsigned status = 200;
  std::string body;  // JSON
};

struct ConsoleServices {
  std::vector<ShardView> shards;
  backplane::Backplane* backplane = nullptr;
  StatsSampler* sampler = nullptr;
  std::string gateway_id;                // this gateway's id in the fleet ("local" without one)
  std::function<void()> drain;           // starts this gateway's drain, as SIGTERM does
  std::function<std::string()> redis_state;  // "off", "ready" or "degraded"
  boost::asio::any_io_executor executor;     // where the console's own timers run (the main loop)
};

class ConsoleApi {
 public:
  explicit ConsoleApi(ConsoleServices services);

  // `route`: the path under /admin/api/ ("hubs"), `query` the raw query, `body` a POST's JSON.
  // `relayed`: it came from another gateway (it is never relayed again).
  void answer(bool is_post, std::string_view route, std::string_view query, std::string body, bool relayed,
              boost::asio::any_io_executor reply_on, std::function<void(ApiAnswer)> done);

  const std::string& gateway_id() const { return services_.gateway_id; }

  // A fleet-wide trace for one viewer (fleet_trace_feed.hpp), started; nullptr without a fleet.
  std::shared_ptr<FleetTraceFeed> fleet_trace(boost::asio::any_io_executor executor, TraceFilter filter,
                                              FleetTraceFeed::Deliver deliver);

 private:
  void fleet(boost::asio::any_io_executor reply_on, std::function<void(ApiAnswer)> done);
  void history(const std::string& gateway, boost::asio::any_io_executor reply_on, std::function<void(ApiAnswer)> done);
  void action(std::string_view route, const std::string& body, boost::asio::any_io_executor reply_on,
              std::function<void(ApiAnswer)> done);

  ConsoleServices services_;
  // Viewers on other gateways watching this one's trace ("trace-poll", relayed only).
  std::shared_ptr<PeerTraceWatches> peer_watches_;
};

}  // namespace sb::console
