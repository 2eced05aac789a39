#include "auth/audience.hpp"

#include <string>

#include "common/ascii.hpp"

namespace sb::auth {
namespace {

struct UrlParts {
  std::string_view host;  // without port
  std::string_view path;
  std::string_view query;  // without '?'
};

// Splits an absolute http(s) URL; false when it isn't one.
bool split_url(std::string_view url, UrlParts& parts) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  auto scheme = url.substr(0, scheme_end);
  if (!iequals(scheme, "http") && !iequals(scheme, "https") && !iequals(scheme, "ws") && !iequals(scheme, "wss"))
    return false;
  auto rest = url.substr(scheme_end + 3);
  auto path_start = rest.find_first_of("/?#");
  auto authority = rest.substr(0, path_start);
  parts.host = host_without_port(authority);
  if (parts.host.empty()) return false;
  rest = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  auto fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  auto query_start = rest.find('?');
  parts.path = rest.substr(0, query_start);
  parts.query = query_start == std::string_view::npos ? std::string_view{} : rest.substr(query_start + 1);
  return true;
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

bool client_audience_matches(std::string_view audience, std::string_view request_host, std::string_view hub) {
  UrlParts parts;
  if (!split_url(audience, parts)) return false;
  if (!iequals(parts.host, host_without_port(request_host))) return false;
  if (strip_trailing_slash(parts.path) != "/client") return false;
  return iequals(query_value(parts.query, "hub"), hub);
}

bool rest_audience_matches(std::string_view audience, std::string_view request_host, std::string_view request_path) {
  UrlParts parts;
  if (!split_url(audience, parts)) return false;
  if (!iequals(parts.host, host_without_port(request_host))) return false;
  auto expected = strip_trailing_slash(parts.path);
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
