#pragma once
// Splitting request targets: path segments (split before percent-decoding, since ids may hold an
// encoded '/': PROTOCOL.md part 2 §4.3) and query parameters. Pure.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/url.hpp"

namespace sb::http {

using sb::percent_decode;  // common/url.hpp

struct Target {
  std::string_view path;   // raw, still encoded
  std::string_view query;  // raw, without '?'
};
Target split_target(std::string_view target);

using QueryParams = std::vector<std::pair<std::string, std::string>>;
// Decoded pairs in order; nullopt when an escape is malformed.
std::optional<QueryParams> parse_query(std::string_view query);

// How many parameters parse_query would return, without decoding anything (empty pairs don't count).
std::size_t count_query_parameters(std::string_view query);

// Values of `name` (case-insensitive, as ASP.NET reads query keys).
std::vector<std::string> query_values(const QueryParams& params, std::string_view name);
std::optional<std::string> query_value(const QueryParams& params, std::string_view name);  // the last one

// A request target fit for a log line: the values of credential parameters (id, access_token, token,
// code, key, sig, signature; any case) and any token-like value (24 or more characters of base64url,
// base64 or JWT alphabet) become "***". Works on a truncated target too. Pure.
std::string redacted_target(std::string_view target);

// The raw query without the named parameters (for X-ASRS-Client-Query), "?…" or empty.
std::string query_without(std::string_view raw_query, std::initializer_list<std::string_view> names);

}  // namespace sb::http
