#pragma once
// A transport whose socket lives on another thread than its connection. A TLS session cannot follow a
// stateful resume to the connection's thread the way a plain socket does (the fd is moved): OpenSSL's
// state sits in an ssl::stream bound to the accepting thread's io_context. So such a WebSocket stays
// where it was accepted, and this adapter stands in for it on the connection's thread.
//
// Every Transport call is made on the connection's thread (`own_executor`) and posted to the socket's
// (`inner_executor`); every callback of the inner transport is posted back. Between the threads travel
// only shared immutable frames and copies of received data (STYLE.md "Concurrency"). Posts to one
// io_context run in order, so data arrives in order and the close comes last.
#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "transport/transport.hpp"

namespace sb::transport {

class CrossThreadTransport : public Transport, public std::enable_shared_from_this<CrossThreadTransport> {
 public:
  // Constructed on the inner transport's thread, before it has been started.
  CrossThreadTransport(std::shared_ptr<Transport> inner, boost::asio::any_io_executor inner_executor,
                       boost::asio::any_io_executor own_executor);
  // Releases the inner transport on its own thread.
  ~CrossThreadTransport() override;

  void start(std::shared_ptr<TransportHandler> handler) override;
  // Always accepted here; a full queue on the socket's thread ends the transport (send_queue_full),
  // which arrives as on_transport_closed.
  bool send(Frame frame, FrameFormat format) override;
  void close() override;
  void abort() override;
  bool supports_binary() const override { return supports_binary_; }
  bool has_inherent_keepalive() const override { return has_inherent_keepalive_; }
  bool supports_reconnect() const override { return supports_reconnect_; }
  std::string_view name() const override { return name_; }

 private:
  class Relay;
  void finish(TransportEnd end, std::string_view detail);

  std::shared_ptr<Transport> inner_;  // touched on inner_executor_ only, once started
  boost::asio::any_io_executor inner_executor_;
  boost::asio::any_io_executor own_executor_;
  std::shared_ptr<TransportHandler> handler_;  // own thread
  bool supports_binary_;
  bool has_inherent_keepalive_;
  bool supports_reconnect_;
  std::string_view name_;  // the inner transport's (a literal)
  bool is_finished_ = false;  // own thread
};

}  // namespace sb::transport
