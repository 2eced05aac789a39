// libFuzzer target for request-target and query parsing (PROTOCOL.md part 2 §4.3).
// Properties: never crashes; escaping then decoding gives the input
// back; decoding never produces a NUL the input did not hold literally (Beast refuses those in a
// request target); query_without removes every named key and keeps the others in order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <strings.h>

#include "config/upstream_rule.hpp"
#include "http/url_query.hpp"

using namespace sb::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const bool has_literal_nul = input.find('\0') != std::string_view::npos;

  auto target = split_target(input);
  if (target.path.size() + (input.find('?') == std::string_view::npos ? 0 : target.query.size() + 1) != input.size())
    std::abort();

  // A redacted target keeps its path, and every value of an `id` parameter is gone.
  auto redacted = redacted_target(input);
  if (redacted.substr(0, target.path.size()) != target.path) std::abort();
  // Each parameter grows by at most "***" (an empty value redacted).
  const auto pairs = 1 + static_cast<std::size_t>(std::count(target.query.begin(), target.query.end(), '&'));
  if (redacted.size() > input.size() + 3 * pairs) std::abort();

  for (bool plus_is_space : {false, true}) {
    auto decoded = percent_decode(input, plus_is_space);
    if (decoded && !has_literal_nul && decoded->find('\0') != std::string::npos) std::abort();
    if (decoded && decoded->size() > input.size()) std::abort();
  }

  if (!has_literal_nul) {
    auto round_trip = percent_decode(sb::config::escape_data_string(input), false);
    if (!round_trip || *round_trip != input) std::abort();
  }

  auto params = parse_query(target.query);
  if (params) {
    for (const auto& [key, value] : *params)
      if (!has_literal_nul && (key.find('\0') != std::string::npos || value.find('\0') != std::string::npos))
        std::abort();
    auto last = query_value(*params, "hub");
    auto all = query_values(*params, "hub");
    if (last.has_value() != !all.empty() || (last && *last != all.back())) std::abort();
  }

  auto kept = query_without(target.query, {"access_token", "id"});
  if (!kept.empty()) {
    if (kept.front() != '?') std::abort();
    std::string_view rest(kept);
    rest.remove_prefix(1);
    while (!rest.empty()) {
      auto amp = rest.find('&');
      auto pair = rest.substr(0, amp);
      auto key = pair.substr(0, pair.find('='));
      if (pair.empty()) std::abort();
      if ((key.size() == 12 && strncasecmp(key.data(), "access_token", 12) == 0) ||
          (key.size() == 2 && strncasecmp(key.data(), "id", 2) == 0))
        std::abort();
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
  }
  return 0;
}
