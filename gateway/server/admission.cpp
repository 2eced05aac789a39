#include "server/admission.hpp"

#include <cmath>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "server/server_log.hpp"

namespace sb::server {
namespace {

constexpr auto refusal_log_interval = std::chrono::seconds(10);

}  // namespace

std::string_view to_string(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::draining: return "draining";
    case RefusalReason::negotiate_rate: return "negotiate_rate";
    case RefusalReason::user_limit: return "user_limit";
    case RefusalReason::connect_refused: return "connect_refused";
    case RefusalReason::connect_unavailable: return "connect_unavailable";
    case RefusalReason::negotiation_required: return "negotiation_required";
    case RefusalReason::user_negotiate_rate: return "user_negotiate_rate";
  }
  return "unknown";
}

Admission::Admission(const config::LimitsConfig& limits, std::chrono::milliseconds token_lifetime)
    : max_per_user_(limits.max_connections_per_user) {
  if (max_per_user_ > 0) {
    double burst = static_cast<double>(std::max<std::size_t>(2 * max_per_user_, 10));
    double seconds = std::max(0.001, std::chrono::duration<double>(token_lifetime).count());
    user_negotiates_ = std::make_unique<lifecycle::UserRateLimiter>(burst / seconds, burst, 1'000'000);
  }
  if (limits.negotiate_rate > 0)
    negotiate_bucket_ = std::make_unique<lifecycle::SharedTokenBucket>(static_cast<double>(limits.negotiate_rate),
                                                                       static_cast<double>(limits.negotiate_burst),
                                                                       std::chrono::steady_clock::now());
  for (auto& t : throttles_) t = std::make_unique<log::LogThrottle>(refusal_log_interval);
}

RateDecision Admission::take_negotiate_token(std::chrono::steady_clock::time_point now) {
  if (!negotiate_bucket_) return {};
  auto decision = negotiate_bucket_->take(now);
  if (decision.is_allowed) return {};
  // Retry-After is whole seconds: round up, so a client that obeys it finds a token.
  auto seconds = (decision.retry_after.count() + 999) / 1000;
  return {false, std::chrono::seconds(std::max<std::int64_t>(1, seconds))};
}

RateDecision Admission::take_user_negotiate(std::string_view user_id, std::chrono::steady_clock::time_point now) {
  if (!user_negotiates_ || user_id.empty()) return {};
  auto decision = user_negotiates_->take(user_id, now);
  if (decision.is_allowed) return {};
  auto seconds = (decision.retry_after.count() + 999) / 1000;
  return {false, std::chrono::seconds(std::max<std::int64_t>(1, seconds))};
}

bool Admission::is_user_at_limit(std::string_view user_id) const {
  if (max_per_user_ == 0 || user_id.empty()) return false;
  return user_connections_.count(user_id) >= max_per_user_;
}

bool Admission::try_open(std::string_view user_id) {
  if (max_per_user_ == 0 || user_id.empty()) return true;
  return user_connections_.try_acquire(user_id, max_per_user_);
}

void Admission::release(std::string_view user_id) {
  if (max_per_user_ == 0 || user_id.empty()) return;
  user_connections_.release(user_id);
}

void Admission::record(RefusalReason reason, std::string_view hub, std::string_view user, std::string_view detail) {
  metrics().admission_refusals.with(to_string(reason)).inc();
  auto& throttle = *throttles_[static_cast<std::size_t>(reason)];
  auto skipped = throttle.admit(std::chrono::steady_clock::now());
  if (!skipped) return;
  // Refusals are the client's or the operator's business, not a fault of ours; a dead connect function is.
  auto level = reason == RefusalReason::connect_unavailable ? log::Level::warn : log::Level::info;
  if (!log::enabled(level)) return;
  log::emit(log_events::admission_refused, level,
             {{"reason", to_string(reason)},
              {"hub", hub},
              {"user", user},
              {"detail", detail},
              {"skipped_since_last", *skipped}});
}

}  // namespace sb::server
