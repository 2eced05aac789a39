#include "switchboard/detail/cors_policy.hpp"

#include <algorithm>
#include <stdexcept>

#include "switchboard/detail/ascii.hpp"

namespace switchboard::detail {
namespace {

// RFC 9110 §5.6.2 tchar.
bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

// Access-Control-Request-Headers: a comma-separated list of header names (Fetch standard). Anything
// else is not echoed, so a request can't put arbitrary text into our response headers.
bool is_token_list(std::string_view text) {
  while (true) {
    const std::size_t comma = text.find(',');
    if (!is_token(trim_blanks(text.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

// scheme "://" host [":" port], the serialization of a tuple origin (RFC 6454 §6.1).
bool is_serialized_origin(std::string_view origin) {
  const std::size_t scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return false;
  const std::string_view scheme = origin.substr(0, scheme_end);
  const std::string_view authority = origin.substr(scheme_end + 3);
  const auto is_scheme_char = [](char c) { return is_token_char(c) && c != '*'; };
  return std::all_of(scheme.begin(), scheme.end(), is_scheme_char) && !authority.empty() &&
         authority.find_first_of("/?#@ \t") == std::string_view::npos;
}

}  // namespace

CorsPolicy::CorsPolicy(const std::vector<std::string>& allowed_origins) {
  std::string problems;
  for (std::size_t i = 0; i < allowed_origins.size(); ++i) {
    std::string_view entry = trim_blanks(allowed_origins[i]);
    if (entry.size() > 1 && entry.back() == '/') entry.remove_suffix(1);
    if (entry == "*") {
      is_any_origin_allowed_ = true;
    } else if (entry == "null" || is_serialized_origin(entry)) {
      origins_.push_back(to_ascii_lower(entry));
    } else {
      problems += (problems.empty() ? "" : "; ") + std::string("cors_origins[") + std::to_string(i) + "]: \"" +
                  allowed_origins[i] + "\" is not an origin (scheme://host[:port]), \"*\" or \"null\"";
    }
  }
  if (!problems.empty()) throw std::invalid_argument(problems);
}

bool CorsPolicy::allows(std::string_view origin) const {
  if (origin.empty()) return false;
  const std::string lower = to_ascii_lower(origin);
  if (is_any_origin_allowed_ && lower != "null") return true;
  return std::find(origins_.begin(), origins_.end(), lower) != origins_.end();
}

HeaderList CorsPolicy::response_headers(std::string_view origin) const {
  HeaderList headers;
  if (!is_enabled()) return headers;
  headers.emplace_back("Vary", "Origin");
  if (allows(origin)) {
    headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    headers.emplace_back("Access-Control-Allow-Credentials", "true");
  }
  return headers;
}

std::optional<HeaderList> CorsPolicy::preflight_headers(std::string_view method, std::string_view origin,
                                                        std::string_view requested_method,
                                                        std::string_view requested_headers) const {
  if (method != "OPTIONS" || requested_method.empty() || !allows(origin)) return std::nullopt;
  HeaderList headers = response_headers(origin);
  if (is_token(requested_method)) headers.emplace_back("Access-Control-Allow-Methods", std::string(requested_method));
  if (!trim_blanks(requested_headers).empty() && is_token_list(requested_headers)) {
    headers.emplace_back("Access-Control-Allow-Headers", std::string(trim_blanks(requested_headers)));
  }
  headers.emplace_back("Access-Control-Max-Age", std::to_string(preflight_max_age_seconds));
  return headers;
}

}  // namespace switchboard::detail
