#include "console/peer_trace_watches.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <mutex>

#include "common/metrics.hpp"

namespace sb::console {

namespace asio = boost::asio;

// One watch's events between two questions, and the question waiting for them.
class PeerTraceWatches::Held : public TraceSink, public std::enable_shared_from_this<Held> {
 public:
  Held(asio::any_io_executor executor, const std::string& gateway_id, std::chrono::milliseconds poll_wait)
      : executor_(executor), gateway_id_(gateway_id), poll_wait_(poll_wait), timer_(executor) {}

  // Any thread (the trace's publisher): keeps the lines, and wakes a waiting question once.
  void deliver(Frame lines) override {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (lines_.size() + lines->size() > max_held_bytes) {
        ++overflow_;
        metrics().console_trace_skipped.inc();
      } else {
        lines_ += *lines;
      }
      if (waiting_ && !wake_posted_) wake = wake_posted_ = true;
    }
    if (wake) asio::post(executor_, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->answer_waiting();
    });
  }

  // The executor: answers at once when something is held, else waits up to poll_wait_.
  void ask(Answer answer) {
    answer_waiting();  // a question still waiting is answered (empty) before the new one
    bool has_lines = false;
    {
      std::lock_guard lock(mutex_);
      has_lines = !lines_.empty() || overflow_ > 0;
      if (!has_lines) {
        waiting_ = std::move(answer);
        wake_posted_ = false;
      }
    }
    if (has_lines) return answer(200, take());
    timer_.expires_after(poll_wait_);
    timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->answer_waiting();
    });
  }

  // The executor: the waiting question, if any, gets what is held.
  void answer_waiting() {
    Answer answer;
    {
      std::lock_guard lock(mutex_);
      answer = std::move(waiting_);
      waiting_ = nullptr;
      wake_posted_ = false;
    }
    if (!answer) return;
    timer_.cancel();
    answer(200, take());
  }

  bool is_waiting() {
    std::lock_guard lock(mutex_);
    return static_cast<bool>(waiting_);
  }

 private:
  std::string take() {
    std::lock_guard lock(mutex_);
    std::string out = std::move(lines_);
    lines_.clear();
    if (overflow_ > 0) {
      out += skipped_notice(gateway_id_, overflow_);
      overflow_ = 0;
    }
    return out;
  }

  asio::any_io_executor executor_;
  const std::string gateway_id_;
  const std::chrono::milliseconds poll_wait_;
  asio::steady_timer timer_;       // the executor's only
  std::mutex mutex_;
  std::string lines_;
  std::uint64_t overflow_ = 0;
  Answer waiting_;
  bool wake_posted_ = false;
};

PeerTraceWatches::PeerTraceWatches(asio::any_io_executor executor, std::string gateway_id, LiveTrace& trace,
                                   Timing timing)
    : executor_(executor), gateway_id_(std::move(gateway_id)), trace_(trace), timing_(timing), sweep_timer_(executor) {}

void PeerTraceWatches::poll(const std::string& watch_id, TraceFilter filter, Answer answer) {
  auto it = watches_.find(watch_id);
  if (it == watches_.end()) {
    if (watches_.size() >= max_watches) return answer(429, {});
    auto held = std::make_shared<Held>(executor_, gateway_id_, timing_.poll_wait);
    filter.bytes_per_second = std::min(filter.bytes_per_second, max_bytes_per_second);
    auto watch = trace_.watch(std::move(filter), held);
    it = watches_.emplace(watch_id, Entry{std::move(held), std::move(watch), {}}).first;
    arm_sweep();
  }
  it->second.last_asked = std::chrono::steady_clock::now();
  it->second.held->ask(std::move(answer));
}

void PeerTraceWatches::unwatch(const std::string& watch_id) {
  auto it = watches_.find(watch_id);
  if (it == watches_.end()) return;
  auto entry = std::move(it->second);
  watches_.erase(it);
  entry.watch.reset();              // no more events (takes the trace's lock, so none of ours is held)
  entry.held->answer_waiting();     // the asker's question ends now, not at its relay's timeout
}

void PeerTraceWatches::arm_sweep() {
  if (sweep_armed_) return;
  sweep_armed_ = true;
  sweep_timer_.expires_after(timing_.idle_expiry / 3);
  sweep_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self || ec) return;
    self->sweep_armed_ = false;
    self->sweep();
  });
}

void PeerTraceWatches::sweep() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = watches_.begin(); it != watches_.end();) {
    // A watch with a question waiting is in use, however long ago it was asked.
    const bool idle = now - it->second.last_asked >= timing_.idle_expiry && !it->second.held->is_waiting();
    auto next = std::next(it);
    if (idle) unwatch(it->first);
    it = next;
  }
  if (!watches_.empty()) arm_sweep();
}

}  // namespace sb::console
