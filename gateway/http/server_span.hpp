#pragma once
// The span of a request this gateway serves (a REST call, a negotiate): a child of the caller's
// traceparent when it sent a valid one, else a new trace. Its start, name and the caller's tracestate are
// taken only while spans are exported (tracing/otlp_exporter.hpp); finish_server_span records it.
#include <string_view>

#include "http/responses.hpp"
#include "tracing/span.hpp"

namespace sb::http {

tracing::Span server_span(const Request& request, std::string_view kind);

// Ends `span` with the answer's status and records it (when it was started: spans are exported).
void finish_server_span(tracing::Span span, unsigned status);

}  // namespace sb::http
