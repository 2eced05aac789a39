// libFuzzer target for the operator console's inputs (console/): the Authorization and Cookie headers
// every console request carries (AdminAuth), the live trace's encoding of whatever a client put in
// its ids, and a peer gateway's watch request (trace_filter_codec). Properties: never crashes; nothing
// but the key or a session it signed is admitted; every trace event is one line of valid JSON; a watch
// request decodes to a filter within a viewer's limits, and re-encodes to one that decodes the same.
#include <cstddef>
#include <cstdint>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "console/admin_auth.hpp"
#include "console/live_trace.hpp"
#include "console/trace_filter_codec.hpp"

namespace {

struct Checker : sb::console::TraceSink {
  void deliver(sb::Frame lines) override {
    if (lines->empty() || lines->back() != '\n' || lines->find('\n') != lines->size() - 1) std::abort();
    if (!nlohmann::json::accept(std::string_view(*lines).substr(0, lines->size() - 1))) std::abort();
  }
};

bool scheme_is_bearer(std::string_view authorization) {
  std::string scheme(authorization.substr(0, 7));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme == "bearer ";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto half = input.size() / 2;
  const auto authorization = input.substr(0, half);
  const auto cookie = input.substr(half);
  static const sb::console::AdminAuth auth("fuzzing-admin-key-0123456789", "fuzzing-read-key-0123456789");
  constexpr std::int64_t now = 1'800'000'000;
  const auto access = auth.access(authorization, cookie, now);
  // Full access only with the admin key itself (or Basic, or a session it signed): never from the read key.
  if (access == sb::console::ConsoleAccess::full && authorization.find("fuzzing-read-key-0123456789") != std::string_view::npos &&
      authorization.find("fuzzing-admin-key-0123456789") == std::string_view::npos && scheme_is_bearer(authorization))
    std::abort();
  if (access != sb::console::ConsoleAccess::none) {
    // Only the key itself, or a session the key signed: the fuzzer can't find either by chance.
    // (Basic carries the key base64-encoded: the header alone can't be checked here; the unit tests do.)
    std::string scheme(authorization.substr(0, 6));
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool has_key = authorization.find("fuzzing-admin-key-0123456789") != std::string_view::npos ||
                         authorization.find("fuzzing-read-key-0123456789") != std::string_view::npos || scheme == "basic ";
    if (!has_key && !auth.is_session(sb::console::cookie_value(cookie, "sb_console"), now)) std::abort();
  }
  static sb::console::LiveTrace trace;
  static auto watch = trace.watch({}, std::make_shared<Checker>());
  trace.publish(sb::console::TraceKind::invocation, {authorization, cookie, input, input}, {{input, input}, {"n", size}});

  if (auto request = sb::console::decode_peer_watch(input)) {
    const auto& f = request->filter;
    if (request->watch_id.empty() || request->watch_id.size() > 200) std::abort();
    if (f.sample_every < 1 || f.sample_every > sb::console::max_sample_every) std::abort();
    if (f.bytes_per_second < sb::console::min_bytes_per_second || f.bytes_per_second > sb::console::max_bytes_per_second) std::abort();
    if (f.kinds >= (1u << sb::console::trace_kind_count)) std::abort();
    auto again = sb::console::decode_peer_watch(sb::console::encode_peer_watch(request->watch_id, f));
    // Invalid UTF-8 in a string is replaced on encoding, so only the numbers must survive exactly.
    if (!again || again->filter.kinds != f.kinds || again->filter.sample_every != f.sample_every ||
        again->filter.bytes_per_second != f.bytes_per_second)
      std::abort();
  }
  return 0;
}
