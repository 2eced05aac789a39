#pragma once
// One live-trace viewer (console/live_trace.hpp): a Server-Sent Events response held open on the
// viewer's socket, fed the events its filter takes. Bounded: past max_queued_bytes waiting for a slow
// viewer, the stream is closed (the browser reconnects), never buffered further.
#include <boost/asio/any_io_executor.hpp>
#include <string>

#include "console/live_trace.hpp"
#include "transport/client_stream.hpp"

namespace sb::console {

constexpr std::size_t max_queued_bytes = 1024 * 1024;

// Takes `stream` (the session is done with it) and starts streaming events to it; `response_head` is the
// SSE response's status line and headers.
void open_trace_stream(transport::ClientStream stream, std::string response_head, TraceFilter filter);

}  // namespace sb::console
