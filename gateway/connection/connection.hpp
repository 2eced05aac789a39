#pragma once
// One client connection: identity, hub protocol, handshake, keep-alive state, groups, and the ordered
// pipeline of its upstream events. Lives on one event-loop thread from start to end; every member
// function runs there (asserted in debug builds). Owned by its transport (through the handler pointer)
// and by whatever has an upstream event of it in flight; the hub registry only points at it.
//
// Ending never happens inside a call from outside: send_frame(), send_message() and close() may be
// called while the caller walks a group, a user or a whole shard, and ending unindexes the connection
// from those very sets. So a connection ends from a posted handler (finish_soon(), as Redis's
// freeClientAsync) or from its transport's end, which transports always report from a posted handler.
//
// Guarantees (PROTOCOL.md part 3 §3.3): `connected` is delivered before any message; messages are
// delivered one at a time in the order received; `disconnected` is delivered exactly once, last.
#include <chrono>
#include <cstdint>
#include <list>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/owner_thread.hpp"
#include "connection/client_invocations.hpp"
#include "connection/connection_identity.hpp"
#include "connection/connection_transfer.hpp"
#include "console/live_trace.hpp"
#include "config/config.hpp"
#include "protocol/encoded_message.hpp"
#include "protocol/hub_message.hpp"
#include "transport/transport.hpp"

namespace sb::connection {

class Connection;
class ConnectionSet;

enum class ConnectionState { handshaking, open, closing, closed };

// Why the gateway closes a connection: what the client is told and what operators see.
struct CloseRequest {
  std::string reason;            // metric/log label: "client_timeout", "protocol_error", "upstream_refused"…
  std::string error;             // the Close message's error text (the client shows it); empty: none
  bool allow_reconnect = false;  // Close.allowReconnect
};

// Implemented above (the hub dispatcher). Calls arrive on the connection's thread.
class ConnectionObserver {
 public:
  virtual ~ConnectionObserver() = default;
  virtual void on_open(Connection& connection) = 0;    // handshake done; index it
  virtual void on_closed(Connection& connection) = 0;  // ended; unindex it (before `disconnected` is delivered)
  // Delivers one event upstream; `done` must be called on the connection's thread when it is handled.
  virtual void deliver(std::shared_ptr<Connection> connection, UpstreamEvent event, std::function<void()> done) = 0;
  // A handoff (connection_transfer.hpp): it arrived from another gateway (index it; upstream knows it
  // already), or it left for one (unindex it; it did not end, so no `disconnected`).
  virtual void on_arrived(Connection& connection) { (void)connection; }
  // The gateway's own answer to one of the client's messages (a Completion, in the connection's
  // protocol). With the fleet log it travels through the log like every other message, so that its
  // place among them is kept if the connection moves after a crash.
  virtual void answer(Connection& connection, Frame frame);
  virtual void on_moved(Connection& connection) { (void)connection; }
};

struct ConnectionContext {
  const config::ConnectionConfig& config;
  ConnectionSet& connections;
  ConnectionObserver& observer;
};

class MessageBuffer;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ConnectionIdentity identity, std::shared_ptr<transport::Transport> transport, ConnectionContext context);
  ~Connection();

  void start();

  const ConnectionIdentity& identity() const { return identity_; }
  const std::string& id() const { return identity_.connection_id; }
  ConnectionState state() const { return state_; }
  bool is_open() const { return state_ == ConnectionState::open; }
  protocol::HubProtocolKind protocol() const { return protocol_; }

  // Group names this connection is in, maintained by the hub registry.
  std::unordered_set<std::string>& groups() { return groups_; }
  const std::unordered_set<std::string>& groups() const { return groups_; }

  // What the operator console shows of it: its transport's name (empty while detached), the bytes
  // queued for its client, when it started here, and the upstream events not yet answered.
  std::string_view transport_name() const { return transport_ ? transport_->name() : std::string_view(); }
  std::size_t queued_bytes() const { return transport_ ? transport_->queued_bytes() : 0; }
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }
  std::size_t unanswered_events() const { return pending_events_.size() + (has_event_in_flight_ ? 1 : 0); }
  // Who it is, for the live trace (the views live as long as the connection's identity).
  console::TraceSubject trace_subject() const {
    return {identity_.hub, identity_.connection_id, identity_.user_id, {}};
  }

  // Queues a message encoded for every protocol; picks this connection's encoding.
  void send_message(const protocol::EncodedMessage& message);
  // Queues a frame already in this connection's protocol (a Completion, a verbatim upstream reply)
  // holding `records` hub messages (stateful reconnect counts them).
  void send_frame(Frame frame, std::size_t records = 1);
  // Client results: sends the client an Invocation of `target` (arguments: a JSON array text) that asks
  // for its Completion. `done` gets the outcome on this thread, once: the client's result or error, or
  // timeout, closed (the connection ended or moved first), not_open or too_many.
  void invoke_client(std::string_view target, std::string_view arguments_json, std::chrono::milliseconds timeout,
                     ClientResultHandler done);
  // The same, asked for by a function's reply: the outcome goes to the function as a message event
  // `result_target` with arguments [correlation, result, error] (result null unless the client
  // answered; error null when it did), in this connection's order of events.
  void invoke_client_for_upstream(std::string_view target, std::string_view arguments_json, std::string result_target,
                                  std::string correlation_json);
  // Sends a Close message (when the handshake is done), flushes, and closes. Idempotent.
  void close(const CloseRequest& request);
  // Drops client messages not yet delivered upstream: a function that refused `connected` must not see
  // the calls the client made meanwhile. `disconnected` still follows.
  void drop_pending_messages();

  // A client upload's invocation was answered before its streams ended (docs/upstream.md "Upload
  // streams"): its streams close, and their parts not yet delivered are dropped.
  void end_upload(std::uint64_t upload);

  // Token refresh (docs/upstream.md "Token refresh"): the client's fresh access token, already checked to
  // be the same user's. Its claims and expiry replace the old ones; the function hears of it with
  // --refresh-event. False when the connection is not open.
  bool refresh_token(auth::Claims claims, std::int64_t expires_at);

  // Called by the heartbeat once per second.
  void on_heartbeat(std::chrono::steady_clock::time_point now);

  // Stateful reconnect (PROTOCOL.md part 1 §4): true while this connection may take a new WebSocket
  // (it uses stateful reconnect and hasn't ended). resume() attaches it, replacing any old one, sends
  // Sequence and replays every unacknowledged message; the upstream sees nothing of it.
  bool can_resume() const;
  void resume(std::shared_ptr<transport::Transport> transport);
  bool is_detached() const { return is_detached_; }

  // Handoff (PROTOCOL.md part 3 §3.8). A draining gateway drops the socket of a connection that can
  // resume, without a Close, so that the client's stateful reconnect starts and reaches another gateway.
  void detach_for_handoff();
  // True when no upstream event is queued or in flight: a move now keeps the function's order.
  // An open upload counts as unsettled too: the gateway it would move to doesn't know its streams.
  bool is_settled() const { return !has_event_in_flight_ && pending_events_.empty() && (!uploads_ || uploads_->empty()); }
  // Leaves this gateway for another: returns what that one needs, and ends here without `disconnected`
  // (the connection lives on). Call only when can_resume() and is_settled().
  ConnectionTransfer hand_over();
  // The connection `transfer` describes, arrived here detached: indexed (on_arrived), no `connected`;
  // resume() gives it the client's new socket.
  // `from_checkpoint`: rebuilt after its gateway died; the client's first Sequence is believed
  // (MessageBuffer::trust_next_sequence).
  static std::shared_ptr<Connection> arrive(ConnectionTransfer transfer, ConnectionContext context,
                                            bool from_checkpoint = false);

  // Checkpoints (the fleet log, docs/scaling.md "Crashes"). Something a checkpoint holds changed since
  // the last one: a message sent or acknowledged, a client message settled, a group joined or left.
  void note_changed() { ++changes_; }
  bool needs_checkpoint() const { return can_resume() && changes_ != checkpointed_changes_; }
  // What another gateway needs to continue it if this one dies now; the connection goes on here.
  ConnectionTransfer checkpoint();

 private:
  friend class ConnectionSet;
  class TransportLink;

  void on_transport_data(std::string_view data);
  void on_transport_closed(transport::TransportEnd end, std::string_view detail);
  void attach(std::shared_ptr<transport::Transport> transport);
  void write(Frame frame);  // to the transport if one is attached; nothing else
  // Aborts the attached transport, if any, after silencing its callbacks (they'd report its end).
  void drop_transport();

  void on_handshake_data(std::string_view data);
  void on_hub_data(std::string_view data);
  void on_message(protocol::InboundMessage&& message, std::uint64_t inbound_id);
  void fail_handshake(std::string_view error, std::string_view reason);
  // false, after closing the connection, when --max-pending-invocations events wait already.
  bool has_room_for_message();
  void open_upload(protocol::InboundMessage&& message, std::uint64_t inbound_id);
  void on_upload_record(protocol::InboundMessage&& message, std::uint64_t inbound_id);
  void enqueue_event(UpstreamEvent event);
  void deliver_next_event();
  void finish(std::string_view reason, std::string error);
  // Stops sending now and finishes on a later turn of the loop; see the file comment.
  void finish_soon(std::string_view reason, std::string error);
  transport::FrameFormat frame_format() const {
    return protocol_ == protocol::HubProtocolKind::json ? transport::FrameFormat::text : transport::FrameFormat::binary;
  }

  ConnectionIdentity identity_;
  std::shared_ptr<transport::Transport> transport_;
  ConnectionContext context_;
  ConnectionState state_ = ConnectionState::handshaking;
  protocol::HubProtocolKind protocol_ = protocol::HubProtocolKind::json;
  std::unordered_set<std::string> groups_;

  std::string pending_input_;  // an incomplete record (or handshake) carried to the next read
  std::chrono::steady_clock::time_point started_at_, last_send_, last_receive_;
  bool has_opened_ = false;               // the handshake succeeded: upstream knows this connection
  bool is_client_timeout_armed_ = false;  // ASP.NET arms it at the client's first Ping

  std::list<UpstreamEvent> pending_events_;  // a list: unlike a deque it allocates nothing while empty
  std::size_t pending_message_events_ = 0;
  bool has_event_in_flight_ = false;
  std::string close_reason_;  // set once by whoever ends the connection first
  std::string close_error_;   // the `disconnected` event's error
  bool is_finish_posted_ = false;

  std::unique_ptr<MessageBuffer> reconnect_buffer_;  // only for stateful-reconnect connections
  std::unique_ptr<ClientInvocations> client_invocations_;  // only once the gateway asked it for a result
  std::unique_ptr<UploadStreams> uploads_;                 // only once the client uploaded
  std::uint64_t transport_generation_ = 0;             // callbacks from older transports are ignored
  bool is_detached_ = false;                           // stateful: socket lost, waiting for a resume
  std::shared_ptr<Connection> kept_while_detached_;    // no transport owns it then: the window does
  std::chrono::steady_clock::time_point detached_since_;

  std::uint64_t changes_ = 1;               // note_changed(); from 1: a new connection needs its first checkpoint
  std::uint64_t checkpointed_changes_ = 0;  // changes_ at the last checkpoint
  std::uint64_t in_flight_inbound_id_ = 0;  // the client message whose upstream call is in flight, if any
  // The last client message all of whose upstream effects are done: acknowledged no further.
  std::uint64_t settled_inbound_id() const;

  std::size_t set_index_ = static_cast<std::size_t>(-1);  // position in ConnectionSet
  OwnerThread owner_thread_;
};

}  // namespace sb::connection
