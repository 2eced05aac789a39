#pragma once
// A live-trace viewer's filter as JSON, for the other gateways of the fleet that watch on its behalf
// (fleet_trace_feed.hpp, peer_trace_watches.hpp). A peer's copy is signed like every relay, but is read
// as untrusted all the same: unknown members are ignored, numbers are clamped to what a viewer on this
// gateway may ask for. Pure.
#include <optional>
#include <string>
#include <string_view>

#include "console/live_trace.hpp"

namespace sb::console {

// What a viewer may ask for: 1-in-N sampling and a byte budget a second.
constexpr std::uint32_t max_sample_every = 1'000'000;
constexpr std::size_t min_bytes_per_second = 1024;
constexpr std::size_t max_bytes_per_second = 16 * 1024 * 1024;

// {"watch":…, "hub":…, "user":…, "connection":…, "kinds":N, "sample":N, "budget":N}
std::string encode_peer_watch(std::string_view watch_id, const TraceFilter& filter);

struct PeerWatchRequest {
  std::string watch_id;
  TraceFilter filter;
};
// nullopt when `json` is not an object with a non-empty string "watch" of at most 200 bytes.
std::optional<PeerWatchRequest> decode_peer_watch(std::string_view json);

}  // namespace sb::console
