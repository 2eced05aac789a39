#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header that ties one
// call, from a client or a REST caller through the gateway to the function, into one trace. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb::tracing {

struct TraceContext {
  std::string trace_id;  // 32 lowercase hex digits, not all zero
  std::string span_id;   // 16 lowercase hex digits, not all zero
  std::uint8_t flags = 1;  // bit 0: sampled

  bool is_sampled() const { return (flags & 1) != 0; }
  std::string header() const;  // "00-<trace_id>-<span_id>-<flags>"
};

// A traceparent header value, as the W3C spec reads it: version 00 exactly 55 characters; a later
// version at least that, its first four fields read as 00's; version ff, uppercase hex, all-zero ids
// and anything else malformed: nullopt (the caller starts a new trace).
std::optional<TraceContext> parse_traceparent(std::string_view header);

// A new trace with its first span, sampled.
TraceContext new_trace();
// A span of the same trace under `parent`, with its flags.
TraceContext child_of(const TraceContext& parent);
// A child of `parent_header` when it parses, else a new trace.
TraceContext continue_or_start(std::string_view parent_header);

// A tracestate header value fit to pass on with its traceparent (W3C: vendors' key=value list members,
// comma-separated): at most 512 characters and 32 members, printable ASCII, each member a key and a
// value around '='; blanks around members dropped. Anything else: empty (not passed on, as the spec
// allows).
std::string accepted_tracestate(std::string_view header);

}  // namespace sb::tracing
