#pragma once
// No balancer affinity (PROTOCOL.md part 3 §3.8, docs/scaling.md "Load balancers"): a client's
// follow-up request (an SSE or long-polling send, a poll, a DELETE) may reach a gateway that does not
// hold its connection. That gateway publishes the request to the holder's inbox channel in one script
// that finds the holder (relay_to_owner), and answers its client when the reply reaches its own inbox.
// The same part claims a connection id for the gateway that opens it, so a token opens one connection
// in the whole fleet and the relay knows where it went before its handshake registers it.
//
// Why relay rather than move the connection: an SSE stream is a response held open on the holder's
// socket, so its sends must reach the holder anyway; and a long-polling connection behind a
// round-robin balancer would move on nearly every poll.
//
// Threads: the backplane thread only; answers are posted to the caller's executor. Owned by
// shared_ptr: timers and replies hold weak ones.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "backplane/backplane.hpp"
#include "backplane/fleet_signature.hpp"
#include "backplane/redis_keys.hpp"
#include "common/log_throttle.hpp"
#include "redis_client/reply.hpp"


namespace sb::backplane {

class CommandQueue;
class RedisLink;

class RequestRelay : public std::enable_shared_from_this<RequestRelay> {
 public:
  RequestRelay(boost::asio::io_context& io, const RedisKeys& keys, std::string gateway_id,
               std::shared_ptr<const FleetSignature> signature, std::shared_ptr<CommandQueue> queue);

  // Where requests relayed to this gateway run. Set before the first link comes up.
  void set_handler(Backplane::RelayHandler handler) { handler_ = std::move(handler); }
  // A connection this gateway handed over whose answer did not reach the asker: `state` is the answer
  // (handoff_state.hpp); the connection must end here.
  void on_handoff_lost(std::function<void(const std::string& state)> handler) { on_handoff_lost_ = std::move(handler); }
  // Subscribes this gateway's inbox on `link` (the subscriber link, after each connect).
  void receive_on(const std::shared_ptr<RedisLink>& link);

  // `is_up`: Redis is reachable and in sync. While it is not, claims are granted (the gateway serves
  // its own connections, as it does everything else while degraded) and relays find nobody.
  void claim(const std::string& connection_id, std::chrono::milliseconds ttl, bool is_up,
             boost::asio::any_io_executor reply_on, Backplane::ClaimDone done);
  void relay(FollowUp request, bool is_up, boost::asio::any_io_executor reply_on, Backplane::RelayDone done);
  // The same, to the gateway named `gateway` rather than a connection's holder (the operator console).
  void relay_to_gateway(const std::string& gateway, FollowUp request, bool is_up, boost::asio::any_io_executor reply_on,
                        Backplane::RelayDone done);

  // The link went down: the relays waiting for an answer get 503 (their answer would come on it).
  void on_link_down();
  void stop() { on_link_down(); }

  // Relays waiting for their answer, at most this many: past it, 503 at once.
  static constexpr std::size_t max_waiting = 100'000;

 private:
  struct Waiting {
    boost::asio::any_io_executor reply_on;
    Backplane::RelayDone done;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };

  void send(std::optional<std::string> gateway, FollowUp request, bool is_up, boost::asio::any_io_executor reply_on,
            Backplane::RelayDone done);
  void on_inbox(const redis::Reply* reply);
  void serve(RelayRequest request);
  // Answers `request_id` with 503 unless an answer comes within `timeout`.
  void arm_timeout(std::uint64_t request_id, std::chrono::milliseconds timeout);
  void finish(std::uint64_t request_id, std::optional<FollowUpAnswer> answer);

  boost::asio::io_context& io_;
  const RedisKeys& keys_;
  std::string gateway_id_;
  std::shared_ptr<CommandQueue> queue_;
  Backplane::RelayHandler handler_;
  std::function<void(const std::string&)> on_handoff_lost_;
  std::uint64_t last_request_id_ = 0;
  std::unordered_map<std::uint64_t, Waiting> waiting_;
  log::LogThrottle timeout_log_{std::chrono::seconds(1)};  // a crash times out a burst of takes at once
  log::LogThrottle invalid_log_{std::chrono::seconds(5)};
  log::LogThrottle refused_log_{std::chrono::seconds(5)};
  std::shared_ptr<const FleetSignature> signature_;
};

}  // namespace sb::backplane
