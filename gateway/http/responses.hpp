#pragma once
// Canned HTTP responses in one place (uWS HttpErrors.h): JSON error bodies {"code","message"}, the
// x-ms-error-code contract, CORS for browser clients. Only http/*.cpp includes this.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string_view>

namespace sb::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

Response make_response(const Request& request, unsigned status);
Response json_response(const Request& request, unsigned status, std::string body);
Response text_response(const Request& request, unsigned status, std::string body, std::string_view content_type);
Response json_error(const Request& request, unsigned status, std::string_view code, std::string_view message);
// 404 with Azure's x-ms-error-code, which the Management SDK reads to tell "not there" from "broken".
Response not_found(const Request& request, std::string_view ms_error_code, std::string_view message);
Response unauthorized(const Request& request, std::string_view message);
// A client endpoint's 401 (negotiate, connect): no body, as ASP.NET and Azure answer, because the JS
// client shows the body to its user ("Error: Unauthorized" comes from the status text). The reason
// stays in WWW-Authenticate and the log.
Response client_unauthorized(const Request& request, std::string_view message);
// 404 for a client request whose connection token names no live connection (ASP.NET's text).
Response connection_not_found(const Request& request);
// A stateful reconnect that can't resume: gone (404; the client's reconnect fails) or live without
// stateful reconnect (409). Closes the socket after.
Response resume_refusal(const Request& request, unsigned status);
// A WebSocket upgrade the gateway can't accept: 426 for a version other than 13 (with
// `Sec-WebSocket-Version: 13`, RFC 6455 §4.4), 400 for a malformed Sec-WebSocket-Key, 403 for an Origin
// that --cors-origins does not list (http/cors_policy.hpp); nullopt when the
// upgrade is acceptable. Closes the socket after.
std::optional<Response> websocket_upgrade_refusal(const Request& request);
// The head of a Server-Sent Events response: chunked, unbuffered by proxies, CORS for the request's
// Origin (as add_cors).
std::string sse_response_head(const Request& request);

// Echoes Origin with credentials allowed (PROTOCOL.md part 1 §1 "CORS"); no-op without an Origin or
// for one the policy does not allow (http/cors_policy.hpp).
void add_cors(const Request& request, Response& response);
Response cors_preflight(const Request& request);

}  // namespace sb::http
