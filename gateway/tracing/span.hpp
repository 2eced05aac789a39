#pragma once
// One finished span, as the OTLP exporter sends it: what the gateway did for one call of a trace (a
// REST request it served, a negotiate, an upstream request it made).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tracing/trace_context.hpp"

namespace sb::tracing {

enum class SpanKind { server = 2, client = 3 };  // OTLP's numbering

struct Span {
  TraceContext context;        // its trace and its own span id
  std::string parent_span_id;  // empty for a root
  std::string trace_state;     // the caller's tracestate (accepted_tracestate), or empty
  std::string name;            // "POST /api/hubs/{hub}/:send", "upstream message say", ...
  SpanKind kind = SpanKind::server;
  std::uint64_t start_unix_nanos = 0;
  std::uint64_t end_unix_nanos = 0;
  bool is_error = false;
  std::vector<std::pair<std::string, std::string>> attributes;  // string values
};

std::uint64_t unix_nanos_now();

}  // namespace sb::tracing
