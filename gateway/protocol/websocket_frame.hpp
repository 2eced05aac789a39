#pragma once
// WebSocket framing, server side (RFC 6455 §5): reading the masked frames clients send, joining
// fragments into messages, and writing the unmasked frames we send. Pure: no sockets, so the transport
// can read from a buffer shared by every connection of a thread and the parser can be fuzzed alone.
//
// No extension is ever negotiated (we answer no Sec-WebSocket-Extensions), so any RSV bit is an error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb::protocol {

enum class WebSocketOpcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xa,
};

// Close codes we send (RFC 6455 §7.4.1).
namespace close_code {
constexpr std::uint16_t normal = 1000;
constexpr std::uint16_t protocol_error = 1002;
constexpr std::uint16_t invalid_payload = 1007;  // text that is not UTF-8
constexpr std::uint16_t too_big = 1009;
}  // namespace close_code

// What the reader found; implemented by the transport. Views are valid during the call only. Returning
// false stops the reader at once (the transport has ended).
class WebSocketSink {
 public:
  virtual ~WebSocketSink() = default;
  virtual bool on_websocket_message(std::string_view payload, bool is_text) = 0;
  virtual bool on_websocket_ping(std::string_view payload) = 0;
  // A close frame: `code` 0 when it carried none (we then answer 1000).
  virtual void on_websocket_close(std::uint16_t code, std::string_view reason) = 0;
  // Broken framing: answer with a close frame of `code`; the connection is over.
  virtual void on_websocket_error(std::uint16_t code, std::string_view error) = 0;
};

// Reads client frames incrementally. Complete frames are unmasked in place and a message that came in
// one frame is passed on without a copy; only an incomplete frame's bytes and a fragmented message are
// kept between reads, so an idle connection holds no buffer.
class WebSocketReader {
 public:
  explicit WebSocketReader(std::size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // Consumes `size` bytes at `data` (modified: unmasked in place). Stops after a close frame or an
  // error, or when the sink returns false; everything after that is ignored.
  void feed(char* data, std::size_t size, WebSocketSink& sink);

  bool is_done() const { return is_done_; }
  // Bytes kept between reads (an incomplete frame, a fragmented message).
  std::size_t buffered_bytes() const { return partial_frame_.size() + message_.size(); }

 private:
  // One frame at `data` (size bytes): its length when complete, 0 when more bytes are needed, and
  // sets is_done_ on an error or a close.
  std::size_t read_frame(char* data, std::size_t size, WebSocketSink& sink);
  bool fail(WebSocketSink& sink, std::uint16_t code, std::string_view error);

  std::size_t max_message_bytes_;
  std::string partial_frame_;  // bytes of a frame not complete yet
  std::string message_;        // fragments of a message not finished yet
  bool is_fragmented_ = false;
  bool is_fragmented_text_ = false;
  bool is_done_ = false;
};

// The header of one unmasked server frame with FIN set, written to `out` (up to 10 bytes); returns
// its length.
std::size_t encode_websocket_header(char* out, WebSocketOpcode opcode, std::uint64_t payload_bytes);

// A whole close frame: the code, then as much of `reason` as fits in a control frame (123 bytes, cut
// on a UTF-8 boundary).
std::string encode_websocket_close(std::uint16_t code, std::string_view reason);

// A whole pong frame echoing a ping's payload (at most 125 bytes: the reader enforces it).
std::string encode_websocket_pong(std::string_view payload);

bool is_valid_utf8(std::string_view text);

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 §4.2.2): base64(SHA-1(key + GUID)).
std::string websocket_accept_key(std::string_view client_key);

// A Sec-WebSocket-Key is the base64 of 16 bytes: 24 characters ending in "==".
bool is_valid_websocket_key(std::string_view key);

}  // namespace sb::protocol
