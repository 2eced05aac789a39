#pragma once
// The one interface every transport (WebSockets now; SSE and long polling later) adapts its socket to.
// A transport lives on one event-loop thread; every call here and every callback runs on that thread.
#include <cstddef>
#include <memory>
#include <string_view>

#include "common/frame.hpp"

namespace sb::transport {

enum class FrameFormat { text, binary };

// Why a transport ended; the connection maps it to a disconnect reason and a log line.
enum class TransportEnd {
  closed_by_client,   // the client closed cleanly
  closed_by_server,   // we asked for it (close after flush)
  network_error,      // reset, EOF without close, timeout
  send_queue_full,    // the client reads slower than we send; see max_send_queue_bytes
  protocol_error,     // the transport's own framing was broken (bad WebSocket frame, bad UTF-8, too large)
};

std::string_view to_string(TransportEnd end);

// Implemented by the layer above (the connection). Declared here so the transport never includes upward.
class TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  // One received message (a WebSocket message, a POST body). The view is valid during the call only.
  virtual void on_transport_data(std::string_view data, FrameFormat format) = 0;
  // Called exactly once, after which the transport calls nothing more.
  virtual void on_transport_closed(TransportEnd end, std::string_view detail) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Starts reading; callbacks go to `handler`, which the transport holds until it ends.
  virtual void start(std::shared_ptr<TransportHandler> handler) = 0;
  // Queues a shared frame; frames queued while a write is in flight leave together in one gather write.
  // Returns false (and starts closing with send_queue_full) when the queue is over its byte limit.
  virtual bool send(Frame frame, FrameFormat format) = 0;
  // Flushes what is queued, then closes. Idempotent.
  virtual void close() = 0;
  // Drops the connection now, without flushing (the peer is gone or misbehaving).
  virtual void abort() = 0;
  // False for SSE, which carries text only: MessagePack can't use it.
  virtual bool supports_binary() const = 0;
  // True for long polling: the polls themselves show the client is there, so no Pings and no client
  // timeout (ASP.NET HasInherentKeepAlive).
  virtual bool has_inherent_keepalive() const { return false; }
  // True for WebSockets: the only transport the clients resume with stateful reconnect.
  virtual bool supports_reconnect() const { return false; }
  // The transport's name as negotiate lists it ("WebSockets", "ServerSentEvents", "LongPolling"), and
  // the bytes queued for the client now: what the operator console shows of a connection.
  virtual std::string_view name() const { return {}; }
  virtual std::size_t queued_bytes() const { return 0; }
};

}  // namespace sb::transport
