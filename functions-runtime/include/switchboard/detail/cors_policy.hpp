// Which other origins' pages may call an App's routes (AppOptions::cors_origins), and the headers that
// tell a browser so (Fetch standard, "CORS protocol"). No sockets: App applies these headers in
// cpp-httplib's pre-routing (preflights) and post-routing (every other response) handlers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::detail {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Immutable once built, so every handler thread may share one.
class CorsPolicy {
 public:
  // A preflight's answer may be cached this long. Chromium caps it at 2 hours; 10 minutes keeps
  // preflights rare for a page and lets a changed list take effect soon.
  static constexpr int preflight_max_age_seconds = 600;

  // Entries are "*" (any origin), "null" (sandboxed frames, file: pages) or scheme://host[:port],
  // compared ASCII case-insensitively; a trailing '/' is dropped, as an Origin header never has one.
  // Throws std::invalid_argument naming every other entry.
  explicit CorsPolicy(const std::vector<std::string>& allowed_origins);

  bool is_enabled() const { return is_any_origin_allowed_ || !origins_.empty(); }

  // "*" allows every origin except "null", which only its own entry allows.
  bool allows(std::string_view origin) const;

  // For a response to a request whose Origin header is `origin` ("" when absent): when enabled,
  // Vary: Origin (the answer depends on it, so a cache must keep answers to origins apart) and, for an
  // allowed origin, Access-Control-Allow-Origin (that origin, never "*": credentials are allowed)
  // and Access-Control-Allow-Credentials. Empty when not enabled.
  HeaderList response_headers(std::string_view origin) const;

  // For an OPTIONS request from an allowed origin naming Access-Control-Request-Method: the headers of
  // the 204 that answers the preflight, echoing the requested method and headers (when they are
  // tokens; otherwise they are left out and the browser refuses). nullopt for any other request,
  // which is routed as usual.
  std::optional<HeaderList> preflight_headers(std::string_view method, std::string_view origin,
                                              std::string_view requested_method,
                                              std::string_view requested_headers) const;

 private:
  std::vector<std::string> origins_;  // lower case, without "*"
  bool is_any_origin_allowed_ = false;
};

}  // namespace switchboard::detail
