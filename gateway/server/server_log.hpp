#pragma once
// Every log line of the gateway itself: start, stop, shutdown, the acceptor, client admission and the
// client endpoints.
#include <chrono>

#include "common/log.hpp"

namespace sb::server::log_events {

using log::Event;
using log::Level;
using log::LogThrottle;

inline constexpr Event started{Level::info, "gateway", "started", "port tls threads upstream_rules",
                               "The gateway listens."};
inline constexpr Event stopped{Level::info, "gateway", "stopped", "", "The gateway exits."};
inline constexpr Event shutdown_started{Level::info, "gateway", "shutdown_started", "mode timeout_ms spread_ms message",
                                        "A signal started the graceful shutdown."};
inline constexpr Event shutdown_progress{Level::info, "gateway", "shutdown_progress", "connections undelivered_disconnected",
                                         "Once a second while shutting down: connections left, `disconnected` undelivered."};
inline constexpr Event shutdown_closing_rest{Level::info, "gateway", "shutdown_closing_rest", "connections",
                                             "The shutdown's spread ended: the connections left are closed now."};
inline constexpr Event shutdown_hurried{Level::info, "gateway", "shutdown_hurried", "",
                                        "A second signal: close everything now."};
inline constexpr Event shutdown_drained{Level::info, "gateway", "shutdown_drained", "",
                                        "Every connection ended and every `disconnected` was delivered."};
inline constexpr Event shutdown_timeout{Level::warn, "gateway", "shutdown_timeout", "connections undelivered_disconnected",
                                        "The shutdown timeout passed with work left."};
inline constexpr Event tls_reloaded{Level::info, "gateway", "tls_reloaded", "cert sha256",
                                    "SIGHUP loaded a new certificate and key."};
inline constexpr Event tls_reload_failed{Level::error, "gateway", "tls_reload_failed", "error",
                                         "SIGHUP could not load the certificate; the old one stays."};
inline constexpr Event handler_exception{Level::error, "gateway", "handler_exception", "what",
                                         "A bug: an exception reached an event loop, which carries on."};
inline constexpr Event accept_failed{Level::warn, "http", "accept_failed", "error skipped",
                                     "accept() failed (e.g. out of file descriptors); retried shortly."};
inline constexpr Event tls_resume_across_threads{Level::info, "http", "tls_resume_across_threads", "",
                                                 "A TLS stateful reconnect landed on another thread; relayed."};
inline LogThrottle upgrade_refused_throttle{std::chrono::seconds(1)};
inline constexpr Event upgrade_refused{Level::info, "websocket", "upgrade_refused", "version",
                                       "A WebSocket upgrade with a version other than 13 or a bad key; answered 426/400.", &upgrade_refused_throttle};
inline LogThrottle negotiate_unauthorized_throttle{std::chrono::seconds(1)};
inline constexpr Event negotiate_unauthorized{Level::info, "client", "negotiate_unauthorized", "hub error audience expected",
                                              "A negotiate without a valid client token; answered 401. For a wrong audience, "
                                              "`audience` is what the token named and `expected` what this request needs "
                                              "(any scheme and port).",
                                              &negotiate_unauthorized_throttle};
inline LogThrottle connect_unauthorized_throttle{std::chrono::seconds(1)};
inline constexpr Event connect_unauthorized{Level::info, "client", "connect_unauthorized", "hub error audience expected",
                                            "A connect without a valid client token; answered 401. For a wrong audience, "
                                            "`audience` is what the token named and `expected` what this request needs.",
                                            &connect_unauthorized_throttle};
inline LogThrottle connection_token_invalid_throttle{std::chrono::seconds(1)};
inline constexpr Event connection_token_invalid{Level::info, "client", "connection_token_invalid", "hub error",
                                                "A connection token that is malformed or not signed by our keys; answered 404.", &connection_token_invalid_throttle};
inline LogThrottle connection_token_expired_throttle{std::chrono::seconds(1)};
inline constexpr Event connection_token_expired{Level::info, "client", "connection_token_expired", "conn hub",
                                                "A connection token used to open a connection after its expiry; answered 404.", &connection_token_expired_throttle};
inline LogThrottle connection_token_mismatch_throttle{std::chrono::seconds(1)};
inline constexpr Event connection_token_mismatch{Level::info, "client", "connection_token_mismatch", "conn hub user field",
                                                 "A connection token used with another hub's or user's access token; answered 403.", &connection_token_mismatch_throttle};
inline LogThrottle token_refresh_refused_throttle{std::chrono::seconds(1)};
inline constexpr Event token_refresh_refused{Level::info, "client", "token_refresh_refused", "conn hub user reason",
                                             "A token refresh was refused (another user's token, an unknown connection); answered 403 or 404.",
                                             &token_refresh_refused_throttle};
inline constexpr Event admission_refused{Level::info, "client", "admission_refused", "reason hub user detail skipped_since_last",
                                         "A connection was refused (draining, rate, per-user limit, connect function); "
                                         "one line per reason every 10 s at most; at warn for connect_unavailable."};
inline constexpr Event descriptor_limit{Level::info, "gateway", "descriptor_limit", "before after hard max_connections",
                                        "The descriptor limit (RLIMIT_NOFILE) at start-up: the soft limit raised to the hard "
                                        "one; and --max-connections (given, or the limit less a tenth)."};
inline LogThrottle handoff_refused_throttle{std::chrono::seconds(1)};
inline constexpr Event handoff_refused{Level::info, "handoff", "refused", "conn status reason",
                                       "A stateful reconnect for a connection another gateway holds could not take it over "
                                       "(404: nobody holds it; 409: it cannot move).", &handoff_refused_throttle};
inline LogThrottle handoff_invalid_throttle{std::chrono::seconds(1)};
inline constexpr Event handoff_invalid{Level::warn, "handoff", "invalid_state", "conn error",
                                       "A gateway handed over a connection whose state does not decode or names another "
                                       "connection; the client starts afresh.", &handoff_invalid_throttle};

inline constexpr const Event* all[] = {&started,          &stopped,          &shutdown_started,
                                       &shutdown_progress, &shutdown_closing_rest, &shutdown_hurried,
                                       &shutdown_drained, &shutdown_timeout, &tls_reloaded,
                                       &tls_reload_failed, &handler_exception, &accept_failed,
                                       &tls_resume_across_threads, &upgrade_refused, &negotiate_unauthorized,
                                       &connect_unauthorized, &connection_token_invalid,
                                       &connection_token_expired, &connection_token_mismatch, &token_refresh_refused, &admission_refused,
                                       &handoff_refused, &handoff_invalid, &descriptor_limit};

}  // namespace sb::server::log_events
