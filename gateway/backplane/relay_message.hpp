#pragma once
// What gateways say to each other to relay a client's follow-up HTTP request. A long-polling client's
// poll, send and DELETE, and an SSE client's send, are separate requests that a load balancer without
// sticky sessions may hand to any gateway; only the one that holds the connection can answer them. The
// gateway that received one publishes a RelayRequest on the owner's inbox channel, the owner runs it as
// if it had arrived there and publishes a RelayReply on the asker's inbox, and the asker writes that
// reply to its client.
// The form is binary, like envelope.hpp's (lengths 32-bit little-endian, enums one byte), so a body of
// MessagePack hub frames travels as the bytes it is. Anything that can PUBLISH on the fleet's Redis
// may write to an inbox, so decoding treats its input as untrusted. Pure: no I/O, never throws.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/result.hpp"

namespace sb::backplane {

// The method of the follow-up: POST, GET and DELETE on the connection's endpoint.
// `take`: a stateful reconnect reached the asker; the holder hands the connection over (a handoff,
// PROTOCOL.md part 3 §3.8) and answers with its state (backplane/handoff_state.hpp).
// `invoke`: a REST :invoke (client results); the body is the REST body {"target","arguments"}, the
// answer the REST response.
// refresh: a client's fresh access token for its connection (POST /client/refresh).
// console: an operator console's question or action for one gateway (not a connection's): connection_id
// holds the console's API path and query, the body its JSON.
enum class RelayKind : std::uint8_t { send = 1, poll = 2, stop = 3, take = 4, invoke = 5, refresh = 6, console = 7 };

// A follow-up request for a connection held by another gateway, sent to that gateway's inbox.
struct RelayRequest {
  std::string from_gateway;      // whose inbox the reply goes to
  std::uint64_t request_id = 0;  // the asker's, echoed in the reply
  RelayKind kind = RelayKind::send;
  std::string connection_id;
  std::string body;  // send: the POST body (hub protocol bytes, may be binary)
  friend bool operator==(const RelayRequest&, const RelayRequest&) = default;
};

// The owner's answer: the HTTP status, content type and body the asker writes to its client.
struct RelayReply {
  std::uint64_t request_id = 0;
  std::uint16_t status = 0;
  std::string content_type;  // may be empty
  std::string body;
  friend bool operator==(const RelayReply&, const RelayReply&) = default;
};

using RelayMessage = std::variant<RelayRequest, RelayReply>;

// Writes what it is given. A kind outside RelayKind or a status outside 100..599 is the caller's bug:
// the bytes are written, and the receiving gateway rejects them. Each string must be shorter than 4 GiB
// (bodies are bounded by the configured message limits, far below that).
std::string encode_relay_message(const RelayMessage& message);

// The inverse of encode_relay_message, and its only accepted form: whatever decodes re-encodes to the
// same bytes. Errors: code "invalid_relay_message", the message names the field and the rule
// ("request.body: truncated", "reply.status: expected 100..599, got 42"); an unknown version or
// type, a length beyond the bytes left and trailing bytes are errors. Lengths are checked before
// anything is allocated.
Result<RelayMessage> decode_relay_message(std::string_view bytes);

}  // namespace sb::backplane
