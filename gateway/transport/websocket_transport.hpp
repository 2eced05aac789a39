#pragma once
// The WebSocket transport (PROTOCOL.md part 1 §2), with framing of our own (protocol/websocket_frame)
// over the client's socket rather than a Beast stream per connection, for what fan-out and idle
// connections cost:
// - Sends are corked: send() queues the shared frame and marks the connection; once per turn of the
//   event loop every marked connection writes everything it has queued as one WebSocket message (a
//   message may hold several hub records, never part of one) with one gather write. A broadcast of k
//   messages in a row is one syscall per connection, not k.
// - Plain sockets write without an Asio operation when the kernel takes the bytes at once (the usual
//   case), and read into a buffer shared by the thread when epoll says there is data, so an idle
//   connection holds no read buffer. TLS streams read into a buffer of their own.
// JSON goes in text messages, MessagePack in binary ones.
//
// This header names Beast types because the HTTP layer hands over its stream (plain or TLS) and parsed
// upgrade request. Only http/*.cpp includes it; everything else sees `Transport`.
#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/websocket_frame.hpp"
#include "transport/client_stream.hpp"
#include "transport/transport.hpp"

namespace sb::transport {

struct WebSocketLimits {
  std::size_t max_message_bytes = 1024 * 1024;  // one WebSocket message may batch several hub records
  std::size_t max_send_queue_bytes = 1024 * 1024;
};

class WebSocketTransport : public Transport,
                           public std::enable_shared_from_this<WebSocketTransport>,
                           private protocol::WebSocketSink {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Accepted = std::function<void(std::shared_ptr<WebSocketTransport>)>;  // called on success only

  WebSocketTransport(ClientStream&& stream, const WebSocketLimits& limits);

  // Answers the upgrade with 101 and calls `accepted`; if the write fails, just ends (the socket is
  // closed). The caller has refused a bad version or key already (http::websocket_upgrade_refusal).
  void accept(Request request, Accepted accepted);

  void start(std::shared_ptr<TransportHandler> handler) override;
  bool send(Frame frame, FrameFormat format) override;
  void close() override;
  void abort() override;
  bool supports_binary() const override { return true; }
  std::string_view name() const override { return "WebSockets"; }
  std::size_t queued_bytes() const override { return queued_bytes_; }
  bool supports_reconnect() const override { return true; }

 private:
  enum class Phase {
    open,         // reading and writing
    closing,      // close() called: flush what is queued, then send a close frame
    close_sent,   // our close frame is out: read until the client's, or the timer
    terminating,  // a client close or a protocol error: write the close frame, then end
    finished,     // the handler has been told; nothing more happens
  };

  // protocol::WebSocketSink
  bool on_websocket_message(std::string_view payload, bool is_text) override;
  bool on_websocket_ping(std::string_view payload) override;
  void on_websocket_close(std::uint16_t code, std::string_view reason) override;
  void on_websocket_error(std::uint16_t code, std::string_view error) override;

  void wait_readable();
  void on_readable(boost::system::error_code ec);
  void read_tls();
  void on_read_error(boost::system::error_code ec);

  void cork();  // asks for a write at the end of this turn of the loop
  void write_corked();
  void write_queued();
  void start_batch();
  void write_batch();
  void on_batch_written(boost::system::error_code ec);
  void after_flush();
  void send_close_frame(std::string frame, Phase next, TransportEnd end, std::string detail);
  void drop_queue();
  void arm_close_timer();
  // Tells the handler; closes the socket, or after a close handshake (`is_graceful`) shuts down our
  // side and reads until the client's FIN (bounded by the close timer).
  void end(TransportEnd end, std::string_view detail, bool is_graceful);
  void close_socket();

  boost::asio::ip::tcp::socket& socket() { return socket_ ? *socket_ : tls_->socket(); }
  bool is_tls() const { return tls_ != nullptr; }

  // Plain TCP keeps the bare socket: Beast's tcp_stream around it (its timers, ~0.5 KiB per idle
  // connection) has nothing to do here. TLS keeps the whole stream.
  listener::SocketTicket ticket_;  // plain TCP's place in --max-connections (TLS: in tls_), until close_socket()
  std::optional<boost::asio::ip::tcp::socket> socket_;
  std::unique_ptr<ClientStream> tls_;
  WebSocketLimits limits_;
  protocol::WebSocketReader reader_;
  std::shared_ptr<TransportHandler> handler_;
  Phase phase_ = Phase::open;

  struct QueuedFrame {
    Frame frame;
    FrameFormat format;
  };
  std::vector<QueuedFrame> queue_;                 // waiting for the next batch
  std::vector<Frame> in_flight_;                   // the batch being written (kept alive until done)
  std::string control_;                            // pong and close frames, written before the next batch
  std::string batch_control_;                      // the ones in the batch being written
  std::array<char, 10> batch_header_{};            // the WebSocket header of the batch's message
  std::vector<boost::asio::const_buffer> gather_;  // what is left of the batch to write
  std::string tls_batch_;                          // TLS: the batch in one buffer (one record, not one per frame)
  std::size_t queued_bytes_ = 0;
  bool is_corked_ = false;          // in this thread's list of connections to flush
  bool is_writing_ = false;         // a batch is being written
  bool is_read_pending_ = false;    // an async_wait for readability is out
  bool is_draining_ = false;        // ended gracefully: reading until the client's FIN
  std::unique_ptr<char[]> tls_read_buffer_;
  std::unique_ptr<boost::asio::steady_timer> close_timer_;  // only while closing
  TransportEnd pending_end_ = TransportEnd::closed_by_server;
  std::string pending_detail_;
};

}  // namespace sb::transport
