#include "connection/connection.hpp"

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "connection/connection_set.hpp"
#include "protocol/handshake.hpp"
#include "protocol/hub_protocol.hpp"

namespace sb::connection {
namespace {

using protocol::MessageType;
using transport::FrameFormat;

const Frame& handshake_success() {
  static const Frame frame = make_frame(protocol::handshake_success_frame());
  return frame;
}

}  // namespace

Connection::Connection(ConnectionIdentity identity, std::shared_ptr<transport::Transport> transport,
                       ConnectionContext context)
    : identity_(std::move(identity)), transport_(std::move(transport)), context_(context) {}

// finish() leaves the set; a connection destroyed without finishing is one torn down with its
// io_context at exit, after the set is gone, so the destructor must not touch it.
Connection::~Connection() = default;

void Connection::start() {
  started_at_ = last_send_ = last_receive_ = context_.connections.coarse_now();
  context_.connections.add(*this);
  transport_->start(shared_from_this());
}

void Connection::send_message(const protocol::EncodedMessage& message) {
  const Frame& frame = message.for_protocol(protocol_);
  if (frame) send_frame(frame);
}

void Connection::send_frame(Frame frame) {
  if (state_ != ConnectionState::open || !transport_) return;
  last_send_ = context_.connections.coarse_now();
  metrics().messages_sent.inc();
  // A full queue makes the transport end itself; on_transport_closed records why.
  transport_->send(std::move(frame), frame_format());
}

void Connection::close(const CloseRequest& request) {
  if (state_ == ConnectionState::closing || state_ == ConnectionState::closed) return;
  bool was_open = state_ == ConnectionState::open;
  if (was_open) {
    transport_->send(make_frame(protocol::encode_close(protocol_, request.error, request.allow_reconnect)), frame_format());
  }
  state_ = ConnectionState::closing;
  close_reason_ = request.reason;
  close_error_ = request.error;
  log::info("connection", "closing", {{"conn", id()}, {"hub", identity_.hub}, {"reason", request.reason}});
  if (transport_) transport_->close();
}

void Connection::drop_pending_messages() {
  std::erase_if(pending_events_, [](const UpstreamEvent& e) { return e.kind == UpstreamEventKind::message; });
  pending_message_events_ = 0;
}

void Connection::on_heartbeat(std::chrono::steady_clock::time_point now) {
  const auto& config = context_.config;
  if (state_ == ConnectionState::handshaking) {
    if (now - started_at_ >= config.handshake_timeout) fail_handshake(protocol::handshake_canceled_text, "handshake_timeout");
    return;
  }
  if (state_ != ConnectionState::open) return;
  if (transport_->has_inherent_keepalive()) return;  // long polling: no Pings, no client timeout
  if (is_client_timeout_armed_ && now - last_receive_ >= config.client_timeout) {
    close({"client_timeout", "Client hasn't sent a message/ping within the configured ClientTimeoutInterval.", true});
    return;
  }
  // Keep-alive follows send time, not receive time (PROTOCOL.md part 1 §5; philippseith/signalr #253).
  if (now - last_send_ >= config.keepalive_interval) send_frame(protocol::ping_frame(protocol_));
}

void Connection::on_transport_data(std::string_view data, transport::FrameFormat) {
  last_receive_ = context_.connections.coarse_now();
  if (state_ == ConnectionState::handshaking) return on_handshake_data(data);
  if (state_ == ConnectionState::open) return on_hub_data(data);
  // closing: whatever the client still sends is dropped
}

void Connection::fail_handshake(std::string_view error, std::string_view reason) {
  metrics().rejected_input.with(reason).inc();
  log::info("connection", "handshake_failed", {{"conn", id()}, {"reason", reason}, {"error", error}});
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
  send_frame(handshake_success());
  metrics().connects.inc();
  metrics().connections_open.add(1);
  log::debug("connection", "open", {{"conn", id()}, {"hub", identity_.hub}, {"user", identity_.user_id}});
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
    log::info("connection", "protocol_error",
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
    on_message(std::move(m));
  }
}

void Connection::on_message(protocol::InboundMessage&& message) {
  switch (message.type) {
    case MessageType::invocation:
      metrics().messages_received.inc();
      if (message.has_stream_ids) {
        if (message.invocation_id)
          send_frame(make_frame(protocol::encode_completion_error(
              protocol_, *message.invocation_id, "Client streaming is not supported in serverless mode.")));
        return;
      }
      if (pending_message_events_ >= context_.config.max_pending_invocations) {
        close({"too_many_pending_invocations", "Too many invocations are waiting for the upstream.", true});
        return;
      }
      ++pending_message_events_;
      enqueue_event({UpstreamEventKind::message, std::move(message), {}});
      return;
    case MessageType::stream_invocation:
      metrics().messages_received.inc();
      send_frame(make_frame(protocol::encode_completion_error(
          protocol_, *message.invocation_id, "Streaming invocations are not supported in serverless mode.")));
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
    default:
      // Completions (client results), stream items, cancels, acks: nothing to do in serverless mode.
      return;
  }
}

void Connection::on_transport_closed(transport::TransportEnd end, std::string_view detail) {
  std::string reason = close_reason_.empty() ? std::string(transport::to_string(end)) : close_reason_;
  std::string error = close_error_;
  bool is_clean = end == transport::TransportEnd::closed_by_client || end == transport::TransportEnd::closed_by_server;
  if (error.empty() && !is_clean && close_reason_.empty())
    error = "The connection ended: " + std::string(transport::to_string(end));
  if (end == transport::TransportEnd::send_queue_full)
    log::warn("connection", "send_queue_full", {{"conn", id()}, {"hub", identity_.hub}, {"detail", detail}});
  finish(reason, std::move(error));
}

void Connection::finish(std::string_view reason, std::string error) {
  if (state_ == ConnectionState::closed) return;
  state_ = ConnectionState::closed;
  context_.connections.remove(*this);
  transport_.reset();  // breaks the transport <-> connection cycle
  metrics().disconnects.with(reason).inc();
  log::debug("connection", "closed", {{"conn", id()}, {"hub", identity_.hub}, {"reason", reason}});
  if (!has_opened_) return;  // never handshaken: upstream never heard of it
  metrics().connections_open.add(-1);
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
  context_.observer.deliver(shared_from_this(), std::move(event), [self = shared_from_this()] {
    self->has_event_in_flight_ = false;
    self->deliver_next_event();
  });
}

}  // namespace sb::connection
