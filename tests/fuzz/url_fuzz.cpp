// libFuzzer target for parse_url (common/url.hpp).
// Properties: never crashes; a parsed URL has a host, a path starting with '/', and no space, CR, LF or
// NUL in its request target; written again with to_string() it parses to the same scheme, host, port,
// path and query.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto url = sb::parse_url(input);
  if (!url) return 0;
  if (url->host.empty() || url->path.empty() || url->path[0] != '/' || url->port == 0) std::abort();
  for (char c : url->target())
    if (c == ' ' || c == '\r' || c == '\n' || c == '\0') std::abort();
  auto again = sb::parse_url(url->to_string());
  if (!again || again->scheme != url->scheme || again->host != url->host || again->port != url->port ||
      again->path != url->path || again->query != url->query)
    std::abort();
  return 0;
}
