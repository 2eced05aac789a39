#pragma once
// Process-wide metrics, rendered in Prometheus text format at /metrics. Counters are relaxed atomics,
// so any thread may bump them; labelled families take a short mutex only to find the label's slot.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sb {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void set(std::int64_t n) { value_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Counters keyed by one label value ("reason", "outcome", "status"). Label values come from our own
// fixed vocabularies, never from clients, so the family stays small.
class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::string label);
  Counter& with(std::string_view label_value);
  void render(std::string& out) const;
  // Every label value and its count now (the operator console's samples).
  std::vector<std::pair<std::string, std::uint64_t>> values() const;

 private:
  std::string name_, help_, label_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Counter>, std::less<>> counters_;
};

class Histogram {
 public:
  Histogram(std::string name, std::string help, std::vector<double> upper_bounds_seconds);
  void observe(std::chrono::nanoseconds elapsed);
  void render(std::string& out) const;
  // The bucket, sum and count lines alone, each with `labels` (`route="x"`) before `le`.
  void render_samples(std::string& out, std::string_view labels) const;
  // The upper bounds (seconds), and each bucket's count now (not cumulative; the last is +Inf).
  const std::vector<double>& bounds() const { return bounds_; }
  std::vector<std::uint64_t> bucket_counts() const;

 private:
  std::string name_, help_;
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // one per bound, plus +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_nanos_{0};
};

// Histograms keyed by one label value (an upstream route). Values come from the configuration, never
// from clients, so the family stays small.
class HistogramFamily {
 public:
  HistogramFamily(std::string name, std::string help, std::string label, std::vector<double> upper_bounds_seconds);
  Histogram& with(std::string_view label_value);
  void render(std::string& out) const;

 private:
  std::string name_, help_, label_;
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Histogram>, std::less<>> histograms_;
};

// Every metric the gateway exposes, in one place so operators can read the whole list.
struct Metrics {
  Metrics();  // creates the series of fixed label vocabularies at 0, so a first increase shows in rate()

  Gauge connections_open;
  Gauge open_sockets;               // every accepted socket until it closes (--max-connections counts these)
  Gauge unauthenticated_bytes;      // request-header bytes held for sockets not yet authenticated
  Counter connects;
  CounterFamily disconnects{"switchboard_disconnects_total", "Connections ended, by reason.", "reason"};
  CounterFamily disconnect_outcomes{"switchboard_disconnect_outcomes_total",
                                    "Handshaken connections ended, clean (closed without an error) or error.", "outcome"};
  Counter messages_received;
  Counter messages_sent;
  CounterFamily rejected_input{"switchboard_rejected_input_total", "Client input refused, by reason.", "reason"};
  CounterFamily upstream_requests{"switchboard_upstream_requests_total", "Upstream calls, by outcome.", "outcome"};
  Histogram upstream_latency{"switchboard_upstream_request_duration_seconds", "Upstream call latency.",
                             {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}};
  HistogramFamily upstream_route_latency{"switchboard_upstream_route_duration_seconds",
                                        "Upstream call latency, by route (the --upstream rule's URL, without its query).",
                                        "route", {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}};
  Counter upstream_retries;
  Counter upstream_circuit_opened;
  CounterFamily upstream_tls_handshakes{"switchboard_upstream_tls_handshakes_total",
                                        "TLS handshakes with https functions, by result (full, resumed, failed).",
                                        "result"};
  CounterFamily rest_requests{"switchboard_rest_requests_total", "REST API calls, by status.", "status"};
  CounterFamily negotiations{"switchboard_negotiations_total", "Client negotiate calls, by status.", "status"};
  Counter handler_exceptions;
  Counter stateful_detached;
  Counter stateful_resumes;
  Counter tls_reload_failures;  // SIGHUP found an unusable certificate or key; the old pair stays
  Histogram connection_duration{"switchboard_connection_duration_seconds",
                                "How long connections lived, from connect to close (handshaken ones).",
                                {1, 5, 15, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600}};
  CounterFamily admission_refusals{"switchboard_admission_refusals_total",
                                   "Negotiates and connections refused before they opened, by reason.", "reason"};
  Gauge draining;            // 1 from SIGTERM until exit
  Gauge shutdown_remaining;  // connections (and undelivered disconnected events) left while draining
  Counter shutdown_closed;   // connections the drain closed (spread or timeout)
  // Many gateways (docs/scaling.md).
  Gauge backplane_redis_up;          // 1 while this gateway is in sync with Redis
  Gauge backplane_queue_bytes;       // commands waiting for Redis
  Counter backplane_published;       // actions published to the fleet
  Counter backplane_received;        // actions from other gateways, run here
  Counter backplane_dropped;         // actions not published: the queue was full while Redis was down
  Counter backplane_gaps;            // gaps seen in another gateway's sequence
  Counter backplane_invalid;         // undecodable envelopes
  CounterFamily backplane_refused{"switchboard_backplane_refused_total",
                                  "Messages from Redis dropped for their fleet signature, by reason.", "reason"};
  Counter backplane_reaped;          // connections of dead gateways this gateway cleaned up
  Counter backplane_lease_lost;      // times this gateway found its own lease reaped
  // Follow-up requests this gateway relayed to the gateway holding their connection, by kind
  // (send, poll, stop), and those that got no answer in time or found no holder.
  CounterFamily relayed_requests{"switchboard_relayed_requests_total",
                                 "Follow-up requests relayed to the gateway holding their connection, by kind.", "kind"};
  CounterFamily relay_failures{"switchboard_relay_failures_total",
                               "Relayed follow-up requests that failed, by reason.", "reason"};
  Counter relays_served;             // follow-up requests other gateways relayed here
  // Handoffs (stateful connections moving between gateways, PROTOCOL.md part 3 §3.8).
  Counter handoffs_out;  // connections this gateway handed over
  Counter handoffs_in;   // connections that arrived here and resumed
  // The fleet log (docs/scaling.md "Crashes").
  Counter checkpoints_written;   // stateful connection states written to Redis
  Counter checkpoint_resumes;    // connections of a dead gateway resumed here from their checkpoint
  // Span export (--otlp-endpoint).
  Counter trace_spans_exported;  // spans the collector took
  Counter trace_spans_dropped;   // spans dropped: the queue was full, or the collector refused or timed out
  // The operator console (--admin-key).
  Gauge console_viewers;          // live-trace streams open
  Counter console_viewers_dropped;  // live-trace streams ended because their viewer read too slowly
  Counter console_trace_skipped;  // live-trace events a stream skipped to stay within its byte budget
  CounterFamily handoff_failures{"switchboard_handoff_failures_total",
                                 "Connections that could not move between gateways, by reason (each ended cleanly, once).",
                                 "reason"};

  std::string render() const;
};

Metrics& metrics();

// Every metric family as one Markdown table (metric, type, meaning), read from what render() writes
// for a fresh Metrics: it lists exactly the families /metrics serves, with their HELP text. A labelled
// family's meaning names its label ("by reason"). `switchboard --help --format markdown` prints it and
// docs/configuration.md carries it verbatim (a unit test keeps the two equal).
std::string metrics_markdown();

}  // namespace sb
