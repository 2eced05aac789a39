// libFuzzer target for the WebSocket frame reader (RFC 6455 §5, client-to-server frames).
// Properties: never crashes or reads out of bounds; the events are the same whether the bytes come in
// one read or in reads of any size (the first input byte picks it); no message exceeds the limit; every
// text message and close reason is valid UTF-8; nothing is reported after a close or an error; a reader
// that has finished keeps no buffer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "protocol/websocket_frame.hpp"

using namespace sb::protocol;

namespace {

constexpr std::size_t max_message = 4096;

class Sink : public WebSocketSink {
 public:
  std::vector<std::string> events;
  bool is_over = false;
  bool on_websocket_message(std::string_view payload, bool is_text) override {
    check_open();
    if (payload.size() > max_message) std::abort();
    if (is_text && !is_valid_utf8(payload)) std::abort();
    events.push_back((is_text ? "t:" : "b:") + std::string(payload));
    return true;
  }
  bool on_websocket_ping(std::string_view payload) override {
    check_open();
    if (payload.size() > 125) std::abort();
    events.push_back("p:" + std::string(payload));
    return true;
  }
  void on_websocket_close(std::uint16_t code, std::string_view reason) override {
    check_open();
    if (!is_valid_utf8(reason)) std::abort();
    is_over = true;
    events.push_back("c:" + std::to_string(code) + ":" + std::string(reason));
  }
  void on_websocket_error(std::uint16_t code, std::string_view) override {
    check_open();
    if (code != close_code::protocol_error && code != close_code::invalid_payload && code != close_code::too_big) std::abort();
    is_over = true;
    events.push_back("e:" + std::to_string(code));
  }

 private:
  void check_open() const {
    if (is_over) std::abort();
  }
};

std::vector<std::string> run(const std::string& input, std::size_t chunk) {
  WebSocketReader reader(max_message);
  Sink sink;
  for (std::size_t at = 0; at < input.size(); at += chunk) {
    std::string piece = input.substr(at, chunk);  // a copy: the reader unmasks in place
    reader.feed(piece.data(), piece.size(), sink);
  }
  if (reader.is_done() && reader.buffered_bytes() != 0) std::abort();
  return sink.events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t chunk = 1 + data[0] % 17;
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto whole = run(input, input.size() == 0 ? 1 : input.size());
  auto pieces = run(input, chunk);
  if (whole != pieces) std::abort();
  return 0;
}
