#pragma once
// Every log line of the operator console (STYLE.md "Logging"). Operators' actions are logged as an
// audit trail; keys and session cookies never are.
#include <chrono>

#include "common/log.hpp"

namespace sb::console::log_events {

using log::Event;
using log::Level;
using log::LogThrottle;

inline constexpr Event signed_in{Level::info, "console", "signed_in", "access",
                                 "Someone signed in to the operator console: with the admin key (access=full) or the read key "
                                 "(access=read)."};
inline LogThrottle login_failed_throttle{std::chrono::seconds(5)};
inline constexpr Event login_failed{Level::warn, "console", "login_failed", "reason",
                                    "A console sign-in or request carried a wrong key, or came too fast.",
                                    &login_failed_throttle};
inline constexpr Event action{Level::info, "console", "action", "action hub id gateway",
                              "An operator acted from the console: closed a connection or a group, sent a test message, "
                              "or drained a gateway."};
inline LogThrottle viewer_dropped_throttle{std::chrono::seconds(5)};
inline constexpr Event viewer_dropped{Level::warn, "console", "viewer_dropped", "queued_bytes",
                                      "A live-trace viewer read too slowly; its stream was closed rather than buffered.",
                                      &viewer_dropped_throttle};

inline constexpr const Event* all[] = {&signed_in, &login_failed, &action, &viewer_dropped};

}  // namespace sb::console::log_events
