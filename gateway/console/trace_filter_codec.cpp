#include "console/trace_filter_codec.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace sb::console {

using nlohmann::json;

std::string encode_peer_watch(std::string_view watch_id, const TraceFilter& filter) {
  return json{{"watch", watch_id},         {"hub", filter.hub},        {"user", filter.user},
              {"connection", filter.connection}, {"kinds", filter.kinds}, {"sample", filter.sample_every},
              {"budget", filter.bytes_per_second}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<PeerWatchRequest> decode_peer_watch(std::string_view text) {
  auto body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return std::nullopt;
  auto string = [&](const char* key) {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto number = [&](const char* key, std::uint64_t fallback, std::uint64_t low, std::uint64_t high) {
    auto it = body.find(key);
    if (it == body.end() || !it->is_number_unsigned()) return fallback;
    return std::clamp<std::uint64_t>(it->get<std::uint64_t>(), low, high);
  };
  PeerWatchRequest request;
  request.watch_id = string("watch");
  if (request.watch_id.empty() || request.watch_id.size() > 200) return std::nullopt;
  request.filter.hub = string("hub");
  request.filter.user = string("user");
  request.filter.connection = string("connection");
  const std::uint64_t all_kinds = (1u << trace_kind_count) - 1;
  request.filter.kinds = static_cast<std::uint32_t>(number("kinds", all_kinds, 0, all_kinds));
  request.filter.sample_every = static_cast<std::uint32_t>(number("sample", 1, 1, max_sample_every));
  request.filter.bytes_per_second =
      static_cast<std::size_t>(number("budget", request.filter.bytes_per_second, min_bytes_per_second, max_bytes_per_second));
  return request;
}

}  // namespace sb::console
