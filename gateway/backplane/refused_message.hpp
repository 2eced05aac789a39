#pragma once
// A message read from Redis that the backplane refused for its signature (fleet_signature.hpp): it is
// dropped, counted by reason and logged at most once per throttle period. Never its bytes: a forgery
// is not worth a log line's room, and a real message may hold what clients sent.
#include <chrono>
#include <string_view>

#include "backplane/backplane_log.hpp"
#include "common/log.hpp"
#include "common/log_throttle.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"

namespace sb::backplane {

inline void report_refused(log::LogThrottle& throttle, std::string_view source, const Error& error, std::size_t bytes) {
  metrics().backplane_refused.with(error.code).inc();
  if (throttle.admit(std::chrono::steady_clock::now()))
    log::emit(log_events::refused_message, {{"source", source}, {"reason", error.code}, {"bytes", bytes}});
}

}  // namespace sb::backplane
