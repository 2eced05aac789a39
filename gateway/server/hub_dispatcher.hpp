#pragma once
// Joins a thread's connections to the rest of the gateway: indexes them in the thread's registry, sends
// their events upstream in order, reads each reply (result or actions) and runs the actions through the
// backplane before the caller's Completion. One per event-loop thread.
#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <unordered_set>

#include "auth/key_ring.hpp"
#include "backplane/backplane.hpp"
#include "config/config.hpp"
#include "connection/connection.hpp"
#include "server/admission.hpp"
#include "hub/hub_registry.hpp"
#include "upstream/reliable_upstream.hpp"

namespace sb::server {

class HubDispatcher : public connection::ConnectionObserver {
 public:
  HubDispatcher(boost::asio::any_io_executor executor, const config::Config& config,
                std::shared_ptr<const auth::KeyRing> keys, hub::HubRegistry& registry,
                upstream::ReliableUpstream& upstream, backplane::Backplane& backplane, Admission& admission);

  void on_open(connection::Connection& connection) override;
  void on_closed(connection::Connection& connection) override;
  void deliver(std::shared_ptr<connection::Connection> connection, connection::UpstreamEvent event,
               std::function<void()> done) override;
  void on_arrived(connection::Connection& connection) override;
  void on_moved(connection::Connection& connection) override;
  void answer(connection::Connection& connection, Frame frame) override;

  // A connection of a dead gateway that this one reaped (Redis backplane): its `disconnected` goes
  // upstream from here, as the dead gateway would have sent it. Owner thread.
  void deliver_orphan_disconnected(const connection::ConnectionIdentity& identity);

  // Connections whose `disconnected` has not been delivered yet: shutdown waits for zero.
  std::size_t live_connections() const { return live_connections_; }

 private:
  // `settled` runs once the reply's effects are done (with the fleet log: safe in Redis, so that the
  // client's message may be acknowledged).
  void on_reply(const std::shared_ptr<connection::Connection>& connection, const connection::UpstreamEvent& event,
                upstream::CallOutcome outcome, upstream::HttpResponse response, std::function<void()> settled);
  // The reply's actions, then the caller's Completion (if any), in that order; then `settled`.
  void run_reply(const std::shared_ptr<connection::Connection>& connection, std::vector<hub::Action> actions,
                 Frame completion, std::function<void()> settled);
  // True when this connection's answers go through the fleet log (answer()).
  bool answers_through_log(const connection::Connection& connection) const {
    return backplane_.has_ordered_log() && connection.can_resume();
  }
  hub::SharedAction answer_action(const connection::Connection& connection, Frame frame) const;

  boost::asio::any_io_executor executor_;
  const config::Config& config_;
  std::shared_ptr<const auth::KeyRing> keys_;
  hub::HubRegistry& registry_;
  upstream::ReliableUpstream& upstream_;
  backplane::Backplane& backplane_;
  Admission& admission_;
  std::size_t live_connections_ = 0;
  // Connections that opened over their user's limit (a race the negotiate check can't see, or
  // skipNegotiation): closed at once and never counted, so their end must not release a slot.
  std::unordered_set<const connection::Connection*> over_user_limit_;
};

}  // namespace sb::server
