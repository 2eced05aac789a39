#include "console/stats_sampler.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "common/metrics.hpp"

namespace sb::console {

double percentile_ms(const std::vector<double>& bounds, const std::vector<std::uint64_t>& buckets, double q) {
  std::uint64_t total = 0;
  for (auto n : buckets) total += n;
  if (total == 0) return -1;
  const double rank = q * static_cast<double>(total);
  std::uint64_t below = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i] == 0 || static_cast<double>(below + buckets[i]) < rank) {
      below += buckets[i];
      continue;
    }
    // +Inf has no upper edge: report its lower one, the largest bound.
    if (i >= bounds.size()) return bounds.empty() ? -1 : bounds.back() * 1000;
    const double lower = i == 0 ? 0 : bounds[i - 1];
    const double fraction = (rank - static_cast<double>(below)) / static_cast<double>(buckets[i]);
    return (lower + (bounds[i] - lower) * std::clamp(fraction, 0.0, 1.0)) * 1000;
  }
  return bounds.empty() ? -1 : bounds.back() * 1000;
}

namespace {

std::uint64_t sum(const std::vector<std::pair<std::string, std::uint64_t>>& values, std::string_view except = {}) {
  std::uint64_t total = 0;
  for (const auto& [label, n] : values)
    if (label != except) total += n;
  return total;
}

// label -> increase per second, for the labels that increased.
nlohmann::json rates(const std::vector<std::pair<std::string, std::uint64_t>>& now,
                     const std::vector<std::pair<std::string, std::uint64_t>>& before, double seconds) {
  std::map<std::string, std::uint64_t, std::less<>> old(before.begin(), before.end());
  auto out = nlohmann::json::object();
  for (const auto& [label, n] : now) {
    auto it = old.find(label);
    const auto previous = it == old.end() ? 0 : it->second;
    if (n > previous) out[label] = static_cast<double>(n - previous) / seconds;
  }
  return out;
}

double rate(std::uint64_t now, std::uint64_t before, double seconds) {
  return now > before ? static_cast<double>(now - before) / seconds : 0.0;
}

}  // namespace

nlohmann::json milliseconds_or_null(double ms) {
  if (ms < 0) return nullptr;
  return std::round(ms * 100) / 100;
}

StatsSampler::StatsSampler(boost::asio::any_io_executor executor, Identity identity, std::function<bool()> is_draining,
                           std::function<void(std::string)> publish)
    : timer_(std::move(executor)),
      identity_(std::move(identity)),
      is_draining_(std::move(is_draining)),
      publish_(std::move(publish)) {}

StatsSampler::Totals StatsSampler::read_totals() {
  auto& m = metrics();
  Totals t;
  t.connects = m.connects.value();
  t.disconnects = sum(m.disconnect_outcomes.values());
  t.messages_in = m.messages_received.value();
  t.messages_out = m.messages_sent.value();
  auto upstream = m.upstream_requests.values();
  t.upstream = sum(upstream, "no_rule");
  t.upstream_errors = t.upstream - [&] {
    for (const auto& [label, n] : upstream)
      if (label == "success") return n;
    return std::uint64_t{0};
  }();
  t.rest = sum(m.rest_requests.values());
  t.closes = m.disconnects.values();
  t.rejected = m.rejected_input.values();
  t.latency = m.upstream_latency.bucket_counts();
  return t;
}

void StatsSampler::start() {
  last_ = read_totals();
  last_at_ = std::chrono::steady_clock::now();
  tick();
}

void StatsSampler::stop() {
  is_stopped_ = true;
  timer_.cancel();
}

void StatsSampler::tick() {
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || is_stopped_) return;
    auto now_at = std::chrono::steady_clock::now();
    auto now = read_totals();
    auto seconds = std::max(0.001, std::chrono::duration<double>(now_at - last_at_).count());
    auto sample = encode(now, last_, seconds);
    last_ = std::move(now);
    last_at_ = now_at;
    {
      std::lock_guard lock(mutex_);
      samples_.push_back(sample);
      if (samples_.size() > kept) samples_.pop_front();
    }
    if (publish_) publish_(std::move(sample));
    tick();
  });
}

std::string StatsSampler::encode(const Totals& now, const Totals& before, double seconds) const {
  std::vector<std::uint64_t> latency(now.latency.size());
  for (std::size_t i = 0; i < latency.size(); ++i)
    latency[i] = now.latency[i] - (i < before.latency.size() ? std::min(before.latency[i], now.latency[i]) : 0);
  const auto& bounds = metrics().upstream_latency.bounds();
  nlohmann::json j = {
      {"t", std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count()},
      {"gateway", identity_.gateway_id},
      {"version", identity_.version},
      {"startedAt", identity_.started_at_ms},
      {"draining", is_draining_ ? is_draining_() : false},
      {"connections", metrics().connections_open.value()},
      {"connectsPerSecond", rate(now.connects, before.connects, seconds)},
      {"disconnectsPerSecond", rate(now.disconnects, before.disconnects, seconds)},
      {"messagesInPerSecond", rate(now.messages_in, before.messages_in, seconds)},
      {"messagesOutPerSecond", rate(now.messages_out, before.messages_out, seconds)},
      {"upstreamCallsPerSecond", rate(now.upstream, before.upstream, seconds)},
      {"upstreamErrorsPerSecond", rate(now.upstream_errors, before.upstream_errors, seconds)},
      {"upstreamP50Ms", milliseconds_or_null(percentile_ms(bounds, latency, 0.50))},
      {"upstreamP95Ms", milliseconds_or_null(percentile_ms(bounds, latency, 0.95))},
      {"upstreamP99Ms", milliseconds_or_null(percentile_ms(bounds, latency, 0.99))},
      // The second's counts per latency bucket, so the fleet's percentiles can be worked out from
      // every gateway's (percentiles themselves don't add up).
      {"upstreamLatencyBuckets", latency},
      {"restCallsPerSecond", rate(now.rest, before.rest, seconds)},
      {"closes", rates(now.closes, before.closes, seconds)},
      {"rejected", rates(now.rejected, before.rejected, seconds)},
      {"totals",
       {{"connects", now.connects},
        {"messagesIn", now.messages_in},
        {"messagesOut", now.messages_out},
        {"upstreamCalls", now.upstream},
        {"restCalls", now.rest}}}};
  return j.dump();
}

std::string StatsSampler::history() const {
  std::lock_guard lock(mutex_);
  std::string out = "[";
  for (const auto& s : samples_) {
    if (out.size() > 1) out += ',';
    out += s;
  }
  return out + "]";
}

std::string StatsSampler::latest() const {
  std::lock_guard lock(mutex_);
  return samples_.empty() ? "null" : samples_.back();
}

}  // namespace sb::console
