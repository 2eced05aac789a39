#pragma once
// Span export in OTLP/HTTP JSON (--otlp-endpoint; https://opentelemetry.io/docs/specs/otlp/): spans
// wait in a bounded queue and a thread of their own POSTs them to <endpoint>/v1/traces in batches, so
// no event loop ever waits for the collector. A full queue drops new spans (counted); a batch the
// collector refuses or can't take in time is dropped too (counted, logged at most once a minute).
// Off (the default), recording costs one relaxed atomic load.
#include <string>
#include <vector>

#include "common/url.hpp"
#include "tracing/span.hpp"

namespace sb::tracing {

// True while spans are exported: build a span only then.
bool is_exporting();
// Hands a finished span to the exporter; from any thread, never blocks on the network.
void record(Span span);

// Starts exporting to `endpoint` (http://host:port[/path]; /v1/traces is appended unless the path
// already ends with it). Call once, before the event loops start.
void start_export(const Url& endpoint);
// Sends what is queued (best effort, within ~2 s) and stops the thread. Idempotent.
void stop_export();

// The request body for `spans`: one resource (service.name=switchboard), one scope. Pure.
std::string encode_otlp_json(const std::vector<Span>& spans);

}  // namespace sb::tracing
