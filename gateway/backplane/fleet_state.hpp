#pragma once
// This gateway's part of the fleet's shared state in Redis (docs/scaling.md "Keys and channels"): its
// connections, where they are, their groups and users, written when they open and close and written back
// whole after Redis comes back; the membership changes it runs; and the existence and presence questions
// it asks of the whole fleet.
//
// Threads: the backplane thread, except what it posts to the shards (snapshots, memberships found in
// Redis), which posts back. Owned by shared_ptr: a pending reply holds one.
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backplane/backplane.hpp"
#include "backplane/command_queue.hpp"
#include "backplane/fanout_log.hpp"
#include "backplane/fleet_signature.hpp"
#include "backplane/in_process_backplane.hpp"
#include "backplane/redis_keys.hpp"
#include "redis_client/reply.hpp"


namespace sb::backplane {

class FleetState : public std::enable_shared_from_this<FleetState> {
 public:
  // `backplane` is the executor of the backplane thread, where snapshots come back.
  FleetState(const RedisKeys& keys, std::string gateway_id, std::shared_ptr<const FleetSignature> signature,
             std::vector<InProcessBackplane::Shard> shards, boost::asio::any_io_executor backplane,
             std::shared_ptr<CommandQueue> queue);

  // Registers a connection of this gateway with its initial groups. The user's memberships that Redis
  // knows (set through any gateway, maybe before this one started) apply to it here too.
  void connection_opened(const connection::ConnectionIdentity& identity);
  void connection_closed(const std::string& connection_id);
  // A filtered :execute changed one of this gateway's connections' groups (HubRegistry::GroupListener).
  void connection_group_changed(const std::string& connection_id, const std::string& hub_key, const std::string& group,
                                bool joined);

  // The command that publishes `action` to the fleet: `append` alone, or, for an action that changes
  // memberships, a script that changes them in Redis and appends it in the same step.
  std::vector<std::string> publish_command(const hub::SharedAction& action, FanoutAppend append) const;

  // Answers an existence or presence query (a QueryAction) from Redis; from this gateway's own shards
  // when Redis cannot answer (it went away meanwhile).
  void query(const hub::SharedAction& action, boost::asio::any_io_executor reply_on, Backplane::Done done);

  // After a reconnect: every shard's registry, collected on the backplane thread, then `done`.
  using Snapshots = std::vector<hub::HubRegistry::Snapshot>;
  void take_snapshots(std::function<void(Snapshots)> done);
  // Redis may have lost our state (restarted) or kept some that is stale (connections that closed while
  // we were away): removes what is no longer ours, writes back what is, ahead of anything queued (these
  // describe the past, the queue the present). Returns how many connections this gateway has.
  std::size_t write_back(const Snapshots& snapshots);

 private:
  RedisCommand register_command(const connection::ConnectionIdentity& identity, const std::vector<std::string>& groups);
  void apply_user_memberships(const std::string& hub_key, const std::string& user_id, const redis::Reply* reply);

  RedisKeys keys_;
  std::shared_ptr<const FleetSignature> signature_;
  std::string gateway_id_;
  std::vector<InProcessBackplane::Shard> shards_;
  InProcessBackplane local_;  // this gateway's shards, for what Redis tells us about them
  boost::asio::any_io_executor backplane_;
  std::shared_ptr<CommandQueue> queue_;
};

}  // namespace sb::backplane
