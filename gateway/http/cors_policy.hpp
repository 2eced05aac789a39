#pragma once
// Which browser origins get CORS answers (docs/security.md "Browsers"). The SignalR browser client sends
// credentials, so an allowed origin is echoed with Access-Control-Allow-Credentials, never `*`.
// - No list (the default): every origin is echoed, except `null` (sandboxed frames, file: pages,
//   redirects), which a real site never is. Auth rides on tokens, not cookies, so echoing is safe.
// - With --cors-origins: only the listed origins (`null` too, if listed) get CORS headers, and a
//   WebSocket upgrade from another origin is refused with 403 (browsers don't apply CORS to WebSockets).
// Set once at start-up, before any thread serves; read-only afterwards.
#include <string>
#include <string_view>
#include <vector>

namespace sb::http {

// `origins` as given (--cors-origins), each "null" or scheme://host[:port]; compared case-insensitively.
void set_allowed_origins(const std::vector<std::string>& origins);

// Whether answers to `origin` carry CORS headers. False for an empty origin or one holding CR/LF.
bool is_origin_allowed(std::string_view origin);

// Whether a WebSocket upgrade from `origin` is accepted: no Origin (not a browser), or an allowed one
// when a list is set; any origin without a list.
bool is_websocket_origin_allowed(std::string_view origin);

}  // namespace sb::http
