#include "redis_client/reply_parser.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using sb::redis::Reply;
using sb::redis::ReplyParser;

namespace {

std::vector<Reply> parse_all(ReplyParser& parser, std::string_view bytes, bool& ok) {
  std::vector<Reply> out;
  ok = parser.feed(bytes, [&](Reply&& r) { out.push_back(std::move(r)); });
  return out;
}

}  // namespace

TEST_CASE("reads every RESP2 type, in order") {
  ReplyParser parser;
  bool ok = false;
  auto replies = parse_all(parser, "+OK\r\n-ERR boom\r\n:-42\r\n$5\r\nhe\r\no\r\n$-1\r\n*-1\r\n*0\r\n", ok);
  REQUIRE(ok);
  REQUIRE(replies.size() == 7);
  CHECK(replies[0].type == Reply::Type::status);
  CHECK(replies[0].text == "OK");
  CHECK(replies[1].is_error());
  CHECK(replies[1].text == "ERR boom");
  CHECK(replies[2].integer == -42);
  CHECK(replies[3].text == std::string("he\r\no"));  // bulk strings are binary-safe
  CHECK(replies[4].type == Reply::Type::nil);
  CHECK(replies[5].type == Reply::Type::nil);
  CHECK(replies[6].is_array());
  CHECK(replies[6].size() == 0);
}

TEST_CASE("reads nested arrays (an XREAD reply) split at every byte") {
  const std::string wire =
      "*1\r\n*2\r\n$3\r\nlog\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\ne\r\n$3\r\nabc\r\n"
      "*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\ne\r\n$0\r\n\r\n";
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    ReplyParser parser;
    std::vector<Reply> replies;
    auto collect = [&](Reply&& r) { replies.push_back(std::move(r)); };
    // One byte at a time up to `split`, then the rest at once.
    for (std::size_t i = 0; i < split; ++i) REQUIRE(parser.feed(wire.substr(i, 1), collect));
    REQUIRE(parser.feed(wire.substr(split), collect));
    REQUIRE(replies.size() == 1);
    const Reply& stream = *replies[0].element(0);
    CHECK(stream.element(0)->text == "log");
    const Reply& entries = *stream.element(1);
    REQUIRE(entries.size() == 2);
    CHECK(entries.element(0)->element(0)->text == "1-0");
    CHECK(entries.element(0)->element(1)->element(1)->text == "abc");
    CHECK(entries.element(1)->element(1)->element(1)->text.empty());
  }
}

TEST_CASE("a protocol error stops the parser and names the fault") {
  auto error_of = [](std::string_view bytes) {
    ReplyParser parser(1024);
    bool ok = true;
    parse_all(parser, bytes, ok);
    CHECK_FALSE(ok);
    return parser.error();
  };
  CHECK(error_of("?x\r\n") == "an unknown reply type");
  CHECK(error_of("%1\r\n") == "an unknown reply type");  // RESP3: we never ask for it
  CHECK(error_of(":12a\r\n").find("integer") != std::string::npos);
  CHECK(error_of("$-2\r\n").find("bulk") != std::string::npos);
  CHECK(error_of("$2000\r\n").find("limit") != std::string::npos);
  CHECK(error_of("$3\r\nabcX\r\n").find("CRLF") != std::string::npos);
  CHECK(error_of("*-5\r\n").find("array") != std::string::npos);
  std::string deep;
  for (int i = 0; i < 17; ++i) deep += "*1\r\n";
  CHECK(error_of(deep).find("deep") != std::string::npos);
  CHECK(error_of("+" + std::string(70 * 1024, 'x')).find("64 KiB") != std::string::npos);

  ReplyParser parser;
  bool ok = true;
  parse_all(parser, "+fine\r\n!x\r\n", ok);
  CHECK_FALSE(ok);
  auto after = parse_all(parser, "+OK\r\n", ok);  // nothing more once broken
  CHECK_FALSE(ok);
  CHECK(after.empty());
}

TEST_CASE("a huge array length costs nothing until its elements arrive") {
  ReplyParser parser;
  bool ok = false;
  auto replies = parse_all(parser, "*2000000000\r\n:1\r\n", ok);
  CHECK(ok);
  CHECK(replies.empty());
}

TEST_CASE("commands are arrays of bulk strings") {
  std::string out;
  sb::redis::append_command(out, {"SET", "k", std::string("a\r\nb", 4)});
  CHECK(out == std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n"));
}
