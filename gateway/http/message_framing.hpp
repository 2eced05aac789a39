#pragma once
// RFC 9112 §6.3: how a request's body is delimited. Beast reads a Transfer-Encoding whose final coding
// is not `chunked` as a request without a body, so that body would be parsed as the next request on the
// socket (request smuggling behind a proxy that frames it otherwise). Such requests get 400 and the
// connection closes. Pure.
#include <optional>
#include <string_view>

#include "http/responses.hpp"

namespace sb::http {

// What is wrong with the request's framing, or nullopt. Accepted: no Transfer-Encoding, or exactly one
// coding, `chunked` (any case), without Content-Length, on HTTP/1.1.
std::optional<std::string_view> framing_problem(const Request& request);

}  // namespace sb::http
