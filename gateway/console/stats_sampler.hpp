#pragma once
// The operator console's charts (docs/operations.md "Operator console"): once a second this gateway's
// metrics become one sample (connections, rates per second, upstream latency percentiles, closes by
// reason), kept for 15 minutes here and, with a fleet, in Redis for the other gateways' consoles. Runs
// only when the console is on.
//
// Threads: the timer runs on the executor it is given; history() and latest() may be called from any
// thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace sb::console {

// The percentile `q` (0..1) of the observations counted in `buckets` (one count per upper bound in
// `bounds`, seconds, then +Inf), in milliseconds, interpolated within its bucket; negative when empty.
double percentile_ms(const std::vector<double>& bounds, const std::vector<std::uint64_t>& buckets, double q);
// Milliseconds with 0.01 precision, or null when negative (nothing was observed).
nlohmann::json milliseconds_or_null(double ms);

class StatsSampler {
 public:
  static constexpr std::size_t kept = 900;  // 15 minutes, one a second

  struct Identity {
    std::string gateway_id;
    std::string version;
    std::int64_t started_at_ms = 0;
  };
  // `publish` gets each sample's JSON (the backplane keeps it for the fleet); `is_draining` is read
  // for each sample.
  StatsSampler(boost::asio::any_io_executor executor, Identity identity, std::function<bool()> is_draining,
               std::function<void(std::string)> publish);

  void start();
  void stop();

  // The samples kept, oldest first, as one JSON array; the last one alone (or "null").
  std::string history() const;
  std::string latest() const;
  const Identity& identity() const { return identity_; }

 private:
  struct Totals {
    std::uint64_t connects = 0, disconnects = 0, messages_in = 0, messages_out = 0, upstream = 0, upstream_errors = 0,
                  rest = 0;
    std::vector<std::pair<std::string, std::uint64_t>> closes, rejected;
    std::vector<std::uint64_t> latency;
  };
  static Totals read_totals();
  void tick();
  std::string encode(const Totals& now, const Totals& before, double seconds) const;

  boost::asio::steady_timer timer_;
  Identity identity_;
  std::function<bool()> is_draining_;
  std::function<void(std::string)> publish_;
  Totals last_;
  std::chrono::steady_clock::time_point last_at_;
  mutable std::mutex mutex_;
  std::deque<std::string> samples_;
  bool is_stopped_ = false;
};

}  // namespace sb::console
