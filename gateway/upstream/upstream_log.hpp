#pragma once
// Every log line about calls to the functions: failures, invalid replies, retries, the circuit breaker.
// The server layer emits the per-event ones (it owns the dispatch), under the module word "upstream".
#include <chrono>

#include "common/log.hpp"

namespace sb::upstream::log_events {

using log::Event;
using log::Level;
using log::LogThrottle;

inline LogThrottle request_failed_throttle{std::chrono::seconds(1)};
inline constexpr Event request_failed{Level::warn, "upstream", "request_failed", "conn hub event trace outcome detail",
                                      "No reply: timeout, connect or network error, reply too large, overloaded.", &request_failed_throttle};
inline LogThrottle request_rejected_throttle{std::chrono::seconds(1)};
inline constexpr Event request_rejected{Level::warn, "upstream", "request_rejected", "conn hub event trace status",
                                        "The function answered with a status other than 2xx.", &request_rejected_throttle};
inline LogThrottle invalid_reply_throttle{std::chrono::seconds(1)};
inline constexpr Event invalid_reply{Level::warn, "upstream", "invalid_reply", "conn hub event trace error sample",
                                     "The function's reply body is not valid JSON actions or a valid result.", &invalid_reply_throttle};
inline constexpr Event retrying{Level::info, "upstream", "retrying", "event_id attempt delay_ms outcome status",
                                "An at-least-once event (connected, disconnected) is sent again after a failure."};
inline constexpr Event circuit_opened{Level::warn, "upstream", "circuit_opened", "function",
                                      "A function failed repeatedly; calls to it fail fast for a while."};
inline constexpr Event circuit_closed{Level::info, "upstream", "circuit_closed", "function",
                                      "A function answered again; calls to it flow normally."};
inline LogThrottle tls_failed_throttle{std::chrono::seconds(1)};
inline constexpr Event tls_failed{Level::warn, "upstream", "tls_failed", "function error",
                                  "A TLS handshake with an https function failed (its certificate refused, or ours): the function got no request.",
                                  &tls_failed_throttle};
inline constexpr Event orphan_disconnected{Level::info, "upstream", "orphan_disconnected", "conn hub",
                                           "`disconnected` sent for a connection of a gateway that died."};

inline constexpr const Event* all[] = {&request_failed, &request_rejected, &invalid_reply, &retrying,
                                       &circuit_opened, &circuit_closed, &tls_failed, &orphan_disconnected};

}  // namespace sb::upstream::log_events
