#include "protocol/negotiate.hpp"

#include "protocol/json_hub_protocol.hpp"

namespace sb::protocol {

std::string encode_negotiate_response(const NegotiateResponse& r) {
  std::string out = R"({"negotiateVersion":)" + std::to_string(r.negotiate_version);
  out += R"(,"connectionId":)" + json_quote(r.connection_id);
  if (r.negotiate_version >= 1) out += R"(,"connectionToken":)" + json_quote(r.connection_token);
  out += R"(,"availableTransports":[)";
  bool first = true;
  auto add = [&](const char* transport) {
    if (!first) out += ',';
    first = false;
    out += transport;
  };
  // The client tries them in this order (the server's), as ASP.NET lists them.
  if (r.websockets) add(R"({"transport":"WebSockets","transferFormats":["Text","Binary"]})");
  if (r.server_sent_events) add(R"({"transport":"ServerSentEvents","transferFormats":["Text"]})");
  if (r.long_polling) add(R"({"transport":"LongPolling","transferFormats":["Text","Binary"]})");
  out += ']';
  if (r.use_stateful_reconnect) out += R"(,"useStatefulReconnect":true)";
  if (r.token_lifetime_seconds) out += R"(,"tokenLifetimeSeconds":)" + std::to_string(*r.token_lifetime_seconds);
  out += '}';
  return out;
}

std::string encode_negotiate_error(std::string_view message) { return R"({"error":)" + json_quote(message) + "}"; }

}  // namespace sb::protocol
