#pragma once
// The negotiate response (PROTOCOL.md part 1 §1): camelCase keys, status 200, never a ProtocolVersion key.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb::protocol {

struct NegotiateResponse {
  std::string connection_id;
  std::string connection_token;  // written only when negotiate_version >= 1
  int negotiate_version = 1;
  bool websockets = true;
  bool server_sent_events = false;
  bool long_polling = false;
  bool use_stateful_reconnect = false;  // written only when true: the client asked and we grant it
  // ASP.NET 11 (authentication refresh): the access token's lifetime left, in whole seconds, from
  // which the client schedules its POST /refresh. Written only when set.
  std::optional<std::int64_t> token_lifetime_seconds;
};

std::string encode_negotiate_response(const NegotiateResponse& response);
// {"error":"…"}: negotiate failures the client shows verbatim ("Negotiate failed: …" in its message).
std::string encode_negotiate_error(std::string_view message);

}  // namespace sb::protocol
