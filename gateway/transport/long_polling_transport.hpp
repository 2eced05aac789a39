#pragma once
// The long-polling transport (PROTOCOL.md part 1 §2): output waits in a byte-bounded buffer until the
// client's next poll takes it; a poll with nothing to take is held up to the poll timeout and then
// answered 200 with no body; a newer poll ends the held one with 204; the end of the connection answers
// 204; a client that stops polling for the disconnect timeout is gone. Sends arrive as POST bodies.
// Owner thread only: the HTTP layer posts poll, receive and stop here.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "transport/transport.hpp"

namespace sb::transport {

struct LongPollingLimits {
  std::chrono::milliseconds poll_timeout{90'000};        // ASP.NET LongPolling.PollTimeout
  std::chrono::milliseconds disconnect_timeout{15'000};  // ASP.NET DisconnectTimeout
  // Closing: how long the client gets to poll for what is left (the Close message) and send its DELETE.
  // A live client always has a poll held or on its way, so this needn't be the disconnect timeout; and
  // during a graceful shutdown the client's next request may never reach us (the listener is closed,
  // so a new socket goes to our successor), which would hold the connection, and its `disconnected`,
  // for the whole disconnect timeout.
  std::chrono::milliseconds closing_timeout{5'000};
  std::size_t max_buffered_bytes = 1024 * 1024;
};

struct PollResponse {
  int status = 200;  // 200 (with or without data) or 204 (the connection ended)
  std::string body;
};

class LongPollingTransport : public Transport, public std::enable_shared_from_this<LongPollingTransport> {
 public:
  using PollCallback = std::function<void(PollResponse)>;

  LongPollingTransport(boost::asio::any_io_executor executor, const LongPollingLimits& limits);

  // A GET: answered now when output is waiting, else held. Ends any poll already held (204).
  void poll(PollCallback callback);
  // A POST body: complete hub records from the client.
  // False when the connection has ended (the POST is answered 404).
  bool receive(std::string_view data, FrameFormat format);
  // A DELETE: the client is leaving.
  void stop();

  void start(std::shared_ptr<TransportHandler> handler) override;
  bool send(Frame frame, FrameFormat format) override;
  void close() override;
  void abort() override;
  bool supports_binary() const override { return true; }
  std::string_view name() const override { return "LongPolling"; }
  std::size_t queued_bytes() const override { return queued_bytes_; }
  bool has_inherent_keepalive() const override { return true; }

 private:
  void flush();
  void answer_held_poll(PollResponse response);
  void arm_disconnect_timer();  // the disconnect timeout, or the closing timeout once closing
  void finish(TransportEnd end, std::string_view detail);

  LongPollingLimits limits_;
  boost::asio::steady_timer poll_timer_;        // ends a held poll with an empty 200
  boost::asio::steady_timer disconnect_timer_;  // no poll for this long: the client is gone
  std::shared_ptr<TransportHandler> handler_;
  std::deque<Frame> queue_;
  std::size_t queued_bytes_ = 0;
  PollCallback held_poll_;
  bool has_flush_posted_ = false;
  bool is_closing_ = false;
  bool is_finished_ = false;
};

}  // namespace sb::transport
