#pragma once
// The fan-out as one totally ordered, time-bounded log: a Redis Stream (RedisKeys::log) that every
// gateway appends its envelopes to (XADD) and reads in order (XREAD BLOCK, on a link of its own).
// Unlike pub/sub it keeps what it holds for --fleet-log-retention, so
//   - a gateway whose link to Redis broke reads on from where it stopped: nothing is lost on a blip;
//   - every gateway runs every action in the same order, its own included (it runs those when it reads
//     them back: stream order is the order), so a connection's state is described by one position in
//     the log, and a crashed gateway's connection can be rebuilt from a checkpoint plus the entries
//     after it, numbered exactly as before (docs/scaling.md "Crashes").
// Numbers per publisher and heartbeats stay (sequence_tracker.hpp): an entry trimmed before a slow
// reader got to it, or a Redis that restarted empty, still shows as a gap.
//
// Threads: the backplane thread only. Owned by shared_ptr: the reads and timers hold weak ones.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>

#include "backplane/command_queue.hpp"
#include "backplane/fanout_log.hpp"
#include "backplane/fleet_signature.hpp"
#include "backplane/redis_keys.hpp"
#include "backplane/sequence_tracker.hpp"
#include "common/log_throttle.hpp"
#include "redis_client/reply.hpp"


namespace sb::fleet_log {

struct StreamLimits {
  std::chrono::milliseconds retention{30'000};  // entries older than this are trimmed
  std::size_t max_entries = 1'000'000;          // and the log never holds many more than this
};

class StreamFanout : public backplane::FanoutLog, public std::enable_shared_from_this<StreamFanout> {
 public:
  StreamFanout(const backplane::RedisKeys& keys, std::string gateway_id,
               std::shared_ptr<const backplane::FleetSignature> signature,
               std::shared_ptr<backplane::CommandQueue> queue, StreamLimits limits, Events events);

  backplane::FanoutAppend append(const hub::SharedAction& action, std::uint64_t sequence) override;
  const std::unordered_map<std::string, std::uint64_t>& positions() const override { return tracker_.last_seen(); }
  // Reads on `link` (a link of its own: XREAD BLOCK holds it) from the last entry read.
  void receive_on(const std::shared_ptr<backplane::RedisLink>& link) override;
  // A heartbeat entry, and a trim to max_entries.
  void on_tick() override;
  // Nothing to wait for: a reader that comes back late reads what it missed.
  void await_readers(std::chrono::steady_clock::time_point, std::function<void()> done) override { done(); }
  void on_link_down() override { ++read_generation_; }
  void stop() override { ++read_generation_; }
  void forget(const std::string& publisher) override { tracker_.forget(publisher); }

  // The last entry read (zero before the first).
  hub::LogPosition last_read() const { return last_read_; }

 private:
  void read_next(std::uint64_t generation);
  void on_entries(const redis::Reply* reply);
  void on_entry(hub::LogPosition position, std::string_view message);
  std::string trim_floor() const;

  std::string key_;
  std::string gateway_id_;
  std::shared_ptr<const backplane::FleetSignature> signature_;
  std::shared_ptr<backplane::CommandQueue> queue_;
  StreamLimits limits_;
  Events events_;
  std::uint64_t last_sequence_ = 0;
  backplane::SequenceTracker tracker_;
  std::weak_ptr<backplane::RedisLink> link_;
  std::uint64_t read_generation_ = 0;  // bumped when reading stops: a late reply starts nothing
  hub::LogPosition last_read_;
  bool has_read_ = false;  // before the first read, reading starts at the log's end ("$")
  log::LogThrottle invalid_log_{std::chrono::seconds(5)};
  log::LogThrottle refused_log_{std::chrono::seconds(5)};
};

}  // namespace sb::fleet_log
