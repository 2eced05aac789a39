#include "common/url.hpp"

#include "common/ascii.hpp"

namespace sb {
namespace {

Error invalid(std::string_view text, std::string_view why) {
  return make_error("invalid_url", "'" + std::string(text.substr(0, 200)) + "': " + std::string(why));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string Url::host_header() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!has_default_port()) out += ":" + std::to_string(port);
  return out;
}

std::string Url::origin() const {
  return scheme + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Url> parse_url(std::string_view text) {
  Url url;
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return invalid(text, "not an absolute URL");
  for (std::string_view scheme : {"http", "https", "ws", "wss"})
    if (iequals(text.substr(0, scheme_end), scheme)) url.scheme = std::string(scheme);
  if (url.scheme.empty()) return invalid(text, "the scheme must be http, https, ws or wss");
  auto rest = text.substr(scheme_end + 3);
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  rest.remove_prefix(authority.size());

  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return invalid(text, "an IPv6 host needs its closing ']'");
    url.host = std::string(authority.substr(1, close - 1));
    if (url.host.find(':') == std::string::npos ||
        url.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos)
      return invalid(text, "brackets hold an IPv6 address");
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid(text, "expected ':' after the IPv6 host");
      port = after.substr(1);
      if (port.empty()) return invalid(text, "the port is empty");
    }
  } else {
    auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    // Only an IPv6 literal, in brackets, may hold ':' (so Host headers and origins written back
    // from a Url parse to the same Url).
    if (url.host.find_first_of(":[]") != std::string::npos) return invalid(text, "':', '[' or ']' in a host outside brackets");
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return invalid(text, "the port is empty");
    }
  }
  if (url.host.empty()) return invalid(text, "the host is empty");
  if (url.host.find('@') != std::string::npos) return invalid(text, "user information is not allowed");
  for (char c : url.host)  // it goes into a Host header and a resolver
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return invalid(text, "a space or control character in the host");
  if (port.empty()) {
    url.port = url.is_tls() ? 443 : 80;
  } else {
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) return invalid(text, "the port must be a number from 1 to 65535");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return invalid(text, "the port must be a number from 1 to 65535");
    url.port = static_cast<std::uint16_t>(value);
  }

  rest = rest.substr(0, rest.find('#'));
  for (char c : rest)
    if (c == ' ' || c == '\r' || c == '\n' || c == '\0') return invalid(text, "a space, CR, LF or NUL in the path or query");
  auto query_start = rest.find('?');
  url.path = std::string(rest.substr(0, query_start));
  if (url.path.empty()) url.path = "/";
  if (query_start != std::string_view::npos) url.query = std::string(rest.substr(query_start + 1));
  return url;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return std::nullopt;
      out += decoded;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace sb
