#include "upstream/http_response_parser.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace sb::upstream;
using State = HttpResponseParser::State;

namespace {

// Feeds `bytes` in pieces of `step`, keeping what the parser leaves unused, as the client does.
State feed_in_steps(HttpResponseParser& parser, std::string_view bytes, std::size_t step) {
  std::string unparsed;
  for (std::size_t at = 0; at < bytes.size() && parser.state() == State::need_more; at += step) {
    unparsed.append(bytes.substr(at, step));
    unparsed.erase(0, parser.feed(unparsed));
  }
  return parser.state();
}

}  // namespace

TEST_CASE("a reply with Content-Length, whole or a byte at a time") {
  const std::string reply =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Other: a\r\nContent-Length: 13\r\n\r\n{\"result\":42}";
  for (std::size_t step : {reply.size(), std::size_t{1}, std::size_t{7}}) {
    CAPTURE(step);
    HttpResponseParser parser(1024, 1024);
    REQUIRE(feed_in_steps(parser, reply, step) == State::done);
    CHECK(parser.status() == 200);
    CHECK(parser.content_type() == "application/json");
    CHECK(parser.body() == "{\"result\":42}");
    CHECK(parser.keep_alive());
  }
}

TEST_CASE("a chunked reply") {
  const std::string reply =
      "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
  for (std::size_t step : {reply.size(), std::size_t{1}, std::size_t{3}}) {
    CAPTURE(step);
    HttpResponseParser parser(1024, 1024);
    REQUIRE(feed_in_steps(parser, reply, step) == State::done);
    CHECK(parser.status() == 201);
    CHECK(parser.body() == "hello world");
    CHECK(parser.keep_alive());
  }
}

TEST_CASE("the parser uses only its reply: bytes after it are left") {
  const std::string reply = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n";
  HttpResponseParser parser(1024, 1024);
  auto used = parser.feed(reply);
  CHECK(parser.state() == State::done);
  CHECK(used == std::string_view("HTTP/1.1 204 No Content\r\n\r\n").size());
  CHECK(parser.body().empty());
}

TEST_CASE("interim 1xx replies are skipped") {
  HttpResponseParser parser(1024, 1024);
  parser.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  REQUIRE(parser.state() == State::done);
  CHECK(parser.status() == 200);
  CHECK(parser.body() == "ok");
}

TEST_CASE("Connection: close and HTTP/1.0 are not kept alive") {
  HttpResponseParser close(1024, 1024);
  close.feed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(close.state() == State::done);
  CHECK_FALSE(close.keep_alive());
  HttpResponseParser old(1024, 1024);
  old.feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(old.state() == State::done);
  CHECK_FALSE(old.keep_alive());
}

TEST_CASE("a body that runs to the end of the connection ends at EOF") {
  HttpResponseParser parser(1024, 1024);
  parser.feed("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npartial");
  CHECK(parser.state() == State::need_more);
  parser.feed(" and the rest");
  parser.feed_eof();
  REQUIRE(parser.state() == State::done);
  CHECK(parser.body() == "partial and the rest");
  CHECK_FALSE(parser.keep_alive());
}

TEST_CASE("EOF before a whole reply fails") {
  HttpResponseParser nothing(1024, 1024);
  nothing.feed_eof();
  CHECK(nothing.state() == State::failed);
  HttpResponseParser short_body(1024, 1024);
  short_body.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  short_body.feed_eof();
  CHECK(short_body.state() == State::failed);
  HttpResponseParser half_header(1024, 1024);
  std::string header = "HTTP/1.1 200 OK\r\nContent-";
  half_header.feed(header);
  CHECK(half_header.state() == State::need_more);
  half_header.feed_eof();
  CHECK(half_header.state() == State::failed);
  HttpResponseParser interim_only(1024, 1024);
  interim_only.feed("HTTP/1.1 100 Continue\r\n\r\n");
  interim_only.feed_eof();
  CHECK(interim_only.state() == State::failed);
}

TEST_CASE("limits: a body over the limit, by Content-Length or by chunks, and a header over its limit") {
  HttpResponseParser declared(10, 1024);
  declared.feed("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n");
  CHECK(declared.state() == State::failed);
  CHECK(declared.is_body_too_large());

  HttpResponseParser chunked(10, 1024);
  chunked.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n");
  CHECK(chunked.state() == State::failed);
  CHECK(chunked.is_body_too_large());

  HttpResponseParser header(1024, 64);
  std::string big = "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(100, 'a') + "\r\n\r\n";
  feed_in_steps(header, big, 16);
  CHECK(header.state() == State::failed);
  CHECK_FALSE(header.is_body_too_large());
}

TEST_CASE("garbage fails with a message") {
  HttpResponseParser parser(1024, 1024);
  parser.feed("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  CHECK(parser.state() == State::failed);
  CHECK_FALSE(parser.error().empty());
  HttpResponseParser zero(1024, 1024);
  zero.feed("HTTP/1.1 000 OK\r\nContent-Length: 0\r\n\r\n");
  CHECK(zero.state() == State::failed);
}
