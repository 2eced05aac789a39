#include "switchboard/functions.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <regex>
#include <stdexcept>

#include "switchboard/detail/ascii.hpp"

namespace switchboard {
namespace {

[[noreturn]] void fail(const std::string& why) { throw std::invalid_argument("connection string: " + why); }

// Most connection strings come straight from std::getenv: an unset or empty variable gets a message
// that says so and shows the expected form, not "missing Endpoint=" (or, for null, a crash).
[[noreturn]] void fail_absent(std::string_view what) {
  fail(std::string(what) +
       " (is SWITCHBOARD_CONNECTION_STRING set?); expected Endpoint=http://host[:port];AccessKey=<key>;Version=1.0;");
}

// "scheme://authority[/path]" with the port in the authority replaced by `port`.
std::string with_port(std::string_view endpoint, std::size_t authority_begin, int port) {
  const std::size_t path_begin = std::min(endpoint.find('/', authority_begin), endpoint.size());
  const std::string_view authority = endpoint.substr(authority_begin, path_begin - authority_begin);
  // An IPv6 literal carries its own colons: the port can only follow the closing bracket.
  const std::size_t host_end =
      authority.front() == '[' ? authority.find(']') + 1 : std::min(authority.find(':'), authority.size());
  std::string rebuilt(endpoint.substr(0, authority_begin));
  rebuilt += authority.substr(0, host_end);
  rebuilt += ':' + std::to_string(port);
  rebuilt += endpoint.substr(path_begin);
  return rebuilt;
}

std::string normalize_endpoint(std::string_view endpoint, std::optional<int> port) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.remove_suffix(1);
  const std::size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string_view::npos) fail("Endpoint must be an absolute http:// or https:// URL");
  const std::string scheme = detail::to_ascii_lower(endpoint.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") fail("Endpoint must be an absolute http:// or https:// URL");
  if (endpoint.find_first_of("?#") != std::string_view::npos) fail("Endpoint must not have a query or fragment");

  const std::size_t authority_begin = scheme_end + 3;
  const std::string_view after_scheme = endpoint.substr(authority_begin);
  if (after_scheme.empty() || after_scheme.front() == '/' || after_scheme.front() == ':') {
    fail("Endpoint has no host");
  }
  if (after_scheme.front() == '[' && after_scheme.find(']') == std::string_view::npos) {
    fail("Endpoint has an unterminated IPv6 address");
  }

  std::string normalized = scheme + std::string(endpoint.substr(scheme_end));
  if (port) normalized = with_port(normalized, authority_begin, *port);
  return normalized;
}

int parse_port(std::string_view text) {
  int port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc{} || end != text.data() + text.size() || port < 1 || port > 65535) {
    fail("Port must be a number from 1 to 65535");
  }
  return port;
}

}  // namespace

ServiceEndpoint ServiceEndpoint::parse(const char* connection_string) {
  if (connection_string == nullptr) fail_absent("none given");
  return parse(std::string_view(connection_string));
}

ServiceEndpoint ServiceEndpoint::parse(std::string_view connection_string) {
  if (detail::trim_blanks(connection_string).empty()) fail_absent("empty");
  std::optional<std::string> endpoint, access_key, port, version;

  std::string_view rest = connection_string;
  while (!rest.empty()) {
    const std::size_t end = rest.find(';');
    const std::string_view part = detail::trim_blanks(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (part.empty()) continue;

    // Split on the first '=' only: base64 access keys end in '=' padding.
    const std::size_t equals = part.find('=');
    if (equals == std::string_view::npos) fail("every part must be Key=Value, separated by ';'");
    const std::string key = detail::to_ascii_lower(detail::trim_blanks(part.substr(0, equals)));
    const std::string value(detail::trim_blanks(part.substr(equals + 1)));

    std::optional<std::string>* slot = key == "endpoint"    ? &endpoint
                                       : key == "accesskey" ? &access_key
                                       : key == "port"      ? &port
                                       : key == "version"   ? &version
                                                            : nullptr;
    if (slot == nullptr) continue;  // ClientEndpoint, AuthType, ...: not ours to use
    if (slot->has_value()) fail("the key " + std::string(part.substr(0, equals)) + " appears twice");
    *slot = value;
  }

  if (!endpoint || endpoint->empty()) fail("missing Endpoint=");
  if (!access_key || access_key->empty()) fail("missing AccessKey=");
  // The version Azure's connection-string parser accepts.
  static const std::regex kVersion(R"(^1\.\d+(?:[\w\-.]+)?$)");
  if (version && !std::regex_match(*version, kVersion)) fail("Version must be 1.x");

  ServiceEndpoint parsed;
  parsed.endpoint = normalize_endpoint(*endpoint, port ? std::optional<int>(parse_port(*port)) : std::nullopt);
  parsed.access_key = *access_key;
  return parsed;
}

}  // namespace switchboard
