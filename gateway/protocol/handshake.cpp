#include "protocol/handshake.hpp"

#include <nlohmann/json.hpp>

namespace sb::protocol {

Result<HandshakeParse> parse_handshake(std::string_view buffer, HandshakeRequest& request) {
  auto separator = buffer.find('\x1e');
  if (separator == std::string_view::npos) return HandshakeParse{};
  HandshakeParse parse{HandshakeStatus::complete, separator + 1};

  auto body = nlohmann::json::parse(buffer.substr(0, separator), nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return make_error("invalid_handshake", "The handshake request is not a JSON object.");
  auto protocol = body.find("protocol");
  auto version = body.find("version");
  if (protocol == body.end() || !protocol->is_string())
    return make_error("invalid_handshake", "Missing required property 'protocol'.");
  if (version == body.end() || !version->is_number_integer())
    return make_error("invalid_handshake", "Missing required property 'version'.");

  const auto& name = protocol->get_ref<const std::string&>();
  if (name == "json") request.protocol = HubProtocolKind::json;
  else if (name == "messagepack") request.protocol = HubProtocolKind::messagepack;
  else return make_error("unsupported_protocol", "The protocol '" + name + "' is not supported.");

  auto v = version->get<std::int64_t>();
  // Both protocols are at version 2 (stateful reconnect); 1 is what clients send without it.
  if (v < 0 || v > 2)
    return make_error("unsupported_version",
                      "The server does not support version " + std::to_string(v) + " of the '" + name + "' protocol.");
  request.version = static_cast<int>(v);
  return parse;
}

const std::string& handshake_success_frame() {
  static const std::string frame = "{}\x1e";
  return frame;
}

std::string handshake_error_frame(std::string_view message) {
  return nlohmann::json{{"error", message}}.dump() + '\x1e';
}

}  // namespace sb::protocol
