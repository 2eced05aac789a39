#pragma once
// Reads one upstream reply from bytes as they arrive: Beast's HTTP/1.1 parser (chunked bodies, limits,
// keep-alive rules) with a sink that keeps only what a call needs, the status, Content-Type and the
// body, instead of a field list with an allocation per header. 1xx interim replies are skipped.
// No I/O: the HTTP client feeds it what it reads.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace sb::upstream {

class HttpResponseParser {
 public:
  enum class State { need_more, done, failed };

  HttpResponseParser(std::size_t max_body_bytes, std::size_t max_header_bytes);
  ~HttpResponseParser();
  HttpResponseParser(const HttpResponseParser&) = delete;
  HttpResponseParser& operator=(const HttpResponseParser&) = delete;

  // Parses from the front of `bytes` and returns how many it used. What is left unused (an unfinished
  // line) the caller keeps and offers again with more appended.
  std::size_t feed(std::string_view bytes);
  // The peer closed: ends a body that runs to the end of the connection, or fails a partial reply.
  void feed_eof();

  State state() const { return state_; }
  bool is_body_too_large() const { return is_body_too_large_; }
  std::string_view error() const { return error_; }  // when failed

  // When done:
  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }
  std::string& content_type() { return content_type_; }
  std::string& body() { return body_; }

 private:
  class Sink;
  void fail(std::string message);
  void on_message_done();

  std::size_t max_body_bytes_;
  std::size_t max_header_bytes_;
  std::unique_ptr<Sink> sink_;
  State state_ = State::need_more;
  bool is_body_too_large_ = false;
  bool keep_alive_ = false;
  std::size_t header_bytes_ = 0;  // of the reply being parsed
  int status_ = 0;
  std::string content_type_;
  std::string body_;
  std::string error_;
};

}  // namespace sb::upstream
