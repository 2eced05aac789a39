#include "http/message_framing.hpp"

#include <boost/beast/http/field.hpp>

#include "common/ascii.hpp"

namespace sb::http {

std::optional<std::string_view> framing_problem(const Request& request) {
  namespace beast_http = boost::beast::http;
  auto encodings = request.equal_range(beast_http::field::transfer_encoding);
  if (encodings.first == encodings.second) return std::nullopt;
  if (request.version() < 11) return "Transfer-Encoding on HTTP/1.0";
  if (request.find(beast_http::field::content_length) != request.end())
    return "both Transfer-Encoding and Content-Length";
  // Every coding of every Transfer-Encoding field, in order: exactly one, and it is chunked.
  std::size_t codings = 0;
  bool is_chunked = false;
  for (auto it = encodings.first; it != encodings.second; ++it) {
    std::string_view rest = it->value();
    while (true) {
      auto comma = rest.find(',');
      auto coding = rest.substr(0, comma);
      while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
      while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
      if (!coding.empty()) {
        ++codings;
        is_chunked = iequals(coding, "chunked");
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (codings != 1 || !is_chunked) return "Transfer-Encoding other than a single chunked";
  return std::nullopt;
}

}  // namespace sb::http
