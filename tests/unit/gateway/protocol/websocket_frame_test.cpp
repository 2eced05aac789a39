#include "protocol/websocket_frame.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace sb::protocol;

namespace {

struct Recorded {
  std::vector<std::pair<std::string, bool>> messages;
  std::vector<std::string> pings;
  int close_code = -1;
  std::string close_reason;
  int error_code = -1;
  std::string error;
};

class RecordingSink : public WebSocketSink {
 public:
  Recorded seen;
  bool keep_going = true;
  bool on_websocket_message(std::string_view payload, bool is_text) override {
    seen.messages.emplace_back(std::string(payload), is_text);
    return keep_going;
  }
  bool on_websocket_ping(std::string_view payload) override {
    seen.pings.emplace_back(payload);
    return true;
  }
  void on_websocket_close(std::uint16_t code, std::string_view reason) override {
    seen.close_code = code;
    seen.close_reason = reason;
  }
  void on_websocket_error(std::uint16_t code, std::string_view error) override {
    seen.error_code = code;
    seen.error = error;
  }
};

// A client frame: masked with a fixed key (RFC 6455 §5.3).
std::string client_frame(unsigned opcode, std::string_view payload, bool fin = true, bool masked = true) {
  std::string out;
  out += static_cast<char>((fin ? 0x80 : 0) | opcode);
  const unsigned char mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    out += static_cast<char>(mask_bit | payload.size());
  } else if (payload.size() < 65536) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xff);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((payload.size() >> (8 * i)) & 0xff);
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked) out.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) out += masked ? static_cast<char>(payload[i] ^ mask[i % 4]) : payload[i];
  return out;
}

Recorded feed_all(std::string bytes, std::size_t max = 1 << 20, std::size_t chunk = 0) {
  WebSocketReader reader(max);
  RecordingSink sink;
  if (chunk == 0) chunk = bytes.size();
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    std::string piece = bytes.substr(at, chunk);
    reader.feed(piece.data(), piece.size(), sink);
  }
  return sink.seen;
}

}  // namespace

TEST_CASE("a masked text frame becomes one message, unmasked") {
  auto seen = feed_all(client_frame(0x1, R"({"protocol":"json","version":1})" "\x1e"));
  REQUIRE(seen.messages.size() == 1);
  CHECK(seen.messages[0].first == R"({"protocol":"json","version":1})" "\x1e");
  CHECK(seen.messages[0].second);
  CHECK(seen.error_code == -1);
}

TEST_CASE("frames split at every byte boundary read the same") {
  std::string payload(300, 'x');  // 16-bit length form
  std::string bytes = client_frame(0x2, payload) + client_frame(0x1, "tail");
  for (std::size_t chunk = 1; chunk <= 9; ++chunk) {
    auto seen = feed_all(bytes, 1 << 20, chunk);
    REQUIRE(seen.messages.size() == 2);
    CHECK(seen.messages[0].first == payload);
    CHECK_FALSE(seen.messages[0].second);
    CHECK(seen.messages[1].first == "tail");
  }
}

TEST_CASE("a 64-bit length and several frames in one read") {
  std::string big(70000, 'y');
  auto seen = feed_all(client_frame(0x2, big) + client_frame(0x2, "a") + client_frame(0x2, "b"));
  REQUIRE(seen.messages.size() == 3);
  CHECK(seen.messages[0].first == big);
  CHECK(seen.messages[2].first == "b");
}

TEST_CASE("fragments are joined, with a ping between them") {
  std::string bytes = client_frame(0x1, "hel", false) + client_frame(0x9, "p") + client_frame(0x0, "lo ", false) +
                      client_frame(0x0, "world", true);
  auto seen = feed_all(bytes, 1 << 20, 3);
  REQUIRE(seen.messages.size() == 1);
  CHECK(seen.messages[0].first == "hello world");
  CHECK(seen.messages[0].second);
  REQUIRE(seen.pings.size() == 1);
  CHECK(seen.pings[0] == "p");
}

TEST_CASE("a close frame gives its code and reason and ends reading") {
  std::string payload = std::string("\x03\xe8", 2) + "bye";
  auto seen = feed_all(client_frame(0x8, payload) + client_frame(0x1, "after"));
  CHECK(seen.close_code == 1000);
  CHECK(seen.close_reason == "bye");
  CHECK(seen.messages.empty());
  CHECK(feed_all(client_frame(0x8, "")).close_code == 0);
}

TEST_CASE("broken framing is refused with the RFC's close code") {
  CHECK(feed_all(client_frame(0x1, "x", true, false)).error_code == close_code::protocol_error);  // unmasked
  CHECK(feed_all(client_frame(0x3, "x")).error_code == close_code::protocol_error);               // unknown opcode
  std::string rsv = client_frame(0x1, "x");
  rsv[0] = static_cast<char>(rsv[0] | 0x40);
  CHECK(feed_all(rsv).error_code == close_code::protocol_error);
  CHECK(feed_all(client_frame(0x0, "x")).error_code == close_code::protocol_error);  // continuation first
  CHECK(feed_all(client_frame(0x1, "a", false) + client_frame(0x1, "b")).error_code == close_code::protocol_error);
  CHECK(feed_all(client_frame(0x9, "p", false)).error_code == close_code::protocol_error);  // fragmented control
  CHECK(feed_all(client_frame(0x9, std::string(126, 'p'))).error_code == close_code::protocol_error);
  CHECK(feed_all(client_frame(0x8, "x")).error_code == close_code::protocol_error);  // one-byte close
  CHECK(feed_all(client_frame(0x8, std::string("\x03\xed", 2))).error_code == close_code::protocol_error);  // 1005
  // 126-form length for a 5-byte payload: not the shortest form
  std::string longer = "\x81\xfe";
  longer += std::string("\x00\x05", 2) + "\x12\x34\x56\x78" + "hello";
  CHECK(feed_all(longer).error_code == close_code::protocol_error);
}

TEST_CASE("text must be UTF-8; binary need not") {
  CHECK(feed_all(client_frame(0x1, "\xc3\x28")).error_code == close_code::invalid_payload);
  CHECK(feed_all(client_frame(0x1, "\xc3", false) + client_frame(0x0, "\xa9")).messages.size() == 1);  // é across fragments
  CHECK(feed_all(client_frame(0x2, "\xc3\x28")).messages.size() == 1);
}

TEST_CASE("a message over the limit is refused from its header, before the payload") {
  std::string frame = client_frame(0x2, std::string(2000, 'z'));
  auto seen = feed_all(frame.substr(0, 8), 1000);
  CHECK(seen.error_code == close_code::too_big);
  auto fragmented = feed_all(client_frame(0x2, std::string(600, 'a'), false) + client_frame(0x0, std::string(600, 'b')), 1000);
  CHECK(fragmented.error_code == close_code::too_big);
}

TEST_CASE("a sink that returns false stops the reader") {
  WebSocketReader reader(1024);
  RecordingSink sink;
  sink.keep_going = false;
  std::string bytes = client_frame(0x1, "one") + client_frame(0x1, "two");
  reader.feed(bytes.data(), bytes.size(), sink);
  CHECK(sink.seen.messages.size() == 1);
  CHECK(reader.is_done());
}

TEST_CASE("an idle reader keeps no buffer") {
  WebSocketReader reader(1 << 20);
  RecordingSink sink;
  std::string bytes = client_frame(0x1, std::string(5000, 'q'));
  reader.feed(bytes.data(), 100, sink);
  CHECK(reader.buffered_bytes() == 100);
  reader.feed(bytes.data() + 100, bytes.size() - 100, sink);
  CHECK(reader.buffered_bytes() == 0);
  CHECK(sink.seen.messages.size() == 1);
}

TEST_CASE("server headers use the shortest length form") {
  char header[10];
  CHECK(encode_websocket_header(header, WebSocketOpcode::text, 125) == 2);
  CHECK(static_cast<unsigned char>(header[0]) == 0x81);
  CHECK(header[1] == 125);
  CHECK(encode_websocket_header(header, WebSocketOpcode::binary, 126) == 4);
  CHECK(static_cast<unsigned char>(header[0]) == 0x82);
  CHECK(static_cast<unsigned char>(header[1]) == 126);
  CHECK(encode_websocket_header(header, WebSocketOpcode::binary, 65536) == 10);
  CHECK(static_cast<unsigned char>(header[1]) == 127);
  CHECK(header[7] == 1);  // 0x00 00 00 00 00 01 00 00
}

TEST_CASE("close frames carry the code and a reason cut on a character boundary") {
  auto frame = encode_websocket_close(1002, std::string(122, 'a') + "\xc3\xa9");
  CHECK(static_cast<unsigned char>(frame[0]) == 0x88);
  CHECK(frame[1] == 2 + 122);  // the two-byte é would make 124 > 123: left out whole
  CHECK(static_cast<unsigned char>(frame[2]) == 0x03);
  CHECK(static_cast<unsigned char>(frame[3]) == 0xea);
  CHECK(encode_websocket_pong("hi") == std::string("\x8a\x02hi", 4));
}

TEST_CASE("UTF-8 validation") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii, longer than eight bytes"));
  CHECK(is_valid_utf8("\xe2\x82\xac \xf0\x9f\x98\x80"));
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(is_valid_utf8("abc\xe2\x82"));       // cut short
  CHECK_FALSE(is_valid_utf8("\xff"));
}

TEST_CASE("the accept key of RFC 6455 §1.3's example") {
  CHECK(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
  CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ"));
  CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZ!=="));
}
