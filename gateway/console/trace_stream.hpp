#pragma once
// One live-trace viewer (console/live_trace.hpp): a Server-Sent Events response held open on the
// viewer's socket, fed the events its filter takes. Bounded: past max_queued_bytes waiting for a slow
// viewer, the stream is closed (the browser reconnects), never buffered further.
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>

#include "console/fleet_trace_feed.hpp"
#include "console/live_trace.hpp"
#include "transport/client_stream.hpp"

namespace sb::console {

constexpr std::size_t max_queued_bytes = 1024 * 1024;

// Starts a fleet-wide feed for the stream (scope=fleet): the other gateways' events, given to `deliver`
// on `executor`; nullptr without a fleet.
using FleetFeedStarter = std::function<std::shared_ptr<FleetTraceFeed>(boost::asio::any_io_executor executor,
                                                                        FleetTraceFeed::Deliver deliver)>;

// Takes `stream` (the session is done with it) and starts streaming events to it; `response_head` is the
// SSE response's status line and headers. With `fleet`, the other gateways' events join this one's.
void open_trace_stream(transport::ClientStream stream, std::string response_head, TraceFilter filter,
                       FleetFeedStarter fleet = {});

}  // namespace sb::console
