#pragma once
// Every log line of the HTTP layer: malformed requests, TLS handshakes, and the REST API's refusals.
#include <chrono>

#include "common/log.hpp"

namespace sb::http::log_events {

using log::Event;
using log::Level;
using log::LogThrottle;

inline LogThrottle bad_request_throttle{std::chrono::seconds(1)};
inline constexpr Event bad_request{Level::debug, "http", "bad_request", "error",
                                   "A malformed HTTP request; answered 400 and closed.", &bad_request_throttle};
inline LogThrottle bad_framing_throttle{std::chrono::seconds(1)};
inline constexpr Event bad_framing{Level::info, "http", "bad_framing", "error",
                                   "A request whose Transfer-Encoding is not a single chunked (or comes with Content-Length "
                                   "or on HTTP/1.0); answered 400 and closed, its body never read as a request.",
                                   &bad_framing_throttle};
inline LogThrottle url_too_long_throttle{std::chrono::seconds(1)};
inline constexpr Event url_too_long{Level::info, "http", "url_too_long", "bytes sample",
                                    "A request's URL was over --max-url-bytes; answered 414.", &url_too_long_throttle};
inline LogThrottle too_many_query_parameters_throttle{std::chrono::seconds(1)};
inline constexpr Event too_many_query_parameters{Level::info, "http", "too_many_query_parameters", "sample",
                                                 "A request's query had too many parameters; answered 400.", &too_many_query_parameters_throttle};
inline constexpr Event tls_handshake_failed{Level::info, "http", "tls_handshake_failed", "error skipped",
                                            "A client's TLS handshake failed (once a second at most)."};
inline LogThrottle rest_unauthorized_throttle{std::chrono::seconds(1)};
inline constexpr Event rest_unauthorized{Level::info, "rest", "unauthorized", "path error",
                                         "A REST call without a valid token; answered 401.", &rest_unauthorized_throttle};
inline LogThrottle rest_bad_path_throttle{std::chrono::seconds(1)};
inline constexpr Event rest_bad_path{Level::info, "rest", "bad_path", "error path",
                                     "A REST path with an invalid hub, group, user or connection name; answered 400.", &rest_bad_path_throttle};

inline constexpr const Event* all[] = {&bad_request, &bad_framing,          &url_too_long,      &too_many_query_parameters,
                                       &tls_handshake_failed, &rest_unauthorized, &rest_bad_path};

}  // namespace sb::http::log_events
