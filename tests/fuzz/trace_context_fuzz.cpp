// libFuzzer target for tracing/trace_context (the traceparent header of REST callers, negotiates, connect
// requests and invocation headers). Properties: never crashes; whatever parses writes back as a version-00
// header that parses to the same context; a child of it keeps its trace id and flags.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tracing/trace_context.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto context = sb::tracing::parse_traceparent(input);
  if (!context) return 0;
  auto again = sb::tracing::parse_traceparent(context->header());
  if (!again || again->trace_id != context->trace_id || again->span_id != context->span_id || again->flags != context->flags)
    std::abort();
  auto child = sb::tracing::child_of(*context);
  if (child.trace_id != context->trace_id || child.flags != context->flags) std::abort();
  return 0;
}
