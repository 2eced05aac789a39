#include "http/message_framing.hpp"

#include <doctest/doctest.h>

#include <boost/beast/http/field.hpp>

using sb::http::framing_problem;
using sb::http::Request;
namespace beast_http = boost::beast::http;

namespace {

Request post(std::initializer_list<std::pair<beast_http::field, const char*>> fields, unsigned version = 11) {
  Request request{beast_http::verb::post, "/api/v1/hubs/chat", version};
  for (const auto& [name, value] : fields) request.insert(name, value);
  return request;
}

}  // namespace

TEST_CASE("a request framed by Content-Length or by chunked alone is fine") {
  CHECK_FALSE(framing_problem(post({})));
  CHECK_FALSE(framing_problem(post({{beast_http::field::content_length, "3"}})));
  CHECK_FALSE(framing_problem(post({{beast_http::field::transfer_encoding, "chunked"}})));
  CHECK_FALSE(framing_problem(post({{beast_http::field::transfer_encoding, " Chunked "}})));
}

TEST_CASE("any other Transfer-Encoding is refused (issue 14: its body was parsed as the next request)") {
  using F = beast_http::field;
  CHECK(framing_problem(post({{F::transfer_encoding, "gzip"}})));
  CHECK(framing_problem(post({{F::transfer_encoding, "chunked, identity"}})));
  CHECK(framing_problem(post({{F::transfer_encoding, "chunked ,chunked"}})));
  CHECK(framing_problem(post({{F::transfer_encoding, "gzip, chunked"}})));
  CHECK(framing_problem(post({{F::transfer_encoding, ""}})));
  CHECK(framing_problem(post({{F::transfer_encoding, "chunked"}, {F::transfer_encoding, "chunked"}})));
  CHECK(framing_problem(post({{F::transfer_encoding, "chunked"}, {F::content_length, "5"}})));
  CHECK(framing_problem(post({{F::transfer_encoding, "chunked"}}, 10)));
}
