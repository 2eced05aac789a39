#include "transport/long_polling_transport.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

namespace sb::transport {

LongPollingTransport::LongPollingTransport(boost::asio::any_io_executor executor, const LongPollingLimits& limits)
    : limits_(limits), poll_timer_(executor), disconnect_timer_(executor) {}

void LongPollingTransport::start(std::shared_ptr<TransportHandler> handler) {
  handler_ = std::move(handler);
  arm_disconnect_timer();
}

void LongPollingTransport::arm_disconnect_timer() {
  disconnect_timer_.expires_after(is_closing_ ? std::min(limits_.closing_timeout, limits_.disconnect_timeout)
                                              : limits_.disconnect_timeout);
  disconnect_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->held_poll_) return;  // cancelled, or a poll is held: the client is there
    self->finish(self->is_closing_ ? TransportEnd::closed_by_server : TransportEnd::network_error,
                 "no poll within the disconnect timeout");
  });
}

void LongPollingTransport::answer_held_poll(PollResponse response) {
  if (!held_poll_) return;
  poll_timer_.cancel();
  auto callback = std::move(held_poll_);
  held_poll_ = nullptr;
  callback(std::move(response));
  if (!is_finished_) arm_disconnect_timer();
}

void LongPollingTransport::poll(PollCallback callback) {
  if (is_finished_) return callback({204, {}});
  if (held_poll_) answer_held_poll({204, {}});  // a newer poll ends the older one (PROTOCOL.md part 1 §2)
  disconnect_timer_.cancel();
  if (!queue_.empty()) {
    held_poll_ = std::move(callback);
    return flush();
  }
  if (is_closing_) {
    callback({204, {}});
    return finish(TransportEnd::closed_by_server, "");
  }
  held_poll_ = std::move(callback);
  poll_timer_.expires_after(limits_.poll_timeout);
  poll_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->answer_held_poll({200, {}});  // idle: 200 with no body, never 204 (which means closed)
  });
}

bool LongPollingTransport::receive(std::string_view data, FrameFormat format) {
  if (is_finished_ || !handler_) return false;
  auto handler = handler_;  // the callback may end this transport
  handler->on_transport_data(data, format);
  return true;
}

void LongPollingTransport::stop() {
  answer_held_poll({204, {}});
  finish(TransportEnd::closed_by_client, "");
}

bool LongPollingTransport::send(Frame frame, FrameFormat) {
  if (is_finished_ || is_closing_) return false;
  queued_bytes_ += frame->size();
  if (queued_bytes_ > limits_.max_buffered_bytes) {
    // Ended from a posted handler: the caller may be walking a group (see WebSocketTransport::send).
    is_closing_ = true;
    boost::asio::post(poll_timer_.get_executor(), [self = shared_from_this()] {
      self->answer_held_poll({204, {}});
      self->finish(TransportEnd::send_queue_full, "queued_bytes=" + std::to_string(self->queued_bytes_));
    });
    return false;
  }
  queue_.push_back(std::move(frame));
  // Flush after the current handler, so frames queued together leave in one poll response.
  if (held_poll_ && !has_flush_posted_) {
    has_flush_posted_ = true;
    boost::asio::post(poll_timer_.get_executor(), [self = shared_from_this()] {
      self->has_flush_posted_ = false;
      self->flush();
    });
  }
  return true;
}

void LongPollingTransport::flush() {
  if (!held_poll_ || queue_.empty()) return;
  PollResponse response;
  response.body.reserve(queued_bytes_);
  for (const auto& f : queue_) response.body += *f;
  queue_.clear();
  queued_bytes_ = 0;
  answer_held_poll(std::move(response));
}

void LongPollingTransport::close() {
  if (is_finished_ || is_closing_) return;
  is_closing_ = true;
  // What is queued still goes out with the next poll; the poll after that gets 204.
  if (held_poll_) {
    if (queue_.empty()) {
      answer_held_poll({204, {}});
      return finish(TransportEnd::closed_by_server, "");
    }
    flush();
  }
  arm_disconnect_timer();
}

void LongPollingTransport::abort() {
  answer_held_poll({204, {}});
  finish(TransportEnd::closed_by_server, "aborted");
}

void LongPollingTransport::finish(TransportEnd end, std::string_view detail) {
  if (is_finished_) return;
  is_finished_ = true;
  poll_timer_.cancel();
  disconnect_timer_.cancel();
  queue_.clear();
  queued_bytes_ = 0;
  if (auto handler = std::move(handler_)) handler->on_transport_closed(end, detail);
}

}  // namespace sb::transport
