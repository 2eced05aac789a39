#pragma once
// Every log line of span export (STYLE.md "Logging").
#include <chrono>

#include "common/log.hpp"

namespace sb::tracing::log_events {

using log::Event;
using log::Level;
using log::LogThrottle;

inline LogThrottle export_failed_throttle{std::chrono::seconds(60)};
inline constexpr Event export_failed{Level::warn, "tracing", "export_failed", "endpoint error",
                                     "The OTLP collector (--otlp-endpoint) did not take a batch of spans; they are dropped.",
                                     &export_failed_throttle};

inline constexpr const Event* all[] = {&export_failed};

}  // namespace sb::tracing::log_events
