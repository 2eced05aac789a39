#pragma once
// How actions travel between the gateways of a fleet (PROTOCOL.md part 3 §3.8, docs/scaling.md "How an
// action travels"): this gateway numbers its actions and appends each, as an envelope (envelope.hpp),
// to a log every gateway reads; it receives every other gateway's actions in the order they were
// appended, and a loss on the way shows as a gap, never as silence. Two implementations: Redis pub/sub
// (PubSubFanout, --fleet-log off), which keeps nothing, and the fleet log (fleet_log/StreamFanout, a
// Redis Stream), which keeps a window of entries in one order that every gateway runs.
//
// Threads: the backplane thread only, for every call and every event.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "hub/action.hpp"
#include "hub/log_position.hpp"

namespace sb::backplane {

class RedisLink;

// One envelope on its way into the log: the command that appends it. Sent on its own, or run by a
// script as its last step, so that a state change and its action happen as one (redis_scripts.hpp).
struct FanoutAppend {
  std::vector<std::string> keys;     // keys the command writes, declared to Redis (a channel is none)
  std::vector<std::string> command;  // PUBLISH channel envelope, for pub/sub
};

class FanoutLog {
 public:
  // What the log tells its owner.
  struct Events {
    std::function<void()> on_receiving;                // reading again, on the link given last
    // An action, in the log's order, once, with its publisher, its number and its place in the log
    // (zero for pub/sub). Pub/sub reports other gateways' actions only; the stream reports this
    // gateway's own too, without the action (null: its owner kept it; stream_fanout.hpp).
    std::function<void(const std::string& publisher, std::uint64_t sequence, hub::LogPosition, hub::SharedAction)>
        on_action;
    std::function<void(const std::string& publisher, std::uint64_t missed)> on_gap;  // some were lost
    // The stream only: where this gateway starts reading, once (nothing before it runs here).
    std::function<void(hub::LogPosition)> on_reading_from;
  };

  virtual ~FanoutLog() = default;

  // How to append `action`, numbered `sequence` by this gateway (each number once, in order: the
  // backplane numbers its actions as it runs them locally). If the append is dropped, the others see
  // the gap.
  virtual FanoutAppend append(const hub::SharedAction& action, std::uint64_t sequence) = 0;

  // Every other publisher's last number this gateway has run (or skipped as before its time).
  virtual const std::unordered_map<std::string, std::uint64_t>& positions() const = 0;

  // A new link to Redis, after each connect: read the log on it; `on_receiving` once reading.
  virtual void receive_on(const std::shared_ptr<RedisLink>& link) = 0;

  // Every third of a lease while Redis is in sync.
  virtual void on_tick() = 0;

  // After Redis came back: calls `done` once the gateways this one knows of read the log again, or at
  // `deadline`, so that what this one held through the outage reaches all of them.
  virtual void await_readers(std::chrono::steady_clock::time_point deadline, std::function<void()> done) = 0;
  // The links went down: an await_readers() under way ends without calling `done`.
  virtual void on_link_down() = 0;
  // The gateway leaves: timers stop.
  virtual void stop() = 0;

  // `publisher`'s lease was reaped: nothing more will come from it.
  virtual void forget(const std::string& publisher) = 0;
};

}  // namespace sb::backplane
