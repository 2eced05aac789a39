#pragma once
// What the gateway refuses before a connection exists (PROTOCOL.md part 3 §3.1 limits, §3.6 draining):
// negotiates over --negotiate-rate (one token bucket for the whole process), users over
// --max-connections-per-user (live connections counted across every thread), and anything while the
// gateway drains. Each refusal is counted in switchboard_admission_refusals_total{reason} and logged
// at most once per reason every 10 s, with the number of lines skipped. Thread-safe.
#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/log_throttle.hpp"
#include "config/config.hpp"
#include "lifecycle/token_bucket.hpp"
#include "lifecycle/user_connection_counter.hpp"
#include "lifecycle/user_rate_limiter.hpp"

namespace sb::server {

enum class RefusalReason {
  draining,              // SIGTERM received: 503, reconnect elsewhere
  negotiate_rate,        // over --negotiate-rate: 429 with Retry-After
  user_limit,            // over --max-connections-per-user: 429 (negotiate) or a Close (connection)
  connect_refused,       // the `connect` function answered 401/403
  connect_unavailable,   // the `connect` function failed, timed out or answered garbage: 503
  negotiation_required,  // skipNegotiation on a hub with a `connect` rule: 403
  user_negotiate_rate,   // one user negotiating faster than its --max-connections-per-user budget: 429
};
std::string_view to_string(RefusalReason reason);

struct RateDecision {
  bool is_allowed = true;
  std::chrono::seconds retry_after{0};  // refused: the Retry-After value (whole seconds, at least 1)
};

class Admission {
 public:
  // `token_lifetime`: --negotiate-timeout, the window a user's negotiate budget refills over.
  Admission(const config::LimitsConfig& limits, std::chrono::milliseconds token_lifetime);

  // Takes one negotiate token; always allowed when no rate is configured.
  RateDecision take_negotiate_token(std::chrono::steady_clock::time_point now);

  // The user-limit check at negotiate: would one more connection of `user_id` go over? Anonymous
  // users (empty id) and a limit of 0 never do.
  bool is_user_at_limit(std::string_view user_id) const;
  // With --max-connections-per-user, a user's negotiates draw on a budget of their own: a burst of
  // max(2 × the limit, 10), refilled over one token lifetime. Negotiate stores nothing any more, but
  // one user's token must not buy an unbounded stream of connection tokens (and log lines).
  RateDecision take_user_negotiate(std::string_view user_id, std::chrono::steady_clock::time_point now);
  // Counts an opening connection; false when it goes over (the caller closes it). Pair each true with
  // release(). Always true without a limit or for anonymous users.
  bool try_open(std::string_view user_id);
  void release(std::string_view user_id);
  std::size_t max_connections_per_user() const { return max_per_user_; }

  // Counts a refusal and logs it (rate-limited per reason). `detail`: a short, safe description.
  void record(RefusalReason reason, std::string_view hub, std::string_view user, std::string_view detail);

 private:
  std::size_t max_per_user_;
  std::unique_ptr<lifecycle::SharedTokenBucket> negotiate_bucket_;  // null: no rate limit
  std::unique_ptr<lifecycle::UserRateLimiter> user_negotiates_;      // null: no per-user limit
  lifecycle::UserConnectionCounter user_connections_;
  std::array<std::unique_ptr<log::LogThrottle>, 7> throttles_;  // one per RefusalReason
};

}  // namespace sb::server
