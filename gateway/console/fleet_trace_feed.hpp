#pragma once
// One live-trace viewer's events from the other gateways of the fleet (the trace's scope=fleet): for
// each gateway that keeps console samples in Redis, a loop of relayed questions ("trace-poll", answered
// by that gateway's PeerTraceWatches) that brings back what its trace gave the viewer's filter. The
// gateways are looked up again every `refresh_every`, so one that joins later is watched too; one that
// leaves stops answering and its loop ends. Each event names the gateway it happened on.
//
// Through Redis, like everything the fleet says (the signed inbox relay): no connection between gateways.
// The filter, sampling and byte budget apply on each gateway; the viewer's own stream stays bounded by
// its queue (trace_stream.hpp).
//
// Threads: the executor's only (the viewer's). Owned by shared_ptr: relays hold weak ones.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "console/live_trace.hpp"

namespace sb::backplane {
class Backplane;
}

namespace sb::console {

class FleetTraceFeed : public std::enable_shared_from_this<FleetTraceFeed> {
 public:
  // Also how long a gateway whose question failed (a relay timeout, too many watches) waits to be asked again.
  static constexpr std::chrono::milliseconds refresh_every{5000};

  // `deliver` gets JSON lines, on the executor.
  using Deliver = std::function<void(std::string lines)>;
  FleetTraceFeed(boost::asio::any_io_executor executor, backplane::Backplane& backplane, std::string self_id,
                 TraceFilter filter, Deliver deliver);

  void start();
  // The viewer is gone: no more questions, and each gateway is told to let go of its watch.
  void stop();

 private:
  void refresh();
  void ask(const std::string& gateway);

  boost::asio::any_io_executor executor_;
  backplane::Backplane& backplane_;
  std::string self_id_;
  std::string watch_request_;  // the JSON body of every question (trace_filter_codec.hpp)
  std::string watch_id_;
  Deliver deliver_;
  std::set<std::string> asking_;
  boost::asio::steady_timer refresh_timer_;
  bool stopped_ = false;
};

}  // namespace sb::console
