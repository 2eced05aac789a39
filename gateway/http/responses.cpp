#include "http/responses.hpp"

#include <boost/beast/http/field.hpp>

#include "http/cors_policy.hpp"
#include "protocol/json_hub_protocol.hpp"
#include "protocol/websocket_frame.hpp"

namespace sb::http {

namespace beast_http = boost::beast::http;

Response make_response(const Request& request, unsigned status) {
  Response response{static_cast<beast_http::status>(status), request.version()};
  response.set(beast_http::field::server, "switchboard");
  response.set(beast_http::field::cache_control, "no-cache, no-store");
  response.keep_alive(request.keep_alive());
  return response;
}

Response json_response(const Request& request, unsigned status, std::string body) {
  auto response = make_response(request, status);
  response.set(beast_http::field::content_type, "application/json; charset=utf-8");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

Response text_response(const Request& request, unsigned status, std::string body, std::string_view content_type) {
  auto response = make_response(request, status);
  response.set(beast_http::field::content_type, content_type);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

Response json_error(const Request& request, unsigned status, std::string_view code, std::string_view message) {
  return json_response(request, status,
                       R"({"code":)" + protocol::json_quote(code) + R"(,"message":)" + protocol::json_quote(message) + "}");
}

Response not_found(const Request& request, std::string_view ms_error_code, std::string_view message) {
  auto response = json_error(request, 404, ms_error_code, message);
  response.set("x-ms-error-code", ms_error_code);
  return response;
}

Response unauthorized(const Request& request, std::string_view message) {
  auto response = json_error(request, 401, "Unauthorized", message);
  // JwtBearer's header shape, which Azure's 401s carry too.
  response.set(beast_http::field::www_authenticate,
               std::string(R"(Bearer error="invalid_token", error_description=)") + protocol::json_quote(message));
  return response;
}

Response client_unauthorized(const Request& request, std::string_view message) {
  auto response = make_response(request, 401);
  response.set(beast_http::field::www_authenticate,
               std::string(R"(Bearer error="invalid_token", error_description=)") + protocol::json_quote(message));
  response.prepare_payload();
  return response;
}

Response connection_not_found(const Request& request) {
  return json_error(request, 404, "ConnectionNotFound", "No Connection with that ID");
}

Response resume_refusal(const Request& request, unsigned status) {
  auto response = status == 409 ? json_error(request, 409, "ConnectionInUse", "The connection is already active.")
                                : connection_not_found(request);
  response.keep_alive(false);
  return response;
}

std::optional<Response> websocket_upgrade_refusal(const Request& request) {
  std::optional<Response> refusal;
  if (request[beast_http::field::sec_websocket_version] != "13") {
    refusal = text_response(request, 426, "Sec-WebSocket-Version must be 13.", "text/plain");
    refusal->set(beast_http::field::sec_websocket_version, "13");
  } else if (!protocol::is_valid_websocket_key(request[beast_http::field::sec_websocket_key])) {
    refusal = text_response(request, 400, "Sec-WebSocket-Key must be 16 bytes in base64.", "text/plain");
  } else if (!is_websocket_origin_allowed(request[beast_http::field::origin])) {
    // Browsers apply no CORS to WebSockets: with --cors-origins, the gateway refuses other pages itself.
    refusal = text_response(request, 403, "This origin is not allowed (--cors-origins).", "text/plain");
  }
  if (refusal) refusal->keep_alive(false);
  return refusal;
}

std::string sse_response_head(const Request& request) {
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache,no-store\r\n"
      "Pragma: no-cache\r\nContent-Encoding: identity\r\nX-Accel-Buffering: no\r\n"
      "Transfer-Encoding: chunked\r\nServer: switchboard\r\n";
  if (auto origin = request[beast_http::field::origin]; is_origin_allowed(origin))
    head += "Access-Control-Allow-Origin: " + std::string(origin) + "\r\nAccess-Control-Allow-Credentials: true\r\n";
  return head + "\r\n";
}

void add_cors(const Request& request, Response& response) {
  auto origin = request[beast_http::field::origin];
  if (!is_origin_allowed(origin)) return;
  response.set(beast_http::field::access_control_allow_origin, origin);
  response.set(beast_http::field::access_control_allow_credentials, "true");
  response.set(beast_http::field::vary, "Origin");
}

Response cors_preflight(const Request& request) {
  auto response = make_response(request, 204);
  add_cors(request, response);
  response.set(beast_http::field::access_control_allow_methods, "GET, POST, DELETE, OPTIONS");
  std::string_view requested = request[beast_http::field::access_control_request_headers];
  response.set(beast_http::field::access_control_allow_headers,
               requested.empty() ? std::string_view("authorization, content-type, x-requested-with, x-signalr-user-agent")
                                 : requested);
  response.set(beast_http::field::access_control_max_age, "600");
  response.prepare_payload();
  return response;
}

}  // namespace sb::http
