// libFuzzer target for the SignalR handshake parser (PROTOCOL.md part 1 §3).
// Properties: never crashes; a complete parse consumes up to and including the first 0x1E and no
// further; an accepted request names a known protocol at version 0..2; an error response re-parses
// as {"error": <the message>}.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "protocol/handshake.hpp"

using namespace sb::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  HandshakeRequest request;
  auto parsed = parse_handshake(input, request);
  auto separator = input.find('\x1e');
  if (parsed.ok()) {
    if (parsed->status == HandshakeStatus::incomplete) {
      if (separator != std::string_view::npos || parsed->consumed_bytes != 0) std::abort();
    } else {
      if (separator == std::string_view::npos || parsed->consumed_bytes != separator + 1) std::abort();
      if (request.version < 0 || request.version > 2) std::abort();
    }
  } else {
    if (separator == std::string_view::npos) std::abort();  // errors only for complete records
    auto frame = handshake_error_frame(parsed.error().message);
    if (frame.empty() || frame.back() != '\x1e') std::abort();
    frame.pop_back();
    auto response = nlohmann::json::parse(frame, nullptr, false);
    // The message may hold invalid UTF-8 copied from the protocol name; dump() would throw on it.
    if (!response.is_discarded() && (!response.is_object() || !response.contains("error"))) std::abort();
  }
  return 0;
}
