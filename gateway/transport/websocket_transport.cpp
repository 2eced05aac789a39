#include "transport/websocket_transport.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/field.hpp>

#include <cassert>

namespace sb::transport {

namespace asio = boost::asio;
using boost::system::error_code;
using protocol::WebSocketOpcode;

namespace {

constexpr std::size_t shared_read_bytes = 64 * 1024;  // one read of a plain socket, shared by the thread
constexpr std::size_t tls_read_bytes = 16 * 1024;     // one TLS record
constexpr std::size_t max_frames_per_message = 256;   // hub records batched into one WebSocket message
constexpr auto close_timeout = std::chrono::seconds(5);  // flush + close handshake (ASP.NET CloseTimeout 5 s)

char* shared_read_buffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[shared_read_bytes]);
  return buffer.get();
}

bool is_would_block(const error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// The connections of this thread with sends waiting for the end of the loop's current turn.
struct CorkedConnections {
  std::vector<std::shared_ptr<WebSocketTransport>> transports;
  ~CorkedConnections();
};
thread_local CorkedConnections* open_cork = nullptr;
CorkedConnections::~CorkedConnections() {
  if (open_cork == this) open_cork = nullptr;  // an io_context torn down before the flush ran
}

}  // namespace

WebSocketTransport::WebSocketTransport(ClientStream&& stream, const WebSocketLimits& limits)
    : limits_(limits), reader_(limits.max_message_bytes) {
  if (stream.is_tls()) {
    tls_ = std::make_unique<ClientStream>(std::move(stream));
    tls_->next_layer().expires_never();  // the close timer and the hub-level keep-alive take over
  } else {
    ticket_ = stream.release_ticket();
    socket_.emplace(stream.next_layer().release_socket());
  }
}

void WebSocketTransport::accept(Request request, Accepted accepted) {
  namespace http = boost::beast::http;
  // No subprotocol and no extension are selected: the SignalR clients request none (PROTOCOL.md part 1 §2).
  // The caller refused bad versions and keys already (http::websocket_upgrade_refusal).
  const auto key = request[http::field::sec_websocket_key];
  assert(protocol::is_valid_websocket_key(key));
  control_ = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
             protocol::websocket_accept_key(key) + "\r\nServer: switchboard\r\n\r\n";
  auto on_written = [self = shared_from_this(), accepted = std::move(accepted)](error_code ec, std::size_t) {
    self->control_.clear();
    error_code ignored;
    if (ec) return self->close_socket();
    if (!self->is_tls()) self->socket().non_blocking(true, ignored);
    accepted(self);
  };
  if (is_tls())
    asio::async_write(*tls_, asio::buffer(control_), std::move(on_written));
  else
    asio::async_write(*socket_, asio::buffer(control_), std::move(on_written));
}

void WebSocketTransport::start(std::shared_ptr<TransportHandler> handler) {
  handler_ = std::move(handler);
  if (is_tls()) {
    tls_read_buffer_.reset(new char[tls_read_bytes]);
    read_tls();
  } else {
    wait_readable();
  }
}

// ---- reading ----

void WebSocketTransport::wait_readable() {
  if (is_read_pending_) return;
  is_read_pending_ = true;
  socket().async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
    self->is_read_pending_ = false;
    self->on_readable(ec);
  });
}

void WebSocketTransport::on_readable(error_code ec) {
  if (phase_ == Phase::finished && !is_draining_) return;
  if (ec) return on_read_error(ec);
  char* buffer = shared_read_buffer();
  // A few reads at most, then back to the loop: one busy client must not starve the others.
  for (int reads = 0; reads < 4; ++reads) {
    std::size_t size = socket().read_some(asio::buffer(buffer, shared_read_bytes), ec);
    if (is_would_block(ec)) break;
    if (ec) return on_read_error(ec);
    if (!is_draining_) reader_.feed(buffer, size, *this);  // the handler may end us: our caller holds a reference
    if ((phase_ == Phase::finished && !is_draining_) || size < shared_read_bytes) break;
  }
  if (is_draining_ || (phase_ != Phase::finished && !reader_.is_done())) wait_readable();
}

void WebSocketTransport::read_tls() {
  tls_->async_read_some(asio::buffer(tls_read_buffer_.get(), tls_read_bytes),
                        [self = shared_from_this()](error_code ec, std::size_t size) {
                          if (self->phase_ == Phase::finished) return;
                          if (ec) return self->on_read_error(ec);
                          self->reader_.feed(self->tls_read_buffer_.get(), size, *self);
                          if (self->phase_ != Phase::finished && !self->reader_.is_done()) self->read_tls();
                        });
}

void WebSocketTransport::on_read_error(error_code ec) {
  if (is_draining_) return close_socket();
  switch (phase_) {
    case Phase::close_sent:  // the client closed TCP instead of answering our close frame: done all the same
      return end(TransportEnd::closed_by_server, "", false);
    case Phase::terminating:  // our close frame may still be on its way; the write ends it
      return;
    case Phase::finished:
      return;
    default:
      return end(TransportEnd::network_error, ec == asio::error::operation_aborted ? "aborted" : ec.message(), false);
  }
}

bool WebSocketTransport::on_websocket_message(std::string_view payload, bool is_text) {
  if (phase_ != Phase::open && phase_ != Phase::closing) return phase_ == Phase::close_sent;  // dropped, keep reading
  auto handler = handler_;
  handler->on_transport_data(payload, is_text ? FrameFormat::text : FrameFormat::binary);
  return phase_ != Phase::finished;
}

bool WebSocketTransport::on_websocket_ping(std::string_view payload) {
  if (phase_ != Phase::open && phase_ != Phase::closing) return true;
  if (control_.size() > limits_.max_send_queue_bytes) {  // pings from a client that never reads our pongs
    end(TransportEnd::send_queue_full, "pongs_unread", false);
    return false;
  }
  control_ += protocol::encode_websocket_pong(payload);
  cork();
  return true;
}

void WebSocketTransport::on_websocket_close(std::uint16_t code, std::string_view) {
  if (phase_ == Phase::close_sent) return end(TransportEnd::closed_by_server, "", true);  // our close, answered
  if (phase_ != Phase::open && phase_ != Phase::closing) return;
  // The client closes: answer with its code (RFC 6455 §5.5.1), then end.
  send_close_frame(protocol::encode_websocket_close(code ? code : protocol::close_code::normal, ""), Phase::terminating,
                   TransportEnd::closed_by_client, "");
}

void WebSocketTransport::on_websocket_error(std::uint16_t code, std::string_view error) {
  if (phase_ == Phase::close_sent) return end(TransportEnd::protocol_error, error, true);
  if (phase_ != Phase::open && phase_ != Phase::closing) return;
  send_close_frame(protocol::encode_websocket_close(code, error), Phase::terminating, TransportEnd::protocol_error,
                   std::string(error));
}

// ---- writing ----

bool WebSocketTransport::send(Frame frame, FrameFormat format) {
  if (phase_ != Phase::open) return false;
  queued_bytes_ += frame->size();
  if (queued_bytes_ > limits_.max_send_queue_bytes) {
    // Ended from a posted handler, not here: the caller may be walking a group that the ending
    // connection would leave under its feet.
    pending_detail_ = "queued_bytes=" + std::to_string(queued_bytes_);
    queued_bytes_ -= frame->size();
    drop_queue();
    phase_ = Phase::terminating;
    pending_end_ = TransportEnd::send_queue_full;
    asio::post(socket().get_executor(), [self = shared_from_this()] {
      self->end(TransportEnd::send_queue_full, self->pending_detail_, false);
    });
    return false;
  }
  queue_.push_back({std::move(frame), format});
  cork();
  return true;
}

void WebSocketTransport::cork() {
  if (is_corked_ || is_writing_ || phase_ == Phase::finished) return;
  is_corked_ = true;
  if (!open_cork) {
    auto batch = std::make_shared<CorkedConnections>();
    open_cork = batch.get();
    asio::post(socket().get_executor(), [batch] {
      if (open_cork == batch.get()) open_cork = nullptr;  // sends from here on start the next turn's batch
      for (auto& transport : batch->transports) transport->write_corked();
    });
  }
  open_cork->transports.push_back(shared_from_this());
}

void WebSocketTransport::write_corked() {
  is_corked_ = false;
  write_queued();
}

void WebSocketTransport::write_queued() {
  if (phase_ == Phase::finished || is_writing_) return;
  if (control_.empty() && queue_.empty()) return after_flush();
  start_batch();
  if (is_tls()) {
    tls_batch_.clear();
    for (const auto& b : gather_) tls_batch_.append(static_cast<const char*>(b.data()), b.size());
    gather_.clear();
    // One buffer, so TLS makes one record of it rather than one per frame.
    asio::async_write(*tls_, asio::buffer(tls_batch_),
                      [self = shared_from_this()](error_code ec, std::size_t) { self->on_batch_written(ec); });
    return;
  }
  write_batch();
}

void WebSocketTransport::start_batch() {
  is_writing_ = true;
  gather_.clear();
  batch_control_.swap(control_);
  control_.clear();
  if (!batch_control_.empty()) gather_.emplace_back(batch_control_.data(), batch_control_.size());
  if (queue_.empty()) return;
  // The queued frames of one format, in order, as one message.
  const FrameFormat format = queue_.front().format;
  std::size_t count = 0;
  std::uint64_t payload_bytes = 0;
  while (count < queue_.size() && count < max_frames_per_message && queue_[count].format == format)
    payload_bytes += queue_[count++].frame->size();
  auto opcode = format == FrameFormat::text ? WebSocketOpcode::text : WebSocketOpcode::binary;
  std::size_t header_bytes = protocol::encode_websocket_header(batch_header_.data(), opcode, payload_bytes);
  gather_.emplace_back(batch_header_.data(), header_bytes);
  for (std::size_t i = 0; i < count; ++i) {
    gather_.emplace_back(queue_[i].frame->data(), queue_[i].frame->size());
    in_flight_.push_back(std::move(queue_[i].frame));
  }
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
}

// Plain sockets: write now, without an Asio operation; wait for writability only when the kernel's
// buffer is full.
void WebSocketTransport::write_batch() {
  while (!gather_.empty()) {
    error_code ec;
    std::size_t written = socket().write_some(gather_, ec);  // one sendmsg over up to 64 buffers
    if (is_would_block(ec)) {
      socket().async_wait(asio::ip::tcp::socket::wait_write, [self = shared_from_this()](error_code wait_error) {
        if (wait_error) return self->on_batch_written(wait_error);
        self->write_batch();
      });
      return;
    }
    if (ec) return on_batch_written(ec);
    std::size_t done = 0;
    while (done < gather_.size() && written >= gather_[done].size()) written -= gather_[done++].size();
    if (done < gather_.size()) gather_[done] += written;
    gather_.erase(gather_.begin(), gather_.begin() + static_cast<std::ptrdiff_t>(done));
  }
  on_batch_written({});
}

void WebSocketTransport::on_batch_written(error_code ec) {
  is_writing_ = false;
  for (const auto& frame : in_flight_) queued_bytes_ -= frame->size();
  in_flight_.clear();
  batch_control_.clear();
  gather_.clear();
  // A burst's bookkeeping is not kept by an idle connection.
  if (in_flight_.capacity() > 16) {
    std::vector<Frame>().swap(in_flight_);
    std::vector<asio::const_buffer>().swap(gather_);
  }
  if (tls_batch_.capacity() > 64 * 1024) std::string().swap(tls_batch_);
  if (phase_ == Phase::finished) return;
  if (ec) {
    if (phase_ == Phase::terminating) return end(pending_end_, pending_detail_, false);
    return end(TransportEnd::network_error, ec.message(), false);
  }
  write_queued();
}

// Everything queued is out.
void WebSocketTransport::after_flush() {
  if (phase_ == Phase::closing)
    return send_close_frame(protocol::encode_websocket_close(protocol::close_code::normal, ""), Phase::close_sent,
                            TransportEnd::closed_by_server, "");
  // A client that stopped reading gets no lingering close.
  if (phase_ == Phase::terminating) return end(pending_end_, pending_detail_, pending_end_ != TransportEnd::send_queue_full);
}

void WebSocketTransport::send_close_frame(std::string frame, Phase next, TransportEnd end, std::string detail) {
  if (next == Phase::terminating) drop_queue();  // the client is gone or broke the protocol: no more data
  control_ += frame;
  phase_ = next;
  pending_end_ = end;
  pending_detail_ = std::move(detail);
  arm_close_timer();
  if (!is_writing_) write_queued();
}

void WebSocketTransport::drop_queue() {
  for (const auto& queued : queue_) queued_bytes_ -= queued.frame->size();
  std::vector<QueuedFrame>().swap(queue_);
}

void WebSocketTransport::close() {
  if (phase_ != Phase::open) return;
  phase_ = Phase::closing;
  arm_close_timer();
  if (!is_writing_) cork();  // what is queued goes first; then the close frame
}

void WebSocketTransport::arm_close_timer() {
  if (close_timer_) return;
  close_timer_ = std::make_unique<asio::steady_timer>(socket().get_executor(), close_timeout);
  close_timer_->async_wait([self = shared_from_this()](error_code ec) {
    if (ec) return;
    if (self->is_draining_) return self->close_socket();
    if (self->phase_ == Phase::finished) return;
    bool is_terminating = self->phase_ == Phase::terminating;
    self->end(is_terminating ? self->pending_end_ : TransportEnd::closed_by_server,
              is_terminating ? self->pending_detail_ : "close_timeout", false);
  });
}

void WebSocketTransport::abort() {
  if (phase_ == Phase::finished) return;  // a draining socket closes by itself
  end(TransportEnd::closed_by_server, "aborted", false);
}

void WebSocketTransport::end(TransportEnd end, std::string_view detail, bool is_graceful) {
  if (phase_ == Phase::finished) return;
  phase_ = Phase::finished;
  drop_queue();
  control_.clear();
  // After a close handshake, send FIN and read until the client's, so that its unread bytes don't make
  // the kernel answer with a reset that could destroy our close frame in flight (RFC 6455 §7.1.1).
  if (is_graceful && !is_tls()) {
    error_code ignored;
    socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    is_draining_ = true;
    arm_close_timer();  // bounds the wait; a no-op when already armed
    wait_readable();
  } else {
    close_socket();
  }
  if (auto handler = std::move(handler_)) handler->on_transport_closed(end, detail);
}

void WebSocketTransport::close_socket() {
  is_draining_ = false;
  if (close_timer_) close_timer_->cancel();
  error_code ignored;
  socket().close(ignored);
  // Counted no longer, though a stateful connection may keep this transport until it resumes.
  ticket_ = {};
  if (tls_) tls_->release_ticket();
}

}  // namespace sb::transport
