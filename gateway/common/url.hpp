#pragma once
// One parsed absolute URL (http, https, ws, wss), split once and used everywhere: upstream templates at
// start-up, each upstream request (connect, Host header, request line, signature, pool and circuit
// keys) and token audiences. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sb {

struct Url {
  std::string scheme;      // lower case: "http", "https", "ws", "wss"
  std::string host;        // as written; an IPv6 literal without its brackets
  std::uint16_t port = 0;  // as written, else the scheme's default (80, 443)
  std::string path;        // "/" when the URL has none; still percent-encoded
  std::string query;       // after '?', without it; empty when none. A fragment is dropped.

  bool is_tls() const { return scheme == "https" || scheme == "wss"; }
  bool has_default_port() const { return port == (is_tls() ? 443 : 80); }
  // What HTTP/1.1 puts after "POST ": path and query.
  std::string target() const { return query.empty() ? path : path + "?" + query; }
  // The Host header's value: brackets around an IPv6 literal, the port unless it is the default.
  std::string host_header() const;
  // "scheme://host:port": one function, whatever the path; keys connection pools and circuits, so an
  // http and an https endpoint on one host never share either.
  std::string origin() const;
  // The URL again, normalised: lower-case scheme, no default port, no fragment.
  std::string to_string() const { return scheme + "://" + host_header() + target(); }
};

// Errors: invalid_url, naming the rule broken (scheme, empty host, port out of 1..65535, a space, CR,
// LF or NUL in the path or query, which could split a request line).
Result<Url> parse_url(std::string_view text);

// nullopt on a malformed escape or an encoded NUL.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace sb
