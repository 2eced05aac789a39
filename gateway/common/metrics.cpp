#include "common/metrics.hpp"

#include <cstdio>

namespace sb {
namespace {

void header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

template <typename N>
void sample_line(std::string& out, std::string_view name, N value) {
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

std::string format_bound(double b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", b);
  return buf;
}

}  // namespace

CounterFamily::CounterFamily(std::string name, std::string help, std::string label)
    : name_(std::move(name)), help_(std::move(help)), label_(std::move(label)) {}

Counter& CounterFamily::with(std::string_view label_value) {
  std::lock_guard lock(mutex_);
  auto it = counters_.find(label_value);
  if (it == counters_.end()) it = counters_.emplace(std::string(label_value), std::make_unique<Counter>()).first;
  return *it->second;  // stable: counters are heap-allocated and never removed
}

void CounterFamily::render(std::string& out) const {
  header(out, name_, help_, "counter");
  std::lock_guard lock(mutex_);
  for (const auto& [value, counter] : counters_) {
    out += name_ + "{" + label_ + "=\"" + value + "\"} " + std::to_string(counter->value()) + "\n";
  }
}

std::vector<std::pair<std::string, std::uint64_t>> CounterFamily::values() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (const auto& [value, counter] : counters_) out.emplace_back(value, counter->value());
  return out;
}

std::vector<std::uint64_t> Histogram::bucket_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

Histogram::Histogram(std::string name, std::string help, std::vector<double> upper_bounds_seconds)
    : name_(std::move(name)),
      help_(std::move(help)),
      bounds_(std::move(upper_bounds_seconds)),
      buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(std::chrono::nanoseconds elapsed) {
  double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
}

void Histogram::render(std::string& out) const {
  header(out, name_, help_, "histogram");
  render_samples(out, {});
}

void Histogram::render_samples(std::string& out, std::string_view labels) const {
  const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
  const std::string alone = labels.empty() ? std::string() : "{" + std::string(labels) + "}";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::string le = i < bounds_.size() ? format_bound(bounds_[i]) : "+Inf";
    out += name_ + "_bucket{" + prefix + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  char sum[48];
  std::snprintf(sum, sizeof sum, "%.9f", static_cast<double>(sum_nanos_.load()) / 1e9);
  out += name_ + "_sum" + alone + " " + sum + "\n";
  sample_line(out, name_ + "_count" + alone, count_.load());
}

HistogramFamily::HistogramFamily(std::string name, std::string help, std::string label,
                                 std::vector<double> upper_bounds_seconds)
    : name_(std::move(name)), help_(std::move(help)), label_(std::move(label)), bounds_(std::move(upper_bounds_seconds)) {}

Histogram& HistogramFamily::with(std::string_view label_value) {
  std::lock_guard lock(mutex_);
  auto it = histograms_.find(label_value);
  if (it == histograms_.end())
    it = histograms_.emplace(std::string(label_value), std::make_unique<Histogram>(name_, help_, bounds_)).first;
  return *it->second;  // stable: never removed
}

void HistogramFamily::render(std::string& out) const {
  header(out, name_, help_, "histogram");
  std::lock_guard lock(mutex_);
  for (const auto& [value, histogram] : histograms_) {
    std::string escaped;
    for (char c : value) {
      if (c == '\\' || c == '"') escaped += '\\';
      if (c == '\n') { escaped += "\\n"; continue; }
      escaped += c;
    }
    histogram->render_samples(out, label_ + "=\"" + escaped + "\"");
  }
}

Metrics::Metrics() {
  disconnect_outcomes.with("clean");
  disconnect_outcomes.with("error");
  upstream_requests.with("success");
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(4096);
  header(out, "switchboard_connections", "Client connections open now.", "gauge");
  sample_line(out, "switchboard_connections", connections_open.value());
  header(out, "switchboard_open_sockets", "Sockets open now, HTTP and WebSocket alike (--max-connections counts these).",
         "gauge");
  sample_line(out, "switchboard_open_sockets", open_sockets.value());
  header(out, "switchboard_unauthenticated_bytes", "Request-header bytes held for sockets that have not authenticated.",
         "gauge");
  sample_line(out, "switchboard_unauthenticated_bytes", unauthenticated_bytes.value());
  header(out, "switchboard_connects_total", "Client connections accepted (handshake completed).", "counter");
  sample_line(out, "switchboard_connects_total", connects.value());
  disconnects.render(out);
  disconnect_outcomes.render(out);
  header(out, "switchboard_messages_received_total", "Hub messages received from clients.", "counter");
  sample_line(out, "switchboard_messages_received_total", messages_received.value());
  header(out, "switchboard_messages_sent_total", "Hub messages queued to clients.", "counter");
  sample_line(out, "switchboard_messages_sent_total", messages_sent.value());
  rejected_input.render(out);
  upstream_requests.render(out);
  upstream_latency.render(out);
  upstream_route_latency.render(out);
  header(out, "switchboard_upstream_retries_total", "Upstream requests sent again after a failure.", "counter");
  sample_line(out, "switchboard_upstream_retries_total", upstream_retries.value());
  header(out, "switchboard_upstream_circuit_opened_total", "Times a function's circuit opened.", "counter");
  sample_line(out, "switchboard_upstream_circuit_opened_total", upstream_circuit_opened.value());
  upstream_tls_handshakes.render(out);
  rest_requests.render(out);
  negotiations.render(out);
  header(out, "switchboard_handler_exceptions_total", "Exceptions caught by the event loop (bugs).", "counter");
  sample_line(out, "switchboard_handler_exceptions_total", handler_exceptions.value());
  header(out, "switchboard_stateful_detached_total", "Stateful connections whose socket dropped (waiting to resume).", "counter");
  sample_line(out, "switchboard_stateful_detached_total", stateful_detached.value());
  header(out, "switchboard_stateful_resumes_total", "Stateful connections resumed on a new socket.", "counter");
  sample_line(out, "switchboard_stateful_resumes_total", stateful_resumes.value());
  header(out, "switchboard_tls_reload_failures_total", "Certificate reloads (SIGHUP) that failed; the old pair stays.",
         "counter");
  sample_line(out, "switchboard_tls_reload_failures_total", tls_reload_failures.value());
  connection_duration.render(out);
  admission_refusals.render(out);
  header(out, "switchboard_draining", "1 while a graceful shutdown runs.", "gauge");
  sample_line(out, "switchboard_draining", draining.value());
  header(out, "switchboard_shutdown_remaining", "Connections and undelivered disconnected events left to drain.",
         "gauge");
  sample_line(out, "switchboard_shutdown_remaining", shutdown_remaining.value());
  header(out, "switchboard_shutdown_closed_total", "Connections closed by the graceful shutdown.", "counter");
  sample_line(out, "switchboard_shutdown_closed_total", shutdown_closed.value());
  auto counter = [&out](const char* name, const char* help, std::uint64_t value) {
    header(out, name, help, "counter");
    sample_line(out, name, value);
  };
  header(out, "switchboard_backplane_redis_up", "1 while this gateway is in sync with Redis.", "gauge");
  sample_line(out, "switchboard_backplane_redis_up", backplane_redis_up.value());
  header(out, "switchboard_backplane_queue_bytes", "Commands waiting for Redis, in bytes.", "gauge");
  sample_line(out, "switchboard_backplane_queue_bytes", backplane_queue_bytes.value());
  counter("switchboard_backplane_published_total", "Actions published to the other gateways.", backplane_published.value());
  counter("switchboard_backplane_received_total", "Actions from other gateways run here.", backplane_received.value());
  counter("switchboard_backplane_dropped_total", "Actions not published: the queue was full while Redis was down.",
          backplane_dropped.value());
  counter("switchboard_backplane_gaps_total", "Gaps seen in another gateway's action sequence.", backplane_gaps.value());
  counter("switchboard_backplane_invalid_total", "Undecodable messages on the fan-out channel.", backplane_invalid.value());
  backplane_refused.render(out);
  counter("switchboard_backplane_reaped_total", "Connections of dead gateways cleaned up by this one.",
          backplane_reaped.value());
  counter("switchboard_backplane_lease_lost_total", "Times this gateway found its own lease reaped.",
          backplane_lease_lost.value());
  relayed_requests.render(out);
  relay_failures.render(out);
  counter("switchboard_relays_served_total", "Follow-up requests other gateways relayed to this one.",
          relays_served.value());
  counter("switchboard_handoffs_out_total", "Stateful connections handed over to another gateway.", handoffs_out.value());
  counter("switchboard_handoffs_in_total", "Stateful connections that moved here from another gateway.",
          handoffs_in.value());
  handoff_failures.render(out);
  counter("switchboard_checkpoints_written_total",
          "Stateful connection checkpoints written to Redis (the fleet log).", checkpoints_written.value());
  counter("switchboard_checkpoint_resumes_total",
          "Connections of a dead gateway resumed here from their checkpoint.", checkpoint_resumes.value());
  counter("switchboard_trace_spans_exported_total", "Spans sent to the OTLP collector (--otlp-endpoint).",
          trace_spans_exported.value());
  counter("switchboard_trace_spans_dropped_total",
          "Spans dropped: the export queue was full, or the collector refused or timed out.", trace_spans_dropped.value());
  header(out, "switchboard_console_viewers", "Operator console live-trace streams open here, and watches held here for viewers on other gateways.", "gauge");
  sample_line(out, "switchboard_console_viewers", console_viewers.value());
  counter("switchboard_console_viewers_dropped_total",
          "Operator console live-trace streams ended because their viewer read too slowly.", console_viewers_dropped.value());
  counter("switchboard_console_trace_skipped_total",
          "Live-trace events a console stream skipped to stay within its byte budget.", console_trace_skipped.value());
  return out;
}

Metrics& metrics() {
  static Metrics instance;
  return instance;
}

std::string metrics_markdown() {
  // A fresh instance: the families are the same as the live one's, and no sample lines get in the way.
  auto exposition = std::make_unique<Metrics>()->render();
  std::string out = "| metric | type | meaning |\n|---|---|---|\n";
  std::string help;
  std::string_view rest = exposition;
  while (!rest.empty()) {
    auto end = rest.find('\n');
    auto line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    // "# HELP <name> <text>" comes right before "# TYPE <name> <type>" (header() above).
    if (line.substr(0, 7) == "# HELP ") {
      auto text = line.substr(7);
      help = std::string(text.substr(text.find(' ') + 1));
    } else if (line.substr(0, 7) == "# TYPE ") {
      auto text = line.substr(7);
      auto space = text.find(' ');
      out += "| `" + std::string(text.substr(0, space)) + "` | " + std::string(text.substr(space + 1)) + " | " + help +
             " |\n";
    }
  }
  return out;
}

}  // namespace sb
