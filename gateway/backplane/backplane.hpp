#pragma once
// Where actions go to reach their targets: every shard of this gateway (in-process), and every gateway
// of the fleet (Redis). One interface, so scale-out is routing, not a second code path.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backplane/relay_message.hpp"
#include "connection/connection_identity.hpp"
#include "hub/action.hpp"
#include "hub/arrival_log.hpp"

namespace sb::backplane {

// Who opens a connection id, fleet-wide: a token may reach any gateway, and only one may open it.
enum class ClaimResult { granted, taken };

// A client's follow-up request (SSE or long-polling send, poll, stop) for a connection that may live on
// another gateway, and the answer its owner gives.
struct FollowUp {
  RelayKind kind = RelayKind::send;
  std::string connection_id;
  std::string body;
  // take: the fan-out positions this gateway had reached when the request was handed to the connection's
  // thread (publisher -> last sequence run), this gateway's own included: the state it answers with
  // reflects exactly those actions.
  std::vector<std::pair<std::string, std::uint64_t>> positions;
  // take, with the fleet log: the state says where it is in the log instead (positions then holds
  // only this gateway's id).
  bool has_log = false;
  // invoke: how long the asker waits for the client (the relay adds its margin).
  std::chrono::milliseconds answer_within{0};
};
struct FollowUpAnswer {
  std::uint16_t status = 0;
  std::string content_type;
  std::string body;
};

class Backplane {
 public:
  using Done = std::function<void(hub::ActionOutcome)>;
  virtual ~Backplane() = default;

  // Runs `action` everywhere. Actions published from one thread run in publication order on every
  // shard (and, with Redis, on every gateway). `done` (optional) gets the merged outcome on `reply_on`
  // once every shard has run it (with Redis: once Redis has taken it, or queued while Redis is down).
  virtual void publish(hub::SharedAction action, boost::asio::any_io_executor reply_on, Done done) = 0;

  // A connection of this gateway opened (handshake done, indexed in its shard's registry) or closed.
  // Called on the connection's thread; the fleet's state records it. Nothing to do in-process.
  virtual void connection_opened(const connection::ConnectionIdentity&) {}
  virtual void connection_closed(const connection::ConnectionIdentity&) {}
  // A filtered :execute made one of this gateway's connections join or leave a group (the fleet's
  // state cannot work that out from the action). Called on the connection's thread.
  virtual void connection_group_changed(const connection::ConnectionIdentity&, const std::string& group, bool joined) {
    (void)group, (void)joined;
  }

  // False while this gateway cannot reach the rest of the fleet (Redis down): it still serves its own
  // connections, and /health/ready says "degraded". Any thread.
  virtual bool is_degraded() const { return false; }

  // Claims `connection_id` for this gateway before it opens the connection (the claim outlives `ttl`
  // only as the connection's registration). `done` runs on `reply_on`. One gateway: always granted.
  using ClaimDone = std::function<void(ClaimResult)>;
  virtual void claim_connection(const std::string& connection_id, std::chrono::milliseconds ttl,
                                boost::asio::any_io_executor reply_on, ClaimDone done) {
    (void)connection_id;
    (void)ttl;
    boost::asio::post(reply_on, [done = std::move(done)] { done(ClaimResult::granted); });
  }

  // Runs `request` on the gateway that holds its connection and brings back the answer, on `reply_on`;
  // nullopt when no gateway holds it. One gateway: nobody else holds anything.
  using RelayDone = std::function<void(std::optional<FollowUpAnswer>)>;
  virtual void relay(FollowUp request, boost::asio::any_io_executor reply_on, RelayDone done) {
    (void)request;
    boost::asio::post(reply_on, [done = std::move(done)] { done(std::nullopt); });
  }

  // --- The fleet log (--fleet-log on; docs/scaling.md "Crashes"). Nothing of it in-process. ---------

  // True when every action runs in the order of one log kept in Redis: connections are checkpointed,
  // and one whose gateway died resumes from its checkpoint plus the log after it.
  virtual bool has_ordered_log() const { return false; }
  // How many times Redis came back and was written this gateway's state again: checkpoints are then
  // written whole once more (Redis may have lost them). Any thread.
  virtual std::uint64_t resyncs() const { return 0; }
  // This gateway's id in the fleet (the publisher of its actions); empty in-process.
  virtual std::string gateway_id() const { return {}; }

  // Stores the checkpoints (connection id -> encoded state, backplane/handoff_state.hpp) of this
  // gateway's stateful connections. Any thread; later ones replace earlier ones.
  virtual void write_checkpoints(std::vector<std::pair<std::string, std::string>> states) { (void)states; }

  // The log's entries after `after`, in order, decoded, for a connection rebuilt from a state taken at
  // `after`. too_old: some were trimmed (or Redis lost them); too_long: more than a resume may replay.
  struct LogReplay {
    enum class Status { ok, too_old, too_long, unavailable } status = Status::unavailable;
    std::vector<hub::ArrivalLog::Entry> entries;
  };
  using LogReplayDone = std::function<void(LogReplay)>;
  virtual void read_log_after(hub::LogPosition after, boost::asio::any_io_executor reply_on, LogReplayDone done) {
    (void)after;
    boost::asio::post(reply_on, [done = std::move(done)] { done({}); });
  }

  // Takes over the checkpoint of `connection_id` when the gateway that held it is gone (it no longer
  // listens to the fleet): Redis names this gateway its holder, and nobody else can take it.
  struct CheckpointClaim {
    enum class Result { none, holder_alive, claimed } result = Result::none;
    std::string state;  // claimed: the encoded state
  };
  using CheckpointClaimDone = std::function<void(CheckpointClaim)>;
  virtual void claim_checkpoint(const std::string& connection_id, boost::asio::any_io_executor reply_on,
                                CheckpointClaimDone done) {
    (void)connection_id;
    boost::asio::post(reply_on, [done = std::move(done)] { done({}); });
  }

  // --- The operator console (console/). Nothing of it in-process: there the console shows itself. ----

  // Keeps this gateway's latest figures (one JSON sample a second, console/stats_sampler.hpp) where the
  // rest of the fleet reads them, with the 15 minutes before. Any thread.
  virtual void publish_console_sample(std::string sample_json) { (void)sample_json; }
  // Every live gateway's samples, oldest first (`latest_only`: the last one of each): gateway id ->
  // samples. nullopt when there is no fleet, or Redis can't be reached.
  using ConsoleSamples = std::vector<std::pair<std::string, std::vector<std::string>>>;
  using ConsoleSamplesDone = std::function<void(std::optional<ConsoleSamples>)>;
  virtual void read_console_samples(bool latest_only, boost::asio::any_io_executor reply_on, ConsoleSamplesDone done) {
    (void)latest_only;
    boost::asio::post(reply_on, [done = std::move(done)] { done(std::nullopt); });
  }
  // Runs a console request (RelayKind::console) on the gateway `gateway_id` and brings back its answer;
  // nullopt when that gateway does not listen.
  virtual void relay_to_gateway(const std::string& gateway_id, FollowUp request, boost::asio::any_io_executor reply_on,
                                RelayDone done) {
    (void)gateway_id, (void)request;
    boost::asio::post(reply_on, [done = std::move(done)] { done(std::nullopt); });
  }

  // Where requests relayed to this gateway run (server/ sets it once, before start): `answer` may be
  // called on any thread, once.
  using RelayHandler = std::function<void(FollowUp request, std::function<void(FollowUpAnswer)> answer)>;
  virtual void serve_relayed(RelayHandler handler) { (void)handler; }
};

}  // namespace sb::backplane
