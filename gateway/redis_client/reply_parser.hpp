#pragma once
// Reads RESP2 replies from a byte stream, a chunk at a time, as they arrive (Redis's protocol spec,
// "RESP protocol description"). Pure and bounded: a bulk string over `max_bulk_bytes`, a line over
// 64 KiB, nesting deeper than 16 or a RESP3 type (we never send HELLO 3) is a protocol error, after
// which the parser accepts nothing more (the link is closed).
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis_client/reply.hpp"

namespace sb::redis {

class ReplyParser {
 public:
  using OnReply = std::function<void(Reply&&)>;

  explicit ReplyParser(std::size_t max_bulk_bytes = 64 * 1024 * 1024) : max_bulk_bytes_(max_bulk_bytes) {}

  // Parses what `bytes` completes; `on_reply` gets each whole reply in order. False on a protocol error
  // (error() says what); replies completed before the error were delivered.
  bool feed(std::string_view bytes, const OnReply& on_reply);
  const std::string& error() const { return error_; }

 private:
  struct OpenArray {
    Reply array;
    std::size_t remaining;
  };
  bool fail(std::string why);
  // Hands a finished value to the array being filled, or to `on_reply` when it is a whole reply.
  void complete(Reply&& value, const OnReply& on_reply);

  std::size_t max_bulk_bytes_;
  std::string pending_;            // bytes not yet consumed
  std::size_t scanned_ = 0;        // how much of pending_ was already searched for a line end
  std::optional<std::size_t> bulk_;  // reading a bulk string of this many bytes
  std::vector<OpenArray> open_;
  std::string error_;
};

// The wire form of a command: an array of bulk strings (binary-safe).
void append_command(std::string& out, const std::vector<std::string>& argv);

}  // namespace sb::redis
