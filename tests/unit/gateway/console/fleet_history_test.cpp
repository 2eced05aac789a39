#include "console/fleet_history.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "common/metrics.hpp"
#include "console/stats_sampler.hpp"

using namespace sb::console;
using nlohmann::json;

namespace {

// A sample of one gateway at `t` ms with `calls` upstream calls, all in latency bucket `bucket`.
std::string sample(long long t, const char* gateway, std::size_t bucket, std::uint64_t calls, double p_ms) {
  std::vector<std::uint64_t> buckets(sb::metrics().upstream_latency.bounds().size() + 1, 0);
  buckets[bucket] = calls;
  return json{{"t", t},
              {"gateway", gateway},
              {"connections", 2},
              {"messagesInPerSecond", 10.0},
              {"upstreamP50Ms", p_ms},
              {"upstreamP95Ms", p_ms},
              {"upstreamP99Ms", p_ms},
              {"upstreamLatencyBuckets", buckets},
              {"closes", {{"client_close", 1.0}}}}
      .dump();
}

}  // namespace

TEST_CASE("the fleet's history sums each second, and its percentiles come from the summed buckets") {
  const auto& bounds = sb::metrics().upstream_latency.bounds();
  REQUIRE(bounds.size() >= 4);
  const std::size_t fast = 0, slow = bounds.size() - 1;
  // One gateway made 90 fast calls, the other 10 slow ones: the fleet's p50 is fast, its p99 slow.
  auto merged = json::parse(merge_fleet_history({
      {"g1", {sample(5'000, "g1", fast, 90, bounds[fast] * 1000), sample(6'000, "g1", fast, 1, 1)}},
      {"g2", {sample(5'400, "g2", slow, 10, bounds[slow] * 1000), "not json", R"({"no":"time"})"}},
  }));
  REQUIRE(merged.size() == 2);
  const auto& second = merged[0];
  CHECK(second["gateway"] == "all");
  CHECK(second["connections"] == 4);
  CHECK(second["messagesInPerSecond"] == 20.0);
  CHECK(second["closes"]["client_close"] == 2.0);
  CHECK(second["upstreamLatencyBuckets"][fast] == 90);
  CHECK(second["upstreamLatencyBuckets"][slow] == 10);
  CHECK(second["upstreamP50Ms"].get<double>() <= bounds[fast] * 1000);  // the worst gateway's would be slow
  CHECK(second["upstreamP99Ms"].get<double>() > bounds[slow - 1] * 1000);
  CHECK(merged[1]["connections"] == 2);  // g1 alone in the next second
}

TEST_CASE("without buckets from every gateway that had calls, the fleet's percentiles are the worst gateway's") {
  const auto& bounds = sb::metrics().upstream_latency.bounds();
  auto old = json::parse(sample(5'000, "old", 0, 0, 0));
  old.erase("upstreamLatencyBuckets");
  old["upstreamP95Ms"] = 750.0;
  auto merged = json::parse(merge_fleet_history({
      {"new", {sample(5'000, "new", 0, 50, bounds[0] * 1000)}},
      {"old", {old.dump()}},
  }));
  REQUIRE(merged.size() == 1);
  CHECK(merged[0]["upstreamP95Ms"] == 750.0);
}
