#pragma once
// The fan-out over Redis pub/sub (FanoutLog): one channel (RedisKeys::actions_channel) that every
// gateway publishes its envelopes on and subscribes to. Pub/sub keeps nothing: a subscriber that is
// away, or that Redis cuts off for its output buffer, misses messages silently. So each gateway numbers
// its actions, announces its last number in a heartbeat every tick, and tracks every other publisher's
// numbers (sequence_tracker.hpp): a skipped number is a gap. Gateways ignore their own envelopes (they
// ran them when they published them) and a repeated number (a publish sent again after a lost reply).
//
// Threads: the backplane thread only. Owned by shared_ptr: the subscription and timers hold weak ones.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "backplane/fanout_log.hpp"
#include "backplane/fleet_signature.hpp"
#include "backplane/redis_keys.hpp"
#include "backplane/sequence_tracker.hpp"
#include "common/log_throttle.hpp"
#include "redis_client/reply.hpp"


namespace sb::backplane {

class CommandQueue;

class PubSubFanout : public FanoutLog, public std::enable_shared_from_this<PubSubFanout> {
 public:
  // Heartbeats and the listener count go through `queue`.
  PubSubFanout(boost::asio::io_context& io, const RedisKeys& keys, std::string gateway_id,
               std::shared_ptr<const FleetSignature> signature,
               std::shared_ptr<CommandQueue> queue, Events events);

  FanoutAppend append(const hub::SharedAction& action, std::uint64_t sequence) override;
  const std::unordered_map<std::string, std::uint64_t>& positions() const override { return tracker_.last_seen(); }
  void receive_on(const std::shared_ptr<RedisLink>& link) override;
  // Publishes a heartbeat: how far this gateway's numbers got, so a loss shows while it is quiet.
  void on_tick() override;
  // Waits, asking PUBSUB NUMSUB every 50 ms, until every publisher this gateway has seen, and this
  // gateway, subscribe again: after Redis restarts the gateways resubscribe one by one, and one a
  // moment late would miss what is published meanwhile (and see a gap).
  void await_readers(std::chrono::steady_clock::time_point deadline, std::function<void()> done) override;
  void on_link_down() override;
  void stop() override;
  void forget(const std::string& publisher) override { tracker_.forget(publisher); }

 private:
  void count_readers(std::uint64_t await_id, std::chrono::steady_clock::time_point deadline);
  void on_channel_reply(const redis::Reply* reply);

  std::string channel_;
  std::string gateway_id_;
  std::shared_ptr<const FleetSignature> signature_;
  std::shared_ptr<CommandQueue> queue_;
  Events events_;
  std::uint64_t last_sequence_ = 0;  // the number of this gateway's last action
  SequenceTracker tracker_;
  boost::asio::steady_timer await_timer_;
  std::uint64_t await_id_ = 0;  // the await_readers() under way; bumped when it is abandoned
  std::function<void()> on_readers_;
  log::LogThrottle invalid_log_{std::chrono::seconds(5)};
  log::LogThrottle refused_log_{std::chrono::seconds(5)};
};

}  // namespace sb::backplane
