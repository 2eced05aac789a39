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
inline LogThrottle connection_refused_throttle{std::chrono::seconds(1)};
inline constexpr Event connection_refused{
    Level::info, "http", "connection_refused", "reason address",
    "A socket refused as it was accepted, answered 503 and closed: reason=max_connections (the gateway is at "
    "--max-connections and no anonymous idle socket of its thread could make room), reason=address_limit (its address "
    "already has --max-unauthenticated-per-address sockets that have not authenticated).",
    &connection_refused_throttle};
inline LogThrottle idle_socket_evicted_throttle{std::chrono::seconds(1)};
inline constexpr Event idle_socket_evicted{
    Level::info, "http", "idle_socket_evicted", "",
    "At --max-connections, the oldest socket that had not authenticated and was waiting for a request header was "
    "closed to admit a new one.",
    &idle_socket_evicted_throttle};
inline LogThrottle unauthenticated_bytes_full_throttle{std::chrono::seconds(1)};
inline constexpr Event unauthenticated_bytes_full{
    Level::info, "http", "unauthenticated_bytes_full", "held",
    "Request headers of sockets that have not authenticated hold --max-unauthenticated-bytes (held=); the socket whose "
    "header would have grown past it was answered 503 and closed.",
    &unauthenticated_bytes_full_throttle};
inline LogThrottle slow_body_throttle{std::chrono::seconds(1)};
inline constexpr Event slow_body{Level::info, "http", "slow_body", "bytes",
                                 "A request body arrived slower than --min-body-rate once its 5 s of grace were over; "
                                 "the socket was closed.",
                                 &slow_body_throttle};
inline LogThrottle rest_unauthorized_throttle{std::chrono::seconds(1)};
inline constexpr Event rest_unauthorized{Level::info, "rest", "unauthorized", "path error audience expected",
                                         "A REST call without a valid token; answered 401. For a wrong audience, `audience` "
                                         "is what the token named and `expected` what this path needs (any scheme and port).",
                                         &rest_unauthorized_throttle};
inline LogThrottle rest_bad_path_throttle{std::chrono::seconds(1)};
inline constexpr Event rest_bad_path{Level::info, "rest", "bad_path", "error path",
                                     "A REST path with an invalid hub, group, user or connection name; answered 400.", &rest_bad_path_throttle};

inline constexpr const Event* all[] = {&bad_request, &bad_framing,          &url_too_long,      &too_many_query_parameters,
                                       &tls_handshake_failed, &connection_refused, &idle_socket_evicted, &unauthenticated_bytes_full,
                                       &slow_body, &rest_unauthorized, &rest_bad_path};

}  // namespace sb::http::log_events
