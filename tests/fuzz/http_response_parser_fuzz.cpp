// libFuzzer target for the upstream HTTP reply parser (gateway/upstream/http_response_parser).
// The first byte picks the read size the client sees; the rest is what the function sent.
// Properties: never crashes; the outcome, status, keep-alive and body are the same whether the bytes
// come at once or in pieces; a finished reply is never an interim 1xx; no body over the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "upstream/http_response_parser.hpp"

using sb::upstream::HttpResponseParser;
using State = HttpResponseParser::State;

namespace {

constexpr std::size_t max_body_bytes = 256;
constexpr std::size_t max_header_bytes = 512;

// As the HTTP client does: unused bytes are kept and offered again with the next read; EOF at the end.
void run(HttpResponseParser& parser, std::string_view bytes, std::size_t step) {
  std::string unparsed;
  for (std::size_t at = 0; at < bytes.size() && parser.state() == State::need_more; at += step) {
    unparsed.append(bytes.substr(at, step));
    unparsed.erase(0, parser.feed(unparsed));
  }
  parser.feed_eof();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t step = data[0] % 16 + 1;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  HttpResponseParser whole(max_body_bytes, max_header_bytes);
  run(whole, bytes, bytes.size() + 1);
  HttpResponseParser pieces(max_body_bytes, max_header_bytes);
  run(pieces, bytes, step);

  if (whole.state() == State::need_more || pieces.state() == State::need_more) std::abort();  // EOF ends it
  if (whole.state() != pieces.state()) std::abort();
  if (whole.state() == State::done) {
    if (whole.status() != pieces.status() || whole.keep_alive() != pieces.keep_alive() ||
        whole.body() != pieces.body() || whole.content_type() != pieces.content_type())
      std::abort();
    if (whole.status() < 100 || whole.status() > 999 || (whole.status() < 200 && whole.status() != 101)) std::abort();
    if (whole.body().size() > max_body_bytes) std::abort();
  }
  return 0;
}
