#include "config/connection_string.hpp"

#include <cstdlib>

#include "common/ascii.hpp"

namespace sb::config {

Result<ConnectionString> parse_connection_string(std::string_view text) {
  ConnectionString out;
  bool has_version = false;
  while (!text.empty()) {
    auto semicolon = text.find(';');
    auto item = text.substr(0, semicolon);
    text = semicolon == std::string_view::npos ? std::string_view{} : text.substr(semicolon + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos) return make_error("invalid_connection_string", "'" + std::string(item) + "' is not Key=Value");
    auto key = item.substr(0, eq);
    auto value = item.substr(eq + 1);
    auto is = [&](std::string_view k) { return iequals(key, k); };
    if (is("Endpoint")) {
      out.endpoint = std::string(value);
      while (!out.endpoint.empty() && out.endpoint.back() == '/') out.endpoint.pop_back();
    } else if (is("AccessKey")) {
      out.access_key = std::string(value);
    } else if (is("Port")) {
      // Digits and length first: atoi on twenty digits overflows, which is undefined.
      bool is_number = !value.empty() && value.size() <= 5 && value.find_first_not_of("0123456789") == std::string_view::npos;
      auto port = is_number ? std::atoi(std::string(value).c_str()) : 0;
      if (port < 1 || port > 65535) return make_error("invalid_connection_string", "Port must be 1 to 65535");
      out.port = std::string(value);
    } else if (is("Version")) {
      // ^1\.\d+ (ConnectionStringParser): "1.0", "1.1-preview"; not "10" or "2.0".
      has_version = value.size() >= 3 && value[0] == '1' && value[1] == '.' && value[2] >= '0' && value[2] <= '9';
    }
    // ClientEndpoint, ServerEndpoint, AuthType: accepted and not needed by the gateway itself.
  }
  if (out.endpoint.empty()) return make_error("invalid_connection_string", "Endpoint is missing");
  if (out.access_key.empty()) return make_error("invalid_connection_string", "AccessKey is missing (identity-based auth is not supported)");
  if (!has_version) return make_error("invalid_connection_string", "Version must be 1.x");
  return out;
}

std::string format_connection_string(std::string_view host, unsigned port, std::string_view access_key,
                                     std::string_view scheme) {
  return "Endpoint=" + std::string(scheme) + "://" + std::string(host) + ";Port=" + std::to_string(port) + ";AccessKey=" +
         std::string(access_key) + ";Version=1.0;";
}

}  // namespace sb::config
