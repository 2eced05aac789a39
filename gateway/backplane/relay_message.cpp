#include "backplane/relay_message.hpp"

#include "backplane/wire_codec.hpp"

namespace sb::backplane {
namespace {

// Wire form (all integers little-endian; str = u32 length, then that many bytes):
//   u8 version (1), u8 type (1 request, 2 reply), then
//   request: str from_gateway, u64 request_id, u8 kind (1..6), str connection_id, str body
//   reply:   u64 request_id, u16 status (100..599), str content_type, str body
constexpr std::uint8_t format_version = 1;
enum class MessageType : std::uint8_t { request = 1, reply = 2 };
constexpr auto first_kind = static_cast<std::uint8_t>(RelayKind::send);
constexpr auto last_kind = static_cast<std::uint8_t>(RelayKind::console);
constexpr std::uint16_t min_status = 100;
constexpr std::uint16_t max_status = 599;
constexpr const char* error_code = "invalid_relay_message";

using wire::Reader;
using wire::Writer;

Result<RelayMessage> read_request(Reader& r) {
  RelayRequest request;
  request.from_gateway = r.text("request.from_gateway");
  request.request_id = r.u64("request.request_id");
  auto kind = r.byte("request.kind");
  if (r.ok() && (kind < first_kind || kind > last_kind))
    r.fail("request.kind", "unknown value " + std::to_string(kind));
  request.kind = static_cast<RelayKind>(kind);
  request.connection_id = r.text("request.connection_id");
  request.body = r.text("request.body");
  if (r.ok() && !r.at_end()) r.fail("request", "trailing bytes");
  if (!r.ok()) return r.error();
  return RelayMessage(std::move(request));
}

Result<RelayMessage> read_reply(Reader& r) {
  RelayReply reply;
  reply.request_id = r.u64("reply.request_id");
  reply.status = r.u16("reply.status");
  if (r.ok() && (reply.status < min_status || reply.status > max_status))
    r.fail("reply.status", "expected 100..599, got " + std::to_string(reply.status));
  reply.content_type = r.text("reply.content_type");
  reply.body = r.text("reply.body");
  if (r.ok() && !r.at_end()) r.fail("reply", "trailing bytes");
  if (!r.ok()) return r.error();
  return RelayMessage(std::move(reply));
}

}  // namespace

std::string encode_relay_message(const RelayMessage& message) {
  Writer w;
  w.byte(format_version);
  if (const auto* reply = std::get_if<RelayReply>(&message)) {
    w.byte(static_cast<std::uint8_t>(MessageType::reply));
    w.u64(reply->request_id);
    w.u16(reply->status);
    w.text(reply->content_type);
    w.text(reply->body);
    return w.take();
  }
  const auto& request = std::get<RelayRequest>(message);
  w.byte(static_cast<std::uint8_t>(MessageType::request));
  w.text(request.from_gateway);
  w.u64(request.request_id);
  w.byte(static_cast<std::uint8_t>(request.kind));
  w.text(request.connection_id);
  w.text(request.body);
  return w.take();
}

Result<RelayMessage> decode_relay_message(std::string_view bytes) {
  Reader r(bytes, error_code);
  auto version = r.byte("version");
  if (r.ok() && version != format_version)
    r.fail("version", "expected " + std::to_string(format_version) + ", got " + std::to_string(version));
  auto type = r.byte("type");
  if (!r.ok()) return r.error();
  switch (static_cast<MessageType>(type)) {
    case MessageType::request: return read_request(r);
    case MessageType::reply: return read_reply(r);
  }
  return make_error(error_code, "type: unknown value " + std::to_string(type));
}

}  // namespace sb::backplane
