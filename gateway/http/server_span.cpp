#include "http/server_span.hpp"

#include <string>

#include "tracing/otlp_exporter.hpp"
#include "tracing/trace_context.hpp"

namespace sb::http {

tracing::Span server_span(const Request& request, std::string_view kind) {
  tracing::Span span;
  auto parent = tracing::parse_traceparent(request["traceparent"]);
  span.context = parent ? tracing::child_of(*parent) : tracing::new_trace();
  if (parent) span.parent_span_id = parent->span_id;
  if (!tracing::is_exporting()) return span;
  if (parent) span.trace_state = tracing::accepted_tracestate(request["tracestate"]);
  span.start_unix_nanos = tracing::unix_nanos_now();
  span.kind = tracing::SpanKind::server;
  span.name = std::string(kind) + " " + std::string(request.method_string());
  auto target = std::string_view(request.target());
  span.attributes.emplace_back("url.path", std::string(target.substr(0, target.find('?'))));
  return span;
}

void finish_server_span(tracing::Span span, unsigned status) {
  if (span.start_unix_nanos == 0) return;
  span.end_unix_nanos = tracing::unix_nanos_now();
  span.is_error = status >= 500;
  span.attributes.emplace_back("http.response.status_code", std::to_string(status));
  tracing::record(std::move(span));
}

}  // namespace sb::http
