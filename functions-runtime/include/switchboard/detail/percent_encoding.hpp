// Percent-encoding for URL path segments and query values (RFC 3986 §2.1).
#pragma once

#include <string>
#include <string_view>

namespace switchboard::detail {

// Escapes everything but the unreserved characters A-Z a-z 0-9 - . _ ~, as .NET's
// Uri.EscapeDataString does; the Azure SDKs escape each path segment this way.
std::string percent_encode(std::string_view text);

// Decodes %XX; with plus_is_space also '+' (form-style query strings). A '%' not followed by two
// hex digits stays as it is rather than failing: the input comes from a client we don't control.
std::string percent_decode(std::string_view text, bool plus_is_space);

}  // namespace switchboard::detail
