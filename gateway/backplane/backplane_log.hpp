#pragma once
// Every log line of the Redis backplane: the link, the fleet's state, the lease and the fan-out.
#include "common/log.hpp"

namespace sb::backplane::log_events {

using log::Event;
using log::Level;

inline constexpr Event redis_starting{Level::info, "backplane", "redis_starting", "host port tls auth sentinels gateway",
                                      "The gateway joins the fleet through this Redis."};
inline constexpr Event redis_down{Level::warn, "backplane", "redis_down", "reason retry_ms",
                                  "Redis is unreachable; sends are held and retried (once every 30 s at most)."};
inline constexpr Event redis_in_sync{Level::info, "backplane", "redis_in_sync", "gateway connections",
                                     "Redis is back and holds this gateway's connections again."};
inline constexpr Event redis_error{Level::warn, "backplane", "redis_error", "command error",
                                   "Redis answered a command with an error."};
inline constexpr Event queue_full{Level::warn, "backplane", "queue_full", "queued_bytes limit",
                                  "Commands waiting for Redis passed their byte limit; new ones are dropped."};
inline constexpr Event invalid_envelope{Level::warn, "backplane", "invalid_envelope", "error sample",
                                        "A fan-out message from Redis could not be decoded; it is skipped."};
inline constexpr Event refused_message{Level::warn, "backplane", "refused_message", "source reason bytes",
                                       "A message from Redis had no valid fleet signature (unsigned, or signed with another "
                                       "key); it is dropped. Another writer to Redis, or gateways with different access keys."};
inline constexpr Event sequence_gap{Level::warn, "backplane", "sequence_gap", "publisher missed",
                                    "Fan-out messages from a gateway were lost; local connections are closed to resync."};
inline constexpr Event lease_lost{Level::warn, "backplane", "lease_lost", "gateway",
                                  "This gateway's lease expired in Redis; its connections are closed."};
inline constexpr Event gateway_reaped{Level::info, "backplane", "gateway_reaped", "gateway connections",
                                      "A dead gateway's connections were removed and their `disconnected` sent."};
inline constexpr Event parked_reaped{Level::info, "backplane", "parked_reaped", "connections",
                                     "Stateful connections of a dead gateway were not resumed within their window; "
                                     "their `disconnected` is sent."};
inline constexpr Event checkpoint_claimed{Level::info, "backplane", "checkpoint_claimed", "conn",
                                          "A connection whose gateway died resumes here from its checkpoint."};
inline constexpr Event leave_timeout{Level::warn, "backplane", "leave_timeout", "",
                                     "Leaving the fleet at shutdown did not finish in time."};
inline constexpr Event relay_timeout{Level::warn, "backplane", "relay_timeout", "request",
                                     "A follow-up relayed to the gateway holding its connection got no answer; 503 (at most one line a second)."};
inline constexpr Event invalid_relay_message{Level::warn, "backplane", "invalid_relay_message", "error sample",
                                             "A message in this gateway's inbox could not be decoded; it is skipped."};
inline constexpr Event handler_exception{Level::error, "backplane", "handler_exception", "what",
                                         "A bug: an exception reached the backplane's loop, which carries on."};

inline constexpr const Event* all[] = {&redis_starting, &redis_down,       &redis_in_sync, &redis_error,
                                       &queue_full,     &invalid_envelope, &refused_message, &sequence_gap,  &lease_lost,
                                       &gateway_reaped, &parked_reaped,    &checkpoint_claimed, &leave_timeout,
                                       &relay_timeout,
                                       &invalid_relay_message, &handler_exception};

}  // namespace sb::backplane::log_events
