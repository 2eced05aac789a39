#include "upstream/http_request_bytes.hpp"

#include <charconv>

namespace sb::upstream {

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

std::string format_http_request(const Url& url, const UpstreamRequest& request) {
  auto target = url.target();
  auto host = url.host_header();
  std::size_t size = 64 + target.size() + host.size() + request.content_type.size() + request.body.size();
  for (const auto& [name, value] : request.headers) size += name.size() + value.size() + 4;
  std::string out;
  out.reserve(size);
  out += "POST ";
  out += target;
  out += " HTTP/1.1\r\nHost: ";
  out += host;
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
