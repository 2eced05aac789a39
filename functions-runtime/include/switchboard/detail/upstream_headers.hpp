// Parsers for the upstream request headers whose values carry structure (docs/upstream.md, Request).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace switchboard::detail {

using HeaderMap = std::multimap<std::string, std::string>;

// The first value of a header, name compared case-insensitively; nullptr when absent.
const std::string* find_header(const HeaderMap& headers, std::string_view name);

// X-ASRS-User-Claims: .NET Claim.ToString() pairs "type: value" joined by ", ", with no escaping.
// A piece without ": " cannot start a claim, so it is taken as the rest of the previous value that
// contained ", " (e.g. "name: Smith, John"). Types are trimmed; every value of a type is kept.
std::multimap<std::string, std::string> parse_user_claims(std::string_view header_value);

// X-ASRS-Client-Query: the client's raw query string, with or without its leading '?'.
// Keys and values are percent-decoded ('+' is a space); a key without '=' has the value "".
std::multimap<std::string, std::string> parse_client_query(std::string_view header_value);

}  // namespace switchboard::detail
