#include "auth/audience.hpp"

#include <string>

#include "common/ascii.hpp"
#include "common/url.hpp"

namespace sb::auth {
namespace {

// The host of a Host header or of a parsed URL, comparable: no port, no IPv6 brackets.
std::string_view bare_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

std::string_view strip_trailing_slash(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

// The value of `name` in a raw query (not percent-decoded: hub names are plain identifiers).
std::string_view query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && iequals(pair.substr(0, eq), name)) return pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace

std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return close == std::string_view::npos ? std::string_view{} : host.substr(0, close + 1);
  }
  auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

std::string expected_client_audience(std::string_view request_host, std::string_view hub) {
  return "//" + std::string(host_without_port(request_host)) + "/client/?hub=" + std::string(hub);
}

std::string expected_rest_audience(std::string_view request_host, std::string_view request_path) {
  return "//" + std::string(host_without_port(request_host)) + std::string(request_path);
}

bool client_audience_matches(std::string_view audience, std::string_view request_host, std::string_view hub) {
  auto url = parse_url(audience);
  if (!url) return false;
  if (!iequals(url->host, bare_host(host_without_port(request_host)))) return false;
  if (strip_trailing_slash(url->path) != "/client") return false;
  return iequals(query_value(url->query, "hub"), hub);
}

bool rest_audience_matches(std::string_view audience, std::string_view request_host, std::string_view request_path) {
  auto url = parse_url(audience);
  if (!url) return false;
  if (!iequals(url->host, bare_host(host_without_port(request_host)))) return false;
  auto expected = strip_trailing_slash(url->path);
  auto actual = strip_trailing_slash(request_path);
  if (expected.size() != actual.size()) return false;
  // Compare exactly, except the segment after "/hubs/" (the SDK lowercases the hub).
  auto hubs = actual.find("/hubs/");
  if (hubs == std::string_view::npos) return expected == actual;
  auto hub_start = hubs + 6;
  auto hub_end = actual.find('/', hub_start);
  if (hub_end == std::string_view::npos) hub_end = actual.size();
  return expected.substr(0, hub_start) == actual.substr(0, hub_start) &&
         iequals(expected.substr(hub_start, hub_end - hub_start), actual.substr(hub_start, hub_end - hub_start)) &&
         expected.substr(hub_end) == actual.substr(hub_end);
}

}  // namespace sb::auth
