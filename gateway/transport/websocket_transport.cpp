#include "transport/websocket_transport.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket.hpp>

namespace sb::transport {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

WebSocketTransport::WebSocketTransport(ClientStream&& stream, const WebSocketLimits& limits)
    : ws_(std::move(stream)), limits_(limits) {
  beast::get_lowest_layer(ws_).expires_never();  // the WebSocket timeouts below take over
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(5);  // opening and closing handshakes (ASP.NET CloseTimeout 5 s)
  timeouts.idle_timeout = websocket::stream_base::none();  // hub-level keep-alive and client timeout decide instead
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.read_message_max(limits_.max_message_bytes);
  ws_.auto_fragment(false);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "switchboard"); }));
}

void WebSocketTransport::accept(Request request, Accepted accepted) {
  // No subprotocol is selected: the SignalR clients request none (PROTOCOL.md part 1 §2).
  ws_.async_accept(request, [self = shared_from_this(), accepted = std::move(accepted)](beast::error_code ec) {
    if (ec) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
      return;
    }
    accepted(self);
  });
}

void WebSocketTransport::start(std::shared_ptr<TransportHandler> handler) {
  handler_ = std::move(handler);
  do_read();
}

void WebSocketTransport::do_read() {
  ws_.async_read(read_buffer_, beast::bind_front_handler(&WebSocketTransport::on_read, shared_from_this()));
}

void WebSocketTransport::on_read(beast::error_code ec, std::size_t) {
  if (is_finished_) return;
  if (ec) {
    if (ec == websocket::error::closed) return finish(TransportEnd::closed_by_client, "");
    if (ec == boost::asio::error::operation_aborted) return finish(TransportEnd::network_error, "aborted");
    if (ec.category() == websocket::make_error_code(websocket::error::closed).category() || ec == websocket::error::message_too_big)
      return finish(TransportEnd::protocol_error, ec.message());
    return finish(TransportEnd::network_error, ec.message());
  }
  auto handler = handler_;  // the callback may end this transport
  auto data = read_buffer_.cdata();
  handler->on_transport_data(std::string_view(static_cast<const char*>(data.data()), data.size()),
                             ws_.got_text() ? FrameFormat::text : FrameFormat::binary);
  read_buffer_.consume(read_buffer_.size());
  if (read_buffer_.capacity() > 16 * 1024) read_buffer_.shrink_to_fit();  // keep idle connections small
  if (!is_finished_) do_read();
}

bool WebSocketTransport::send(Frame frame, FrameFormat format) {
  if (is_finished_ || is_closing_) return false;
  queued_bytes_ += frame->size();
  if (queued_bytes_ > limits_.max_send_queue_bytes) {
    // Ended from a posted handler, not here: the caller may be walking a group that the ending
    // connection would leave under its feet.
    is_closing_ = true;
    queue_.clear();
    boost::asio::post(ws_.get_executor(), [self = shared_from_this(), queued = queued_bytes_] {
      self->finish(TransportEnd::send_queue_full, "queued_bytes=" + std::to_string(queued));
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
    return false;
  }
  queue_format_ = format;  // one hub protocol per connection: formats never mix in a queue
  queue_.push_back(std::move(frame));
  if (!has_write_in_flight_) do_write();
  return true;
}

void WebSocketTransport::do_write() {
  // Everything queued of one format leaves in one WebSocket message: one gather write.
  in_flight_.clear();
  gather_.clear();
  FrameFormat format = queue_format_;
  while (!queue_.empty()) {
    in_flight_.push_back(std::move(queue_.front()));
    queue_.pop_front();
    gather_.emplace_back(in_flight_.back()->data(), in_flight_.back()->size());
  }
  has_write_in_flight_ = true;
  ws_.text(format == FrameFormat::text);
  ws_.async_write(gather_, beast::bind_front_handler(&WebSocketTransport::on_write, shared_from_this()));
}

void WebSocketTransport::on_write(beast::error_code ec, std::size_t) {
  has_write_in_flight_ = false;
  for (const auto& f : in_flight_) queued_bytes_ -= f->size();
  in_flight_.clear();
  if (is_finished_) return;
  if (ec) return finish(TransportEnd::network_error, ec.message());
  if (!queue_.empty()) return do_write();
  if (is_closing_) do_close();
}

void WebSocketTransport::close() {
  if (is_finished_ || is_closing_) return;
  is_closing_ = true;
  if (!has_write_in_flight_) do_close();
}

void WebSocketTransport::do_close() {
  ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {
    self->finish(TransportEnd::closed_by_server, "");
    beast::error_code ignored;
    beast::get_lowest_layer(self->ws_).socket().close(ignored);
  });
}

void WebSocketTransport::abort() {
  if (is_finished_) return;
  finish(TransportEnd::closed_by_server, "aborted");
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

void WebSocketTransport::finish(TransportEnd end, std::string_view detail) {
  if (is_finished_) return;
  is_finished_ = true;
  queue_.clear();
  if (auto handler = std::move(handler_)) handler->on_transport_closed(end, detail);
}

}  // namespace sb::transport
