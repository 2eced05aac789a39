#include "lifecycle/spread_schedule.hpp"

#include <algorithm>
#include <cstdint>

namespace sb::lifecycle {

std::size_t SpreadSchedule::due_by(std::chrono::milliseconds elapsed) const {
  if (total_ == 0) return 0;
  if (window_.count() <= 0 || elapsed >= window_) return total_;
  if (elapsed.count() < 0) return 0;
  // Close i is due when window * i / total <= elapsed, i.e. i <= elapsed * total / window.
  // elapsed < window <= a year (3.2e10 ms) and total < 2^28 keep the product inside 64 bits.
  auto last_due = static_cast<std::uint64_t>(elapsed.count()) * std::min<std::uint64_t>(total_, 1u << 28) /
                  static_cast<std::uint64_t>(window_.count());
  return std::min(total_, last_due + 1);
}

std::chrono::milliseconds SpreadSchedule::close_time(std::size_t index) const {
  if (total_ == 0 || window_.count() <= 0) return std::chrono::milliseconds(0);
  auto i = std::min<std::uint64_t>(std::min(index, total_), 1u << 28);
  auto n = std::min<std::uint64_t>(total_, 1u << 28);
  // Rounded up: the first whole millisecond at which due_by() counts it.
  return std::chrono::milliseconds(
      static_cast<std::int64_t>((static_cast<std::uint64_t>(window_.count()) * i + n - 1) / n));
}

}  // namespace sb::lifecycle
