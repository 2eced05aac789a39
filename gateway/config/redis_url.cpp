#include "config/redis_url.hpp"

#include <charconv>
#include <optional>

#include "common/url.hpp"

namespace sb::config {
namespace {

bool parse_number(std::string_view text, unsigned max, unsigned& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out <= max;
}

// "host", "host:port", "[v6]" or "[v6]:port"; `port` keeps its value when none is given.
std::optional<std::string> parse_host_port(std::string_view text, std::string& host_out, unsigned& port) {
  std::string_view host = text, port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {  // [::1]:6379
    auto close = text.find(']');
    if (close == std::string_view::npos) return "host: unclosed '['";
    host = text.substr(1, close - 1);
    auto after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "expected ':' after ']'";
      port_text = after.substr(1);
      has_port = true;
    }
  } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return "host: missing";
  if (has_port && (!parse_number(port_text, 65535, port) || port == 0)) return "port: expected 1 to 65535";
  host_out = std::string(host);
  return std::nullopt;
}

}  // namespace

Result<RedisEndpoint> parse_redis_url(std::string_view url) {
  RedisEndpoint endpoint;
  std::string_view rest;
  if (url.substr(0, 8) == "redis://") {
    rest = url.substr(8);
  } else if (url.substr(0, 9) == "rediss://") {
    rest = url.substr(9);
    endpoint.tls = true;
  } else {
    return make_error("invalid_redis_url", "expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or rediss://…");
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    auto db = rest.substr(slash + 1);
    if (!db.empty() && !parse_number(db, 15'999, endpoint.database))
      return make_error("invalid_redis_url", "database: expected a whole number after '/'");
    rest = rest.substr(0, slash);
  }
  // The last '@' ends the credentials: a password may hold '@' unencoded.
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    auto credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = credentials.find(':');
    if (colon == std::string_view::npos)
      return make_error("invalid_redis_url", "credentials: expected [USER]:PASSWORD before '@'");
    auto user = percent_decode(credentials.substr(0, colon), /*plus_is_space=*/false);
    auto password = percent_decode(credentials.substr(colon + 1), /*plus_is_space=*/false);
    if (!user || !password) return make_error("invalid_redis_url", "credentials: a '%' not followed by two hex digits");
    if (password->empty()) return make_error("invalid_redis_url", "credentials: the password is empty");
    endpoint.username = std::move(*user);
    endpoint.password = std::move(*password);
  }
  if (auto error = parse_host_port(rest, endpoint.host, endpoint.port)) return make_error("invalid_redis_url", *error);
  return endpoint;
}

Result<std::vector<HostPort>> parse_host_ports(std::string_view list) {
  std::vector<HostPort> out;
  for (;;) {
    auto comma = list.find(',');
    HostPort host_port;
    if (auto error = parse_host_port(list.substr(0, comma), host_port.host, host_port.port))
      return make_error("invalid_address", *error);
    if (host_port.port == 0) return make_error("invalid_address", "port: expected HOST:PORT");
    out.push_back(std::move(host_port));
    if (comma == std::string_view::npos) break;
    list = list.substr(comma + 1);
  }
  return out;
}

}  // namespace sb::config
