#pragma once
// The fleet's history for the console's charts (GET history?gateway=all): every gateway's samples
// (stats_sampler.hpp), merged into one per wall-clock second. Counts and rates add up, closes and
// rejections add up by reason, and the upstream latency percentiles are worked out again from every
// gateway's bucket counts summed (percentiles don't add up); when some gateway's sample has no counts
// (an older version), they are the worst gateway's. Samples that aren't JSON objects with a time are
// skipped. Pure.
#include <string>
#include <utility>
#include <vector>

namespace sb::console {

// gateway id -> its samples (JSON texts, any order); the answer is a JSON array, oldest first.
std::string merge_fleet_history(const std::vector<std::pair<std::string, std::vector<std::string>>>& gateways);

}  // namespace sb::console
