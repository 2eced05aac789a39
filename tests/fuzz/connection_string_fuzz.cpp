// libFuzzer target for Azure SignalR connection strings (config/connection_string.hpp).
// Properties: never crashes; a parsed string has an endpoint without a trailing '/', an access key and
// a port that is empty or 1..65535; formatting what was parsed and parsing it again gives the same key
// and port back (the round trip the ready block's connection string relies on).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/connection_string.hpp"

using namespace sb::config;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_connection_string(input);
  if (!parsed) {
    if (parsed.error().code != "invalid_connection_string" || parsed.error().message.empty()) std::abort();
    return 0;
  }
  if (parsed->endpoint.empty() || parsed->endpoint.back() == '/' || parsed->access_key.empty()) std::abort();
  unsigned port = 443;
  if (!parsed->port.empty()) {
    port = static_cast<unsigned>(std::stoul(parsed->port));  // digits only, checked by the parser
    if (port < 1 || port > 65535) std::abort();
  }
  // A key holding ';' can't survive the format (the emulator's shape has no quoting): skip those.
  if (parsed->access_key.find(';') != std::string::npos) return 0;
  auto again = parse_connection_string(format_connection_string("localhost", port, parsed->access_key));
  if (!again || again->access_key != parsed->access_key || again->port != std::to_string(port)) std::abort();
  return 0;
}
