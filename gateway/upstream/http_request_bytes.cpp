#include "upstream/http_request_bytes.hpp"

#include <charconv>

namespace sb::upstream {

std::optional<HttpTarget> parse_http_url(std::string_view url) {
  if (url.substr(0, 7) != "http://") return std::nullopt;
  url.remove_prefix(7);
  auto slash = url.find_first_of("/?");
  auto authority = url.substr(0, slash);
  HttpTarget out;
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (out.target[0] == '?') out.target.insert(0, "/");
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    auto rest = authority.substr(close + 1);
    out.port = rest.size() > 1 && rest[0] == ':' ? std::string(rest.substr(1)) : "80";
  } else {
    auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    out.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  }
  if (out.host.empty() || out.port.empty()) return std::nullopt;
  for (char c : out.target)  // the expanded template percent-encodes its parts; this guards the request line
    if (c == ' ' || c == '\r' || c == '\n' || c == '\0') return std::nullopt;
  return out;
}

namespace {

void append_header_value(std::string& out, std::string_view value) {
  auto start = out.size();
  out += value;
  for (auto i = start; i < out.size(); ++i)
    if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0') out[i] = ' ';
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  append_header_value(out, value);
  out += "\r\n";
}

}  // namespace

std::string format_http_request(const HttpTarget& target, const UpstreamRequest& request) {
  std::size_t size = 64 + target.target.size() + target.host.size() + request.content_type.size() + request.body.size();
  for (const auto& [name, value] : request.headers) size += name.size() + value.size() + 4;
  std::string out;
  out.reserve(size);
  out += "POST ";
  out += target.target;
  out += " HTTP/1.1\r\nHost: ";
  if (target.host.find(':') != std::string::npos) {  // an IPv6 literal keeps its brackets in Host
    out += '[';
    out += target.host;
    out += ']';
  } else {
    out += target.host;
  }
  if (target.port != "80") {
    out += ':';
    out += target.port;
  }
  out += "\r\nUser-Agent: switchboard\r\n";
  append_header(out, "Content-Type", request.content_type);
  for (const auto& [name, value] : request.headers) append_header(out, name, value);
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, request.body.size());
  out += "Content-Length: ";
  out.append(digits, end);
  out += "\r\n\r\n";
  out += request.body;
  return out;
}

}  // namespace sb::upstream
