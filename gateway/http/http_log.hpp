#pragma once
// Every log line of the HTTP layer: malformed requests, TLS handshakes, and the REST API's refusals.
#include "common/log.hpp"

namespace sb::http::log_events {

using log::Event;
using log::Level;

inline constexpr Event bad_request{Level::debug, "http", "bad_request", "error",
                                   "A malformed HTTP request; answered 400 and closed."};
inline constexpr Event url_too_long{Level::info, "http", "url_too_long", "bytes sample",
                                    "A request's URL was over --max-url-bytes; answered 414."};
inline constexpr Event too_many_query_parameters{Level::info, "http", "too_many_query_parameters", "sample",
                                                 "A request's query had too many parameters; answered 400."};
inline constexpr Event tls_handshake_failed{Level::info, "http", "tls_handshake_failed", "error skipped",
                                            "A client's TLS handshake failed (once a second at most)."};
inline constexpr Event rest_unauthorized{Level::info, "rest", "unauthorized", "path error",
                                         "A REST call without a valid token; answered 401."};
inline constexpr Event rest_bad_path{Level::info, "rest", "bad_path", "error path",
                                     "A REST path with an invalid hub, group, user or connection name; answered 400."};

inline constexpr const Event* all[] = {&bad_request,          &url_too_long,      &too_many_query_parameters,
                                       &tls_handshake_failed, &rest_unauthorized, &rest_bad_path};

}  // namespace sb::http::log_events
