#include "config/redis_url.hpp"

#include <charconv>

namespace sb::config {
namespace {

bool parse_number(std::string_view text, unsigned max, unsigned& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out <= max;
}

}  // namespace

Result<RedisEndpoint> parse_redis_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme)
    return make_error("invalid_redis_url", "expected redis://HOST:PORT[/DB] (rediss:// and passwords are not supported)");
  auto rest = url.substr(scheme.size());
  RedisEndpoint endpoint;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    auto db = rest.substr(slash + 1);
    if (!db.empty() && !parse_number(db, 15'999, endpoint.database))
      return make_error("invalid_redis_url", "database: expected a whole number after '/'");
    rest = rest.substr(0, slash);
  }
  if (rest.find('@') != std::string_view::npos)
    return make_error("invalid_redis_url", "credentials in the URL are not supported");
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:6379
    auto close = rest.find(']');
    if (close == std::string_view::npos) return make_error("invalid_redis_url", "host: unclosed '['");
    host = rest.substr(1, close - 1);
    auto after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return make_error("invalid_redis_url", "expected ':' after ']'");
      port = after.substr(1);
      if (port.empty()) return make_error("invalid_redis_url", "port: expected 1 to 65535");
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return make_error("invalid_redis_url", "port: expected 1 to 65535");
  }
  if (host.empty()) return make_error("invalid_redis_url", "host: missing");
  if (!port.empty() && (!parse_number(port, 65535, endpoint.port) || endpoint.port == 0))
    return make_error("invalid_redis_url", "port: expected 1 to 65535");
  endpoint.host = std::string(host);
  return endpoint;
}

}  // namespace sb::config
