#include "connection/connection.hpp"

#include <boost/asio/post.hpp>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "connection/connection_log.hpp"
#include "connection/connection_set.hpp"
#include "connection/message_buffer.hpp"
#include "connection/upload_streams.hpp"
#include "console/live_trace.hpp"
#include "protocol/handshake.hpp"
#include "protocol/hub_protocol.hpp"
#include "protocol/json_hub_protocol.hpp"

namespace sb::connection {
namespace {

using protocol::MessageType;
using transport::FrameFormat;

const Frame& handshake_success() {
  static const Frame frame = make_frame(protocol::handshake_success_frame());
  return frame;
}

bool is_trackable(MessageType type) {
  return type == MessageType::invocation || type == MessageType::stream_item || type == MessageType::completion ||
         type == MessageType::stream_invocation || type == MessageType::cancel_invocation;
}

}  // namespace

// The handler a transport calls. One per transport, tagged with the generation it was attached as, so
// the late callbacks of a replaced transport (stateful reconnect) are ignored.
class Connection::TransportLink : public transport::TransportHandler {
 public:
  TransportLink(std::shared_ptr<Connection> connection, std::uint64_t generation)
      : connection_(std::move(connection)), generation_(generation) {}

  void on_transport_data(std::string_view data, transport::FrameFormat) override {
    if (connection_->transport_generation_ == generation_) connection_->on_transport_data(data);
  }
  void on_transport_closed(transport::TransportEnd end, std::string_view detail) override {
    if (connection_->transport_generation_ == generation_) connection_->on_transport_closed(end, detail);
  }

 private:
  std::shared_ptr<Connection> connection_;  // the transport keeps its connection alive
  std::uint64_t generation_;
};

Connection::Connection(ConnectionIdentity identity, std::shared_ptr<transport::Transport> transport,
                       ConnectionContext context)
    : identity_(std::move(identity)), transport_(std::move(transport)), context_(context) {}

// finish() leaves the set; a connection destroyed without finishing is one torn down with its
// io_context at exit, after the set is gone, so the destructor must not touch it.
Connection::~Connection() = default;

void Connection::start() {
  started_at_ = last_send_ = last_receive_ = context_.connections.coarse_now();
  context_.connections.add(*this);
  attach(std::move(transport_));
}

void Connection::attach(std::shared_ptr<transport::Transport> transport) {
  transport_ = std::move(transport);
  transport_->start(std::make_shared<TransportLink>(shared_from_this(), ++transport_generation_));
}

void Connection::drop_transport() {
  if (auto transport = std::move(transport_)) {
    ++transport_generation_;  // silenced before it reports its end
    transport->abort();
  }
}

void Connection::write(Frame frame) {
  if (!transport_) return;
  last_send_ = context_.connections.coarse_now();
  // A full queue makes the transport end itself; on_transport_closed records why.
  transport_->send(std::move(frame), frame_format());
}

void Connection::send_message(const protocol::EncodedMessage& message) {
  const Frame& frame = message.for_protocol(protocol_);
  if (frame) send_frame(frame);
}

void Connection::send_frame(Frame frame, std::size_t records) {
  owner_thread_.check();
  if (state_ != ConnectionState::open) return;
  metrics().messages_sent.inc();
  if (reconnect_buffer_) {
    ++changes_;
    bool is_writable = reconnect_buffer_->add(frame, records);
    if (reconnect_buffer_->buffered_bytes() > context_.config.max_send_queue_bytes) {
      log::emit(log_events::send_queue_full, {{"conn", id()}, {"hub", identity_.hub}, {"buffered_bytes", reconnect_buffer_->buffered_bytes()}});
      // The caller may be walking the group this connection is in: end later, not here.
      return finish_soon("send_queue_full", "The client did not acknowledge messages fast enough.");
    }
    // Detached, or the buffer is full: kept, and written on resume or when acks make room.
    if (!is_writable || is_detached_) return;
  }
  write(std::move(frame));
}

void Connection::close(const CloseRequest& request) {
  owner_thread_.check();
  if (state_ == ConnectionState::closing || state_ == ConnectionState::closed) return;
  bool was_open = state_ == ConnectionState::open;
  state_ = ConnectionState::closing;
  close_reason_ = request.reason;
  close_error_ = request.error;
  log::emit(log_events::closing, {{"conn", id()}, {"hub", identity_.hub}, {"reason", request.reason}});
  if (!transport_) return finish_soon(request.reason, request.error);  // detached: nobody to tell
  if (was_open) write(make_frame(protocol::encode_close(protocol_, request.error, request.allow_reconnect)));
  transport_->close();
}

void Connection::drop_pending_messages() {
  std::erase_if(pending_events_, [](const UpstreamEvent& e) { return e.kind == UpstreamEventKind::message; });
  pending_message_events_ = 0;
}

void Connection::on_heartbeat(std::chrono::steady_clock::time_point now) {
  owner_thread_.check();
  const auto& config = context_.config;
  if (state_ == ConnectionState::handshaking) {
    if (now - started_at_ >= config.handshake_timeout) fail_handshake(protocol::handshake_canceled_text, "handshake_timeout");
    return;
  }
  if (state_ != ConnectionState::open) return;
  if (client_invocations_) client_invocations_->expire(now);
  // ASP.NET's CloseOnAuthenticationExpiration: a Close with allowReconnect and no error, so the client
  // comes back with a fresh token.
  if (config.close_on_token_expiry && identity_.token_expires_at != 0 &&
      std::chrono::system_clock::now() >= std::chrono::system_clock::time_point(std::chrono::seconds(identity_.token_expires_at))) {
    close({"token_expired", "", true});
    return;
  }
  if (is_detached_) {
    if (now - detached_since_ >= config.stateful_reconnect_window)
      finish_soon("reconnect_window_expired", "The connection was not resumed within the reconnect window.");
    return;
  }
  // The server acknowledges every 1 s when something new arrived (ASP.NET MessageBuffer.AckRate).
  if (reconnect_buffer_ && reconnect_buffer_->is_ack_due()) {
    if (auto ack = reconnect_buffer_->take_ack(settled_inbound_id())) write(make_frame(protocol::encode_ack(protocol_, ack)));
  }
  if (transport_->has_inherent_keepalive()) return;  // long polling: no Pings, no client timeout
  if (is_client_timeout_armed_ && now - last_receive_ >= config.client_timeout) {
    close({"client_timeout", "Client hasn't sent a message/ping within the configured ClientTimeoutInterval.", true});
    return;
  }
  // Keep-alive follows send time, not receive time (PROTOCOL.md part 1 §5; philippseith/signalr #253).
  if (now - last_send_ >= config.keepalive_interval) write(protocol::ping_frame(protocol_));
}

void Connection::on_transport_data(std::string_view data) {
  owner_thread_.check();
  last_receive_ = context_.connections.coarse_now();
  if (state_ == ConnectionState::handshaking) return on_handshake_data(data);
  if (state_ == ConnectionState::open) return on_hub_data(data);
  // closing: whatever the client still sends is dropped
}

void Connection::fail_handshake(std::string_view error, std::string_view reason) {
  metrics().rejected_input.with(reason).inc();
  log::emit(log_events::handshake_failed, {{"conn", id()}, {"reason", reason}, {"error", error}});
  if (state_ != ConnectionState::handshaking) return;
  state_ = ConnectionState::closing;
  close_reason_ = std::string(reason);
  transport_->send(make_frame(protocol::handshake_error_frame(error)), FrameFormat::text);
  transport_->close();
}

void Connection::on_handshake_data(std::string_view data) {
  std::string_view input = data;
  if (!pending_input_.empty()) {
    pending_input_.append(data);
    input = pending_input_;
  }
  protocol::HandshakeRequest request;
  auto parsed = protocol::parse_handshake(input, request);
  if (!parsed) return fail_handshake(parsed.error().message, "invalid_handshake");
  if (parsed->status == protocol::HandshakeStatus::incomplete) {
    if (input.size() > context_.config.max_message_bytes) return fail_handshake(protocol::handshake_canceled_text, "handshake_too_large");
    if (pending_input_.empty()) pending_input_.assign(data);
    return;
  }
  if (request.protocol == protocol::HubProtocolKind::messagepack && !transport_->supports_binary())
    return fail_handshake(
        "Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' "
        "transfer format.",
        "unsupported_transfer_format");

  protocol_ = request.protocol;
  std::string rest(input.substr(parsed->consumed_bytes));
  pending_input_.clear();
  state_ = ConnectionState::open;
  has_opened_ = true;
  // The handshake response goes alone, before the buffer exists: the client counts nothing in it, and
  // creates its own buffer only once the handshake resolves (PROTOCOL.md part 1 §4, gateway advice).
  write(handshake_success());
  // Stateful reconnect needs all of: negotiated, WebSockets, and handshake version 2 (version 1 turns it off).
  if (identity_.allows_stateful_reconnect && transport_->supports_reconnect() && request.version >= 2)
    reconnect_buffer_ = std::make_unique<MessageBuffer>(context_.config.stateful_reconnect_buffer_bytes);
  metrics().connects.inc();
  metrics().connections_open.add(1);
  log::emit(log_events::open, {{"conn", id()}, {"hub", identity_.hub}, {"user", identity_.user_id},
                                    {"stateful", reconnect_buffer_ ? 1 : 0}});
  if (console::live_trace().is_watched())
    console::live_trace().publish(console::TraceKind::connect, trace_subject(),
                                  {{"transport", transport_->name()},
                                   {"protocol", protocol_ == protocol::HubProtocolKind::json ? "json" : "messagepack"},
                                   {"stateful", reconnect_buffer_ ? "true" : "false"}});
  context_.observer.on_open(*this);
  enqueue_event({UpstreamEventKind::connected, {}, {}});
  if (!rest.empty()) on_hub_data(rest);
}

void Connection::on_hub_data(std::string_view data) {
  std::string_view input = data;
  if (!pending_input_.empty()) {
    pending_input_.append(data);
    input = pending_input_;
  }
  std::vector<protocol::InboundMessage> messages;
  auto consumed = protocol::parse_hub_messages(protocol_, input, messages, context_.config.max_message_bytes);
  if (!consumed) {
    metrics().rejected_input.with(consumed.error().code).inc();
    log::emit(log_events::protocol_error,
              {{"conn", id()}, {"error", consumed.error().message}, {"sample", log::sample(input)}});
    pending_input_.clear();
    // ASP.NET closes protocol and size errors with allowReconnect:true (PROTOCOL.md part 1 §6).
    close({"protocol_error", "Connection closed with an error. " + consumed.error().message, true});
    return;
  }
  std::string rest(input.substr(*consumed));
  pending_input_ = std::move(rest);
  for (auto& m : messages) {
    if (state_ != ConnectionState::open) break;
    // After a resume the client re-sends what we may already have: drop what was processed.
    if (reconnect_buffer_ && is_trackable(m.type) && !reconnect_buffer_->on_inbound()) continue;
    const auto inbound_id = reconnect_buffer_ && is_trackable(m.type) ? reconnect_buffer_->latest_processed() : 0;
    on_message(std::move(m), inbound_id);
  }
}

void Connection::on_message(protocol::InboundMessage&& message, std::uint64_t inbound_id) {
  switch (message.type) {
    case MessageType::invocation:
    case MessageType::stream_invocation:
      // A StreamInvocation is a server-to-client stream (docs/upstream.md "Streams"): the function hears
      // of it as a message event and streams its items through the REST API or its reply.
      metrics().messages_received.inc();
      if (!message.stream_ids.empty()) return open_upload(std::move(message), inbound_id);
      if (!has_room_for_message()) return;
      ++pending_message_events_;
      enqueue_event({UpstreamEventKind::message, std::move(message), {}, inbound_id});
      return;
    case MessageType::stream_item:
      metrics().messages_received.inc();
      // An item of a stream that is not open (never opened, or its invocation already answered) is
      // dropped, as ASP.NET drops them.
      if (uploads_ && uploads_->is_open(*message.invocation_id)) on_upload_record(std::move(message), inbound_id);
      return;
    case MessageType::ping:
      is_client_timeout_armed_ = true;
      return;
    case MessageType::close:
      // The client is leaving: no Close message back, just the transport's close.
      close_reason_ = "client_close";
      close_error_ = message.error.value_or("");
      state_ = ConnectionState::closing;
      transport_->close();
      return;
    case MessageType::ack:
      if (reconnect_buffer_) {
        ++changes_;
        for (auto& frame : reconnect_buffer_->on_ack(message.sequence_id)) write(std::move(frame));
      }
      return;
    case MessageType::sequence:
      if (reconnect_buffer_) {
        auto accepted = reconnect_buffer_->on_sequence(message.sequence_id);
        if (!accepted) close({"protocol_error", "Connection closed with an error. " + accepted.error().message, false});
      }
      return;
    case MessageType::completion:
      // The end of an upload stream first (ASP.NET asks its stream tracker first too), else a client
      // result. A Completion nobody waits for (late, after a timeout) is dropped, as ASP.NET does.
      if (uploads_ && uploads_->is_open(*message.invocation_id)) return on_upload_record(std::move(message), inbound_id);
      if (client_invocations_) {
        auto content = protocol::read_completion(protocol_, message.raw);
        ClientResult result;
        if (!content) result = {ClientResultKind::error, "Invalid completion: " + content.error().message};
        else if (content->error) result = {ClientResultKind::error, std::move(*content->error)};
        else result = {ClientResultKind::result, content->result_json.value_or("null")};
        client_invocations_->complete(*message.invocation_id, std::move(result));
      }
      return;
    default:
      // Cancels (of server-to-client streams): not forwarded.
      return;
  }
}

bool Connection::refresh_token(auth::Claims claims, std::int64_t expires_at) {
  owner_thread_.check();
  if (state_ != ConnectionState::open) return false;
  identity_.claims = std::move(claims);
  identity_.token_expires_at = expires_at;
  ++changes_;  // a checkpoint carries the identity
  log::emit(log_events::token_refreshed, {{"conn", id()}, {"hub", identity_.hub}, {"expires_at", expires_at}});
  if (context_.config.send_refresh_event && has_opened_) enqueue_event({UpstreamEventKind::refreshed, {}, {}});
  return true;
}

bool Connection::has_room_for_message() {
  if (pending_message_events_ < context_.config.max_pending_invocations) return true;
  close({"too_many_pending_invocations", "Too many invocations are waiting for the upstream.", true});
  return false;
}

void Connection::open_upload(protocol::InboundMessage&& message, std::uint64_t inbound_id) {
  if (!uploads_) uploads_ = std::make_unique<UploadStreams>();
  auto opened = uploads_->open(message.invocation_id, message.type == MessageType::stream_invocation, message.target,
                               message.stream_ids, context_.config.max_upload_streams);
  if (!opened) {
    if (message.invocation_id)
      context_.observer.answer(*this, make_frame(protocol::encode_completion_error(protocol_, *message.invocation_id,
                                                                                   opened.error().message)));
    return;
  }
  if (!has_room_for_message()) return;
  ++pending_message_events_;
  UpstreamEvent event{UpstreamEventKind::message, std::move(message), {}, inbound_id};
  event.upload = std::move(*opened);
  enqueue_event(std::move(event));
}

void Connection::on_upload_record(protocol::InboundMessage&& message, std::uint64_t inbound_id) {
  const std::string& stream_id = *message.invocation_id;
  const bool is_end = message.type == MessageType::completion;
  // A burst of items waits as one event: appended to the queued event of the same stream, the function
  // gets them in one request. Its inbound id stays its first record's (the batch settles together).
  if (!pending_events_.empty()) {
    auto& last = pending_events_.back();
    if (last.upload && last.upload->stream_id == stream_id && !last.upload->completes_stream &&
        last.message.raw.size() + message.raw.size() <= context_.config.max_message_bytes) {
      auto step = is_end ? uploads_->complete(stream_id) : uploads_->item(stream_id);
      last.upload->items += step.items;
      last.upload->completes_stream = step.completes_stream;
      last.upload->is_last = step.is_last;
      protocol::append_framed_record(protocol_, last.message.raw, message.raw);
      return;
    }
  }
  if (!has_room_for_message()) return;
  ++pending_message_events_;
  UpstreamEvent event{UpstreamEventKind::message, {}, {}, inbound_id};
  event.upload = is_end ? uploads_->complete(stream_id) : uploads_->item(stream_id);
  event.message.type = message.type;
  event.message.target = event.upload->target;
  protocol::append_framed_record(protocol_, event.message.raw, message.raw);
  enqueue_event(std::move(event));
}

void Connection::end_upload(std::uint64_t upload) {
  owner_thread_.check();
  if (!uploads_) return;
  uploads_->end(upload);
  // Its parts still queued go nowhere: the invocation is answered.
  std::erase_if(pending_events_, [&](const UpstreamEvent& e) {
    if (!e.upload || e.upload->upload != upload) return false;
    --pending_message_events_;
    return true;
  });
}

void Connection::invoke_client(std::string_view target, std::string_view arguments_json,
                               std::chrono::milliseconds timeout, ClientResultHandler done) {
  owner_thread_.check();
  if (state_ != ConnectionState::open) return done({ClientResultKind::not_open, "The connection is not open."});
  if (!client_invocations_) client_invocations_ = std::make_unique<ClientInvocations>();
  if (client_invocations_->size() >= context_.config.max_client_invocations)
    return done({ClientResultKind::too_many, "Too many client results are awaited on this connection."});
  auto id = client_invocations_->add(std::chrono::steady_clock::now() + timeout, std::move(done));
  send_frame(make_frame(protocol::encode_client_invocation(protocol_, id, target, arguments_json)));
}

void Connection::invoke_client_for_upstream(std::string_view target, std::string_view arguments_json,
                                            std::string result_target, std::string correlation_json) {
  owner_thread_.check();
  invoke_client(target, arguments_json, context_.config.client_invoke_timeout,
                [self = shared_from_this(), result_target = std::move(result_target),
                 correlation = std::move(correlation_json)](ClientResult result) {
                  if (self->state_ != ConnectionState::open || !self->has_opened_) return;  // nobody left to tell
                  std::string result_json = "null", error_json = "null";
                  switch (result.kind) {
                    case ClientResultKind::result: result_json = result.text; break;
                    case ClientResultKind::error: error_json = protocol::json_quote(result.text); break;
                    case ClientResultKind::timeout: error_json = protocol::json_quote("The client did not answer in time."); break;
                    case ClientResultKind::closed: error_json = protocol::json_quote("The connection ended first."); break;
                    case ClientResultKind::not_open:
                    case ClientResultKind::too_many: error_json = protocol::json_quote(result.text); break;
                  }
                  // The event, as if the client had sent() it: in its protocol, without an invocation id.
                  protocol::InboundMessage message;
                  message.type = MessageType::invocation;
                  message.target = result_target;
                  message.raw = protocol::encode_unframed_invocation(self->protocol_, result_target,
                                                                     "[" + correlation + "," + result_json + "," + error_json + "]");
                  ++self->pending_message_events_;
                  self->enqueue_event({UpstreamEventKind::message, std::move(message), {}, 0});
                });
}

void ConnectionObserver::answer(Connection& connection, Frame frame) { connection.send_frame(std::move(frame)); }

bool Connection::can_resume() const { return reconnect_buffer_ && state_ == ConnectionState::open; }

void Connection::resume(std::shared_ptr<transport::Transport> transport) {
  owner_thread_.check();
  if (!can_resume()) return transport->abort();
  // A half-open old socket (the client saw the drop first) is replaced, not answered 409 (ASP.NET).
  drop_transport();
  is_detached_ = false;
  auto keep = std::move(kept_while_detached_);  // the new transport owns it from here
  last_receive_ = last_send_ = context_.connections.coarse_now();
  attach(std::move(transport));
  metrics().stateful_resumes.inc();
  log::emit(log_events::resumed, {{"conn", id()}, {"hub", identity_.hub}});
  // Sequence first, even with nothing to replay; then every unacknowledged message, in order.
  write(make_frame(protocol::encode_sequence(protocol_, reconnect_buffer_->resume_sequence_id())));
  for (auto& frame : reconnect_buffer_->unacknowledged_frames()) write(std::move(frame));
}

void Connection::detach_for_handoff() {
  owner_thread_.check();
  if (!can_resume() || is_detached_ || !transport_) return;
  kept_while_detached_ = shared_from_this();  // first: the transport owns this, and it is going
  drop_transport();  // no Close message: the client's stateful reconnect starts
  is_detached_ = true;
  detached_since_ = context_.connections.coarse_now();
  metrics().stateful_detached.inc();
  log::emit(log_events::detached, {{"conn", id()}, {"hub", identity_.hub}, {"cause", "handoff"}});
}

ConnectionTransfer Connection::hand_over() {
  owner_thread_.check();
  auto self = shared_from_this();  // its transport may be its only owner, and it is going
  ConnectionTransfer transfer;
  transfer.identity = identity_;
  transfer.identity.initial_groups.assign(groups_.begin(), groups_.end());
  transfer.protocol = protocol_;
  transfer.buffer = reconnect_buffer_->export_state();
  state_ = ConnectionState::closed;
  context_.connections.remove(*this);
  is_detached_ = false;
  auto keep = std::move(kept_while_detached_);  // alive until the end of this function
  drop_transport();
  if (client_invocations_) client_invocations_->fail_all(ClientResultKind::closed);  // its Completion would come elsewhere
  metrics().connections_open.add(-1);
  log::emit(log_events::handed_over, {{"conn", id()}, {"hub", identity_.hub}});
  if (console::live_trace().is_watched())
    console::live_trace().publish(console::TraceKind::handoff, trace_subject(), {{"direction", "out"}});
  context_.observer.on_moved(*this);
  return transfer;
}

ConnectionTransfer Connection::checkpoint() {
  owner_thread_.check();
  checkpointed_changes_ = changes_;
  ConnectionTransfer transfer;
  transfer.identity = identity_;
  transfer.identity.initial_groups.assign(groups_.begin(), groups_.end());
  transfer.protocol = protocol_;
  transfer.buffer = reconnect_buffer_->export_checkpoint(settled_inbound_id());
  return transfer;
}

std::uint64_t Connection::settled_inbound_id() const {
  if (!reconnect_buffer_) return 0;
  // Events run one at a time, oldest first: everything before the oldest unsettled one is settled.
  if (has_event_in_flight_ && in_flight_inbound_id_ != 0) return in_flight_inbound_id_ - 1;
  for (const auto& event : pending_events_)
    if (event.inbound_id != 0) return event.inbound_id - 1;
  return reconnect_buffer_->latest_processed();
}

std::shared_ptr<Connection> Connection::arrive(ConnectionTransfer transfer, ConnectionContext context,
                                               bool from_checkpoint) {
  auto c = std::make_shared<Connection>(std::move(transfer.identity), nullptr, context);
  c->started_at_ = c->last_send_ = c->last_receive_ = context.connections.coarse_now();
  c->protocol_ = transfer.protocol;
  c->state_ = ConnectionState::open;
  c->has_opened_ = true;  // upstream heard of it where it started
  c->reconnect_buffer_ = std::make_unique<MessageBuffer>(context.config.stateful_reconnect_buffer_bytes, std::move(transfer.buffer));
  if (from_checkpoint) c->reconnect_buffer_->trust_next_sequence();
  c->is_detached_ = true;
  c->kept_while_detached_ = c;
  c->detached_since_ = c->started_at_;
  context.connections.add(*c);
  metrics().connections_open.add(1);
  log::emit(log_events::arrived, {{"conn", c->id()}, {"hub", c->identity_.hub}});
  if (console::live_trace().is_watched())
    console::live_trace().publish(console::TraceKind::handoff, c->trace_subject(),
                                  {{"direction", "in"}, {"from_checkpoint", from_checkpoint ? "true" : "false"}});
  context.observer.on_arrived(*c);  // joins identity().initial_groups
  return c;
}

void Connection::on_transport_closed(transport::TransportEnd end, std::string_view detail) {
  bool is_clean = end == transport::TransportEnd::closed_by_client || end == transport::TransportEnd::closed_by_server;
  // Stateful reconnect: a socket lost without a close handshake keeps the connection for the window.
  if (reconnect_buffer_ && state_ == ConnectionState::open && !is_clean && end != transport::TransportEnd::send_queue_full) {
    transport_.reset();
    is_detached_ = true;
    kept_while_detached_ = shared_from_this();
    detached_since_ = context_.connections.coarse_now();
    metrics().stateful_detached.inc();
    log::emit(log_events::detached, {{"conn", id()}, {"hub", identity_.hub}, {"cause", transport::to_string(end)}});
    return;
  }
  std::string reason = close_reason_.empty() ? std::string(transport::to_string(end)) : close_reason_;
  std::string error = close_error_;
  if (error.empty() && !is_clean && close_reason_.empty())
    error = "The connection ended: " + std::string(transport::to_string(end));
  if (end == transport::TransportEnd::send_queue_full)
    log::emit(log_events::send_queue_full, {{"conn", id()}, {"hub", identity_.hub}, {"detail", detail}});
  finish(reason, std::move(error));
}

void Connection::finish_soon(std::string_view reason, std::string error) {
  if (state_ == ConnectionState::closed || is_finish_posted_) return;
  is_finish_posted_ = true;
  state_ = ConnectionState::closing;  // no more sends, messages or resumes meanwhile
  close_reason_ = std::string(reason);
  close_error_ = std::move(error);
  // A detached connection is held only by kept_while_detached_: the handler holds it too, until it ran.
  boost::asio::post(context_.connections.executor(),
                    [self = shared_from_this()] { self->finish(self->close_reason_, self->close_error_); });
}

void Connection::finish(std::string_view reason, std::string error) {
  owner_thread_.check();
  if (state_ == ConnectionState::closed) return;
  state_ = ConnectionState::closed;
  context_.connections.remove(*this);
  is_detached_ = false;
  auto keep = std::move(kept_while_detached_);  // alive until the end of this function
  drop_transport();  // a no-op abort when it has already ended; breaks the transport <-> connection cycle
  if (client_invocations_) client_invocations_->fail_all(ClientResultKind::closed);
  metrics().disconnects.with(reason).inc();
  log::emit(log_events::closed, {{"conn", id()}, {"hub", identity_.hub}, {"reason", reason}});
  if (!has_opened_) return;  // never handshaken: upstream never heard of it
  if (console::live_trace().is_watched())
    console::live_trace().publish(console::TraceKind::disconnect, trace_subject(), {{"reason", reason}, {"error", error}});
  metrics().connections_open.add(-1);
  metrics().disconnect_outcomes.with(error.empty() ? "clean" : "error").inc();
  metrics().connection_duration.observe(std::chrono::steady_clock::now() - started_at_);
  context_.observer.on_closed(*this);
  enqueue_event({UpstreamEventKind::disconnected, {}, std::move(error)});
}

void Connection::enqueue_event(UpstreamEvent event) {
  pending_events_.push_back(std::move(event));
  if (!has_event_in_flight_) deliver_next_event();
}

void Connection::deliver_next_event() {
  if (pending_events_.empty()) return;
  UpstreamEvent event = std::move(pending_events_.front());
  pending_events_.pop_front();
  if (event.kind == UpstreamEventKind::message) --pending_message_events_;
  has_event_in_flight_ = true;
  in_flight_inbound_id_ = event.inbound_id;
  context_.observer.deliver(shared_from_this(), std::move(event), [self = shared_from_this()] {
    self->has_event_in_flight_ = false;
    if (self->in_flight_inbound_id_ != 0) ++self->changes_;  // one more client message settled
    self->in_flight_inbound_id_ = 0;
    self->deliver_next_event();
  });
}

}  // namespace sb::connection
