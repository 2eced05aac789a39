#pragma once
// Every log line of a connection's life (STYLE.md "Logging"): open, close, resume, protocol errors.
#include <chrono>

#include "common/log.hpp"

namespace sb::connection::log_events {

using log::Event;
using log::Level;
using log::LogThrottle;

inline constexpr Event open{Level::debug, "connection", "open", "conn hub user stateful",
                            "A client finished its handshake."};
inline LogThrottle handshake_failed_throttle{std::chrono::seconds(1)};
inline constexpr Event handshake_failed{Level::info, "connection", "handshake_failed", "conn reason error",
                                        "A client's handshake was malformed, too late or named an unknown protocol.", &handshake_failed_throttle};
inline LogThrottle protocol_error_throttle{std::chrono::seconds(1)};
inline constexpr Event protocol_error{Level::info, "connection", "protocol_error", "conn error sample",
                                      "A client sent a malformed or oversized hub message; it is closed.", &protocol_error_throttle};
inline constexpr Event closing{Level::info, "connection", "closing", "conn hub reason",
                               "The gateway is closing a connection (a close action, REST, shutdown, limits)."};
inline constexpr Event send_queue_full{Level::warn, "connection", "send_queue_full", "conn hub buffered_bytes detail",
                                       "A client read too slowly; its send queue or replay buffer overflowed."};
inline constexpr Event detached{Level::info, "connection", "detached", "conn hub cause",
                                "A stateful-reconnect client lost its transport; the connection waits for it."};
inline constexpr Event resumed{Level::info, "connection", "resumed", "conn hub",
                               "A stateful-reconnect client came back and got its unacknowledged messages."};
inline constexpr Event handed_over{Level::info, "connection", "handed_over", "conn hub",
                                   "A stateful-reconnect connection moved to another gateway of the fleet."};
inline constexpr Event arrived{Level::info, "connection", "arrived", "conn hub",
                               "A stateful-reconnect connection moved here from another gateway of the fleet."};
inline constexpr Event closed{Level::debug, "connection", "closed", "conn hub reason", "A connection ended."};
inline constexpr Event token_refreshed{Level::debug, "connection", "token_refreshed", "conn hub expires_at",
                                       "A client refreshed its connection's access token (POST /client/refresh)."};

inline constexpr const Event* all[] = {&open, &handshake_failed, &protocol_error, &closing,
                                       &send_queue_full, &detached, &resumed, &handed_over, &arrived, &closed,
                                       &token_refreshed};

}  // namespace sb::connection::log_events
