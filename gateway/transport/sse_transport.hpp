#pragma once
// The Server-Sent Events transport (PROTOCOL.md part 1 §2): a text/event-stream response held open;
// each batch of complete records goes out as one event ("data: " per line, a blank line after), in
// chunked encoding; sends arrive as POST bodies. Text only. The stream ending ends the connection, and
// so does the client going away (a read that sees EOF).
//
// Names Beast types because the HTTP layer hands over its stream; only http/*.cpp includes this.
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "transport/client_stream.hpp"
#include "transport/transport.hpp"

namespace sb::transport {

class SseTransport : public Transport, public std::enable_shared_from_this<SseTransport> {
 public:
  // `response_head`: the status line and headers, ending with the blank line, built by the HTTP layer.
  SseTransport(ClientStream&& stream, std::string response_head, std::size_t max_send_queue_bytes);

  // A POST body: complete hub records from the client.
  // False when the connection has ended (the POST is answered 404).
  bool receive(std::string_view data, FrameFormat format);

  void start(std::shared_ptr<TransportHandler> handler) override;
  bool send(Frame frame, FrameFormat format) override;
  void close() override;
  void abort() override;
  bool supports_binary() const override { return false; }
  std::string_view name() const override { return "ServerSentEvents"; }
  std::size_t queued_bytes() const override { return queued_bytes_; }

 private:
  void do_watch();
  void do_write();
  void on_write(boost::beast::error_code ec);
  void finish(TransportEnd end, std::string_view detail);

  ClientStream stream_;
  std::string response_head_;
  std::size_t max_send_queue_bytes_;
  std::shared_ptr<TransportHandler> handler_;
  std::deque<Frame> queue_;
  std::size_t queued_bytes_ = 0;
  std::string write_buffer_;  // the chunk in flight
  char watch_byte_ = 0;       // the one-byte read that notices the client leaving
  bool has_write_in_flight_ = false;
  bool is_closing_ = false;
  bool is_finished_ = false;
};

}  // namespace sb::transport
