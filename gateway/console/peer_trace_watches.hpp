#pragma once
// This gateway's live trace, watched by viewers on other gateways of the fleet (a fleet-wide trace:
// fleet_trace_feed.hpp is the other end). The viewer's gateway asks, through the fleet's relay, for what
// this trace gave its viewer's filter since it last asked; the events wait here in between. A question
// that finds nothing waits up to `poll_wait` for the first event (a long poll): events travel as soon
// as they happen, and an idle viewer costs one relay every few seconds.
//
// Bounded: at most `max_watches` watches, `max_held_bytes` held per watch (past it, events are counted
// and reported as a "skipped" line), and a watch nobody asks about for `idle_expiry` is dropped (the
// viewer's gateway says when its viewer leaves; this is for a gateway that died).
//
// Threads: poll, unwatch and the timers run on `executor`; the trace delivers on any thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "console/live_trace.hpp"

namespace sb::console {

// How long a question waits for an event, and how long a watch nobody asks about is kept.
struct PeerTraceTiming {
  std::chrono::milliseconds poll_wait{2000};
  std::chrono::milliseconds idle_expiry{15000};
};

class PeerTraceWatches : public std::enable_shared_from_this<PeerTraceWatches> {
 public:
  static constexpr std::size_t max_watches = 64;
  static constexpr std::size_t max_held_bytes = 1024 * 1024;
  // A watch's byte budget at most: its events travel through Redis, whose subscribers must keep up.
  static constexpr std::size_t max_bytes_per_second = 1024 * 1024;
  using Timing = PeerTraceTiming;

  PeerTraceWatches(boost::asio::any_io_executor executor, std::string gateway_id, LiveTrace& trace = live_trace(),
                   Timing timing = {});

  // What `answer` gets: 200 and the events' JSON lines (maybe none), or 429 when there are
  // max_watches already. Called once, on the executor.
  using Answer = std::function<void(unsigned status, std::string lines)>;
  // The first question for `watch_id` starts watching with `filter`; later ones keep its filter. A new
  // question for a watch with one waiting answers the waiting one first (with nothing).
  void poll(const std::string& watch_id, TraceFilter filter, Answer answer);
  // The viewer is gone: its watch ends now rather than at idle_expiry.
  void unwatch(const std::string& watch_id);

  std::size_t size() const { return watches_.size(); }

 private:
  class Held;
  struct Entry {
    std::shared_ptr<Held> held;
    std::unique_ptr<LiveTrace::Watch> watch;
    std::chrono::steady_clock::time_point last_asked;
  };
  void arm_sweep();
  void sweep();

  boost::asio::any_io_executor executor_;
  std::string gateway_id_;
  LiveTrace& trace_;
  Timing timing_;
  std::map<std::string, Entry> watches_;
  boost::asio::steady_timer sweep_timer_;
  bool sweep_armed_ = false;
};

}  // namespace sb::console
