#include "console/fleet_history.hpp"

#include <map>
#include <nlohmann/json.hpp>

#include "common/metrics.hpp"
#include "console/stats_sampler.hpp"

namespace sb::console {
namespace {

using nlohmann::json;

// The upstream latency percentiles of the fleet's second, from every gateway's bucket counts summed;
// false when some gateway's sample has calls but no counts (an older version), or counts of another shape.
bool set_fleet_percentiles(json& out, const std::vector<json>& samples) {
  const auto& bounds = metrics().upstream_latency.bounds();
  std::vector<std::uint64_t> summed(bounds.size() + 1, 0);
  for (const auto& s : samples) {
    auto it = s.find("upstreamLatencyBuckets");
    if (it == s.end() || !it->is_array()) {
      if (s.contains("upstreamP50Ms") && s["upstreamP50Ms"].is_number()) return false;
      continue;
    }
    if (it->size() != summed.size()) return false;
    for (std::size_t i = 0; i < summed.size(); ++i) {
      const auto& n = (*it)[i];
      if (!n.is_number_unsigned()) return false;
      summed[i] += n.get<std::uint64_t>();
    }
  }
  out["upstreamP50Ms"] = milliseconds_or_null(percentile_ms(bounds, summed, 0.50));
  out["upstreamP95Ms"] = milliseconds_or_null(percentile_ms(bounds, summed, 0.95));
  out["upstreamP99Ms"] = milliseconds_or_null(percentile_ms(bounds, summed, 0.99));
  out["upstreamLatencyBuckets"] = summed;
  return true;
}

// The fleet's samples of one second summed: counts and rates add up, reasons add up by name, latency
// percentiles come from the summed buckets (the worst gateway's when a gateway sent no buckets).
json sum_samples(const std::vector<json>& samples) {
  json out = samples.front();
  out["gateway"] = "all";
  const bool exact_percentiles = set_fleet_percentiles(out, samples);
  static constexpr const char* added[] = {"connections", "connectsPerSecond", "disconnectsPerSecond",
                                          "messagesInPerSecond", "messagesOutPerSecond", "upstreamCallsPerSecond",
                                          "upstreamErrorsPerSecond", "restCallsPerSecond"};
  static constexpr const char* worst[] = {"upstreamP50Ms", "upstreamP95Ms", "upstreamP99Ms"};
  for (std::size_t i = 1; i < samples.size(); ++i) {
    const auto& s = samples[i];
    for (const char* key : added)
      if (s.contains(key) && s[key].is_number()) out[key] = out.value(key, 0.0) + s[key].get<double>();
    for (const char* key : worst)
      if (!exact_percentiles && s.contains(key) && s[key].is_number() && (!out[key].is_number() || s[key].get<double>() > out[key].get<double>()))
        out[key] = s[key];
    for (const char* map : {"closes", "rejected", "totals"}) {
      if (!s.contains(map) || !s[map].is_object()) continue;
      if (!out[map].is_object()) out[map] = json::object();
      for (const auto& [reason, value] : s[map].items())
        if (value.is_number()) out[map][reason] = out[map].value(reason, 0.0) + value.get<double>();
    }
  }
  return out;
}

}  // namespace

std::string merge_fleet_history(const std::vector<std::pair<std::string, std::vector<std::string>>>& gateways) {
  std::map<long long, std::vector<json>> by_second;
  for (const auto& [gateway, samples] : gateways)
    for (const auto& text : samples) {
      auto sample = json::parse(text, nullptr, false);
      if (sample.is_discarded() || !sample.is_object() || !sample.contains("t") || !sample["t"].is_number_integer()) continue;
      by_second[sample["t"].get<long long>() / 1000].push_back(std::move(sample));
    }
  auto out = json::array();
  for (auto& [second, samples] : by_second) out.push_back(sum_samples(samples));
  return out.dump();
}

}  // namespace sb::console
