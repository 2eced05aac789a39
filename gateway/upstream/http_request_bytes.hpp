#pragma once
// The bytes of one upstream POST, written by hand into one buffer: the request line, Host, User-Agent,
// Content-Type, the event's headers, Content-Length and the body. Beast's serializer allocated every
// header into a field list and walked it as a buffer sequence on each call (~7 % of an echo's CPU);
// this is one string of known size. Pure.
#include <string>
#include <string_view>

#include "upstream/upstream_request.hpp"

namespace sb::upstream {

// The whole request. Header values can't carry CR, LF or NUL: such bytes become spaces, so no value
// (a user id or claim from a token, say) can add a header or end the request early.
std::string format_http_request(const Url& url, const UpstreamRequest& request);

}  // namespace sb::upstream
