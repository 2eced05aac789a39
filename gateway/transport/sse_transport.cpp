#include "transport/sse_transport.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>

namespace sb::transport {

namespace beast = boost::beast;

namespace {

// One SSE event holding `payload`: every line prefixed "data: ", CR before LF dropped, blank line after.
void append_event(std::string& out, std::string_view payload) {
  while (true) {
    auto lf = payload.find('\n');
    auto line = payload.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out += "data: ";
    out += line;
    out += "\r\n";
    if (lf == std::string_view::npos) break;
    payload.remove_prefix(lf + 1);
  }
  out += "\r\n";
}

void append_chunk(std::string& out, std::string_view data) {
  char size[20];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, static_cast<std::size_t>(n));
  out += data;
  out += "\r\n";
}

}  // namespace

SseTransport::SseTransport(ClientStream&& stream, std::string response_head, std::size_t max_send_queue_bytes)
    : stream_(std::move(stream)), response_head_(std::move(response_head)), max_send_queue_bytes_(max_send_queue_bytes) {
  stream_.next_layer().expires_never();
}

void SseTransport::start(std::shared_ptr<TransportHandler> handler) {
  handler_ = std::move(handler);
  // The head and a first comment, flushed at once (Firefox fires onopen only on data).
  write_buffer_ = std::move(response_head_);
  append_chunk(write_buffer_, ":\r\n");
  has_write_in_flight_ = true;
  boost::asio::async_write(stream_, boost::asio::buffer(write_buffer_),
                           [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  do_watch();
}

void SseTransport::do_watch() {
  // The client sends nothing on this request; a read completing means it left (EOF) or misbehaves.
  // Read through TLS when there is one: its records (a close_notify) are not ours to swallow raw.
  stream_.async_read_some(boost::asio::buffer(&watch_byte_, 1),
                                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     if (self->is_finished_) return;
                                     if (ec == boost::asio::error::eof || !ec)
                                       return self->finish(TransportEnd::closed_by_client, "");
                                     self->finish(TransportEnd::network_error, ec.message());
                                   });
}

bool SseTransport::receive(std::string_view data, FrameFormat format) {
  if (is_finished_ || !handler_) return false;
  auto handler = handler_;
  handler->on_transport_data(data, format);
  return true;
}

bool SseTransport::send(Frame frame, FrameFormat) {
  if (is_finished_ || is_closing_) return false;
  queued_bytes_ += frame->size();
  if (queued_bytes_ > max_send_queue_bytes_) {
    is_closing_ = true;
    boost::asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->finish(TransportEnd::send_queue_full, "queued_bytes=" + std::to_string(self->queued_bytes_));
    });
    return false;
  }
  queue_.push_back(std::move(frame));
  if (!has_write_in_flight_) do_write();
  return true;
}

void SseTransport::do_write() {
  // Everything queued becomes one event: each event must hold whole records, and may hold several.
  std::string payload;
  payload.reserve(queued_bytes_);
  for (const auto& f : queue_) payload += *f;
  queue_.clear();
  queued_bytes_ = 0;
  std::string event;
  append_event(event, payload);
  write_buffer_.clear();
  append_chunk(write_buffer_, event);
  has_write_in_flight_ = true;
  boost::asio::async_write(stream_, boost::asio::buffer(write_buffer_),
                           [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
}

void SseTransport::on_write(beast::error_code ec) {
  has_write_in_flight_ = false;
  if (is_finished_) return;
  if (ec) return finish(TransportEnd::network_error, ec.message());
  if (!queue_.empty()) return do_write();
  if (is_closing_) {
    // The last chunk, then the socket: the client sees the stream end and closes its connection.
    write_buffer_ = "0\r\n\r\n";
    has_write_in_flight_ = true;
    boost::asio::async_write(stream_, boost::asio::buffer(write_buffer_),
                             [self = shared_from_this()](beast::error_code, std::size_t) {
                               self->finish(TransportEnd::closed_by_server, "");
                             });
  }
}

void SseTransport::close() {
  if (is_finished_ || is_closing_) return;
  is_closing_ = true;
  if (!has_write_in_flight_) on_write({});
}

void SseTransport::abort() { finish(TransportEnd::closed_by_server, "aborted"); }

void SseTransport::finish(TransportEnd end, std::string_view detail) {
  if (is_finished_) return;
  is_finished_ = true;
  queue_.clear();
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  stream_.release_ticket();  // given back with the descriptor
  if (auto handler = std::move(handler_)) handler->on_transport_closed(end, detail);
}

}  // namespace sb::transport
