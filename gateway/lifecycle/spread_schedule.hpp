#pragma once
// When graceful shutdown (mode `reconnect`) closes each connection: `total` closes spread evenly over
// `window`, the i-th (0-based) at window * i / total, so the first goes at once and the last a step
// before the window ends. Clients told allowReconnect:true come back at the same pace instead of as one
// herd. Pure.
#include <chrono>
#include <cstddef>

namespace sb::lifecycle {

class SpreadSchedule {
 public:
  SpreadSchedule() = default;
  SpreadSchedule(std::size_t total, std::chrono::milliseconds window) : total_(total), window_(window) {}

  // How many closes are due `elapsed` after the start (never more than total).
  std::size_t due_by(std::chrono::milliseconds elapsed) const;
  // When the i-th close is due, from the start.
  std::chrono::milliseconds close_time(std::size_t index) const;
  std::size_t total() const { return total_; }

 private:
  std::size_t total_ = 0;
  std::chrono::milliseconds window_{0};
};

}  // namespace sb::lifecycle
