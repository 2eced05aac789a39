#pragma once
// The WebSocket transport (PROTOCOL.md part 1 §2): a Beast stream with one write in flight; frames
// queued meanwhile go out as one WebSocket message (several hub records per message are allowed, a
// record is never split). JSON goes in text messages, MessagePack in binary ones.
//
// This header names Beast types because the HTTP layer hands over its stream (plain or TLS) and parsed upgrade request
// (advanced_server_flex's hand-off). Only http/*.cpp includes it; everything else sees `Transport`.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "transport/client_stream.hpp"
#include "transport/transport.hpp"

namespace sb::transport {

struct WebSocketLimits {
  std::size_t max_message_bytes = 1024 * 1024;  // one WebSocket message may batch several hub records
  std::size_t max_send_queue_bytes = 1024 * 1024;
};

class WebSocketTransport : public Transport, public std::enable_shared_from_this<WebSocketTransport> {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Accepted = std::function<void(std::shared_ptr<WebSocketTransport>)>;  // called on success only

  WebSocketTransport(ClientStream&& stream, const WebSocketLimits& limits);

  // Completes the upgrade; on success calls `accepted`, on failure just ends (the socket is closed).
  void accept(Request request, Accepted accepted);

  void start(std::shared_ptr<TransportHandler> handler) override;
  bool send(Frame frame, FrameFormat format) override;
  void close() override;
  void abort() override;
  std::size_t queued_bytes() const override { return queued_bytes_; }
  bool supports_binary() const override { return true; }
  bool supports_reconnect() const override { return true; }

 private:
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void do_write();
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  void do_close();
  void finish(TransportEnd end, std::string_view detail);

  boost::beast::websocket::stream<ClientStream> ws_;
  boost::beast::flat_buffer read_buffer_;
  WebSocketLimits limits_;
  std::shared_ptr<TransportHandler> handler_;
  std::deque<Frame> queue_;               // owns frames until their write completes
  std::vector<Frame> in_flight_;          // the frames of the write in progress
  std::vector<boost::asio::const_buffer> gather_;
  std::size_t queued_bytes_ = 0;
  FrameFormat queue_format_ = FrameFormat::text;
  bool has_write_in_flight_ = false;
  bool is_closing_ = false;   // close requested: flush, then send the close frame
  bool is_finished_ = false;  // the handler has been told; nothing more happens
};

}  // namespace sb::transport
