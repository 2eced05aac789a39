#include "protocol/websocket_frame.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstring>

namespace sb::protocol {
namespace {

std::uint16_t read_be16(const char* p) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) | static_cast<unsigned char>(p[1]));
}

std::uint64_t read_be64(const char* p) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(p[i]);
  return value;
}

// XORs the payload with the 4-byte mask, 8 bytes at a time (the mask repeats every 4, so an 8-byte word
// starting at a multiple of 4 sees it twice, whatever the byte order).
void unmask(char* data, std::size_t size, const char* mask) {
  std::uint32_t mask32;
  std::memcpy(&mask32, mask, 4);
  const std::uint64_t mask64 = (static_cast<std::uint64_t>(mask32) << 32) | mask32;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    word ^= mask64;
    std::memcpy(data + i, &word, 8);
  }
  for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ mask[i & 3]);
}

// RFC 6455 §7.4: the codes an endpoint may send (1004-1006 and 1015 are reserved for reports, never sent).
bool is_valid_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

bool is_known_opcode(unsigned opcode) {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}

}  // namespace

bool WebSocketReader::fail(WebSocketSink& sink, std::uint16_t code, std::string_view error) {
  is_done_ = true;
  sink.on_websocket_error(code, error);
  return false;
}

std::size_t WebSocketReader::read_frame(char* data, std::size_t size, WebSocketSink& sink) {
  if (size < 2) return 0;
  const auto b0 = static_cast<unsigned char>(data[0]);
  const auto b1 = static_cast<unsigned char>(data[1]);
  const bool is_final = b0 & 0x80;
  const unsigned opcode = b0 & 0x0f;
  const bool is_control = opcode & 0x8;
  if (b0 & 0x70) return fail(sink, close_code::protocol_error, "reserved bits set"), 0;
  if (!is_known_opcode(opcode)) return fail(sink, close_code::protocol_error, "unknown opcode"), 0;
  if (!(b1 & 0x80)) return fail(sink, close_code::protocol_error, "unmasked frame from a client"), 0;
  std::uint64_t length = b1 & 0x7f;
  if (is_control && (!is_final || length > 125))
    return fail(sink, close_code::protocol_error, "fragmented or oversized control frame"), 0;
  std::size_t header = 2;
  if (length == 126) {
    if (size < 4) return 0;
    length = read_be16(data + 2);
    header = 4;
    if (length < 126) return fail(sink, close_code::protocol_error, "length not in its shortest form"), 0;
  } else if (length == 127) {
    if (size < 10) return 0;
    length = read_be64(data + 2);
    header = 10;
    if (length >> 63) return fail(sink, close_code::protocol_error, "length with its top bit set"), 0;
    if (length < 65536) return fail(sink, close_code::protocol_error, "length not in its shortest form"), 0;
  }
  const char* mask = data + header;
  header += 4;
  if (!is_control) {
    if (opcode == 0 && !is_fragmented_) return fail(sink, close_code::protocol_error, "continuation without a message"), 0;
    if (opcode != 0 && is_fragmented_) return fail(sink, close_code::protocol_error, "new message inside a fragmented one"), 0;
    // Checked before the payload arrives, so a huge declared length is refused without buffering it.
    const std::uint64_t total = (is_fragmented_ ? message_.size() : 0) + length;
    if (length > max_message_bytes_ || total > max_message_bytes_)
      return fail(sink, close_code::too_big, "message too big"), 0;
  }
  if (size < header || size - header < length) return 0;
  char* payload = data + header;
  const auto payload_size = static_cast<std::size_t>(length);
  unmask(payload, payload_size, mask);
  const std::string_view view(payload, payload_size);
  const std::size_t frame_size = header + payload_size;

  switch (static_cast<WebSocketOpcode>(opcode)) {
    case WebSocketOpcode::close: {
      if (payload_size == 1) return fail(sink, close_code::protocol_error, "close frame of one byte"), 0;
      std::uint16_t code = payload_size >= 2 ? read_be16(payload) : 0;
      if (payload_size >= 2 && !is_valid_close_code(code)) return fail(sink, close_code::protocol_error, "invalid close code"), 0;
      std::string_view reason = payload_size > 2 ? view.substr(2) : std::string_view();
      if (!is_valid_utf8(reason)) return fail(sink, close_code::invalid_payload, "close reason is not UTF-8"), 0;
      is_done_ = true;
      sink.on_websocket_close(code, reason);
      return frame_size;
    }
    case WebSocketOpcode::ping:
      if (!sink.on_websocket_ping(view)) is_done_ = true;
      return frame_size;
    case WebSocketOpcode::pong:
      return frame_size;  // unsolicited pongs are a keep-alive (.NET sends them); nothing to do
    default:
      break;
  }

  if (is_final && !is_fragmented_) {
    const bool is_text = opcode == 0x1;
    if (is_text && !is_valid_utf8(view)) return fail(sink, close_code::invalid_payload, "text message is not UTF-8"), 0;
    if (!sink.on_websocket_message(view, is_text)) is_done_ = true;
    return frame_size;
  }
  if (!is_fragmented_) {
    is_fragmented_ = true;
    is_fragmented_text_ = opcode == 0x1;
  }
  message_.append(view);
  if (!is_final) return frame_size;
  is_fragmented_ = false;
  std::string message;
  message.swap(message_);  // leaves no buffer behind on an idle connection
  if (is_fragmented_text_ && !is_valid_utf8(message))
    return fail(sink, close_code::invalid_payload, "text message is not UTF-8"), 0;
  if (!sink.on_websocket_message(message, is_fragmented_text_)) is_done_ = true;
  return frame_size;
}

void WebSocketReader::feed(char* data, std::size_t size, WebSocketSink& sink) {
  if (is_done_) return;
  char* input = data;
  std::size_t input_size = size;
  const bool is_joined = !partial_frame_.empty();
  if (is_joined) {
    partial_frame_.append(data, size);
    input = partial_frame_.data();
    input_size = partial_frame_.size();
  }
  std::size_t offset = 0;
  while (!is_done_) {
    std::size_t used = read_frame(input + offset, input_size - offset, sink);
    if (used == 0) break;
    offset += used;
  }
  if (is_done_) {  // nothing more will be read: keep nothing
    std::string().swap(partial_frame_);
    std::string().swap(message_);
    return;
  }
  if (is_joined) {
    if (offset == input_size)
      std::string().swap(partial_frame_);
    else
      partial_frame_.erase(0, offset);
  } else if (offset < input_size) {
    partial_frame_.assign(input + offset, input_size - offset);
  }
}

std::size_t encode_websocket_header(char* out, WebSocketOpcode opcode, std::uint64_t payload_bytes) {
  out[0] = static_cast<char>(0x80 | static_cast<unsigned>(opcode));
  if (payload_bytes < 126) {
    out[1] = static_cast<char>(payload_bytes);
    return 2;
  }
  if (payload_bytes < 65536) {
    out[1] = 126;
    out[2] = static_cast<char>(payload_bytes >> 8);
    out[3] = static_cast<char>(payload_bytes & 0xff);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<char>((payload_bytes >> (56 - 8 * i)) & 0xff);
  return 10;
}

std::string encode_websocket_close(std::uint16_t code, std::string_view reason) {
  std::size_t keep = std::min<std::size_t>(reason.size(), 123);
  // Cut before a continuation byte, never inside a character.
  while (keep > 0 && keep < reason.size() && (static_cast<unsigned char>(reason[keep]) & 0xc0) == 0x80) --keep;
  char header[10];
  std::string frame(header, encode_websocket_header(header, WebSocketOpcode::close, 2 + keep));
  frame += static_cast<char>(code >> 8);
  frame += static_cast<char>(code & 0xff);
  frame.append(reason.substr(0, keep));
  return frame;
}

std::string encode_websocket_pong(std::string_view payload) {
  char header[10];
  std::string frame(header, encode_websocket_header(header, WebSocketOpcode::pong, payload.size()));
  frame.append(payload);
  return frame;
}

bool is_valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    // ASCII runs, eight bytes at a time: the common case for JSON.
    while (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      if (word & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p >= end) break;
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t length;
    std::uint32_t min;
    std::uint32_t code;
    if ((c & 0xe0) == 0xc0) {
      length = 2, min = 0x80, code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3, min = 0x800, code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4, min = 0x10000, code = c & 0x07;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < length) return false;
    for (std::size_t i = 1; i < length; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      code = (code << 6) | (p[i] & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;  // overlong, too big, surrogate
    p += length;
  }
  return true;
}

std::string websocket_accept_key(std::string_view client_key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input;
  input.reserve(client_key.size() + guid.size());
  input.append(client_key).append(guid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr);
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
  int encoded_size = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(encoded_size));
}

bool is_valid_websocket_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (char c : key.substr(0, 22)) {
    bool is_base64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!is_base64) return false;
  }
  return true;
}

}  // namespace sb::protocol
