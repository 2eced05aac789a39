#pragma once
// The backplane of a fleet of gateways sharing one Redis (PROTOCOL.md part 3 §3.8, docs/scaling.md).
// Every action runs on this gateway's shards at once (in-process) and is published, numbered, on one
// channel that every gateway subscribes to; memberships, connection locations and presence live in
// Redis (redis_keys.hpp), where existence checks and presence listings read them. Each gateway holds a
// lease and reaps the connections of gateways whose lease expired.
//
// Threads: all Redis I/O runs on one dedicated backplane thread with its own io_context (our own
// client on Asio, redis_client/); the shards' threads only post to it, and it posts back. Nothing
// here blocks a shard. While Redis is unreachable the gateway serves its own connections, answers
// queries from its own shards, holds actions for the fleet in a bounded queue, and reconnects with
// back-off; once back it rewrites its state into Redis and sends what it held.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backplane/backplane.hpp"
#include "backplane/in_process_backplane.hpp"
#include "config/config.hpp"

namespace sb::backplane {

class RedisBackplane : public Backplane {
 public:
  // A connection of a dead gateway, claimed by this one (exactly one gateway claims each): send its
  // `disconnected` upstream. Called on the backplane thread.
  using OrphanHandler = std::function<void(connection::ConnectionIdentity)>;

  // `reconnect_window`: how long a dead gateway's stateful connections may still resume elsewhere.
  // `access_keys`: the fleet's signing keys derive from them (fleet_signature.hpp).
  RedisBackplane(const config::RedisConfig& config, const std::vector<std::string>& access_keys,
                 std::chrono::milliseconds reconnect_window, std::vector<InProcessBackplane::Shard> shards,
                 OrphanHandler on_orphan);
  ~RedisBackplane() override;

  // Reads the TLS files (rediss://, --redis-ca, --redis-cert): the reason it can't, or nullopt. Once,
  // before start().
  std::optional<std::string> prepare();
  // Starts the backplane thread and connects. Once, after prepare().
  void start();
  // Leaves the fleet (its lease and the connections still listed go), waiting at most `timeout`, then
  // stops the thread. Call from a thread that is not an event loop, after the shards stopped.
  void stop(std::chrono::milliseconds timeout);

  void publish(hub::SharedAction action, boost::asio::any_io_executor reply_on, Done done) override;
  void connection_opened(const connection::ConnectionIdentity& identity) override;
  void connection_closed(const connection::ConnectionIdentity& identity) override;
  void connection_group_changed(const connection::ConnectionIdentity& identity, const std::string& group,
                                bool joined) override;
  bool is_degraded() const override;
  void claim_connection(const std::string& connection_id, std::chrono::milliseconds ttl,
                        boost::asio::any_io_executor reply_on, ClaimDone done) override;
  void relay(FollowUp request, boost::asio::any_io_executor reply_on, RelayDone done) override;
  void serve_relayed(RelayHandler handler) override;
  void publish_console_sample(std::string sample_json) override;
  void read_console_samples(bool latest_only, boost::asio::any_io_executor reply_on, ConsoleSamplesDone done) override;
  void relay_to_gateway(const std::string& gateway_id, FollowUp request, boost::asio::any_io_executor reply_on,
                        RelayDone done) override;
  bool has_ordered_log() const override;
  std::string gateway_id() const override;
  std::uint64_t resyncs() const override;
  void write_checkpoints(std::vector<std::pair<std::string, std::string>> states) override;
  void read_log_after(hub::LogPosition after, boost::asio::any_io_executor reply_on, LogReplayDone done) override;
  void claim_checkpoint(const std::string& connection_id, boost::asio::any_io_executor reply_on,
                        CheckpointClaimDone done) override;

 private:
  class Core;
  std::shared_ptr<Core> core_;
  std::thread thread_;
};

}  // namespace sb::backplane
