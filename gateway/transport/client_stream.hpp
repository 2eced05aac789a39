#pragma once
// The byte stream a client connection speaks over: plain TCP, or TLS over TCP when the gateway has a
// certificate (--tls-cert). One type for both, chosen per socket at run time, so the HTTP session and
// the transports are written (and compiled, Beast being where build time goes) once rather than as
// templates instantiated twice.
//
// It is an Asio AsyncStream: reads and writes go to the TLS stream when there is one, else to the TCP
// stream. beast::get_lowest_layer() reaches the TCP stream (deadlines, the socket) either way, and the
// WebSocket teardown customisation points below make a WebSocket close end TLS properly.
//
// Names Beast types: included only by transport/*.cpp and http/*.cpp (STYLE.md "Build hygiene").
#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <memory>
#include <optional>
#include <utility>

#include "listener/socket_limits.hpp"

namespace sb::transport {

class ClientStream {
 public:
  using TcpStream = boost::beast::tcp_stream;
  using TlsStream = boost::beast::ssl_stream<TcpStream>;
  using executor_type = TcpStream::executor_type;

  // Plain TCP.
  explicit ClientStream(TcpStream&& tcp) : plain_(std::move(tcp)) {}
  // TLS over `tcp`, server side; the handshake is still to do (tls().async_handshake). The context is
  // kept alive with the stream: a certificate reload replaces the gateway's context, not this one.
  ClientStream(TcpStream&& tcp, std::shared_ptr<boost::asio::ssl::context> context)
      : tls_context_(std::move(context)), tls_(std::make_unique<TlsStream>(std::move(tcp), *tls_context_)) {}

  bool is_tls() const { return tls_ != nullptr; }

  // The socket's place in --max-connections travels with it: given back when the stream is destroyed,
  // or taken out when the descriptor moves to another stream (a resume on another thread).
  void hold(listener::SocketTicket ticket) { ticket_ = std::move(ticket); }
  listener::SocketTicket release_ticket() { return std::move(ticket_); }
  TlsStream& tls() { return *tls_; }

  // The TCP stream under any TLS: what get_lowest_layer() finds, for deadlines and the socket.
  TcpStream& next_layer() { return tls_ ? tls_->next_layer() : *plain_; }
  boost::asio::ip::tcp::socket& socket() { return next_layer().socket(); }
  executor_type get_executor() { return next_layer().get_executor(); }

  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return boost::asio::async_initiate<ReadToken, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBufferSequence& b) {
          if (tls_)
            tls_->async_read_some(b, std::move(handler));
          else
            plain_->async_read_some(b, std::move(handler));
        },
        token, buffers);
  }

  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& b) {
          if (tls_)
            tls_->async_write_some(b, std::move(handler));
          else
            plain_->async_write_some(b, std::move(handler));
        },
        token, buffers);
  }

  // WebSocket close: TLS sends close_notify before the TCP shutdown (Beast's ssl_stream teardown).
  friend void teardown(boost::beast::role_type role, ClientStream& stream, boost::system::error_code& ec) {
    using boost::beast::websocket::teardown;
    if (stream.tls_)
      teardown(role, *stream.tls_, ec);
    else
      teardown(role, *stream.plain_, ec);
  }

  template <class TeardownHandler>
  friend void async_teardown(boost::beast::role_type role, ClientStream& stream, TeardownHandler&& handler) {
    using boost::beast::websocket::async_teardown;
    if (stream.tls_)
      async_teardown(role, *stream.tls_, std::forward<TeardownHandler>(handler));
    else
      async_teardown(role, *stream.plain_, std::forward<TeardownHandler>(handler));
  }

 private:
  listener::SocketTicket ticket_;  // declared first: given back after the socket has closed
  std::optional<TcpStream> plain_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  std::unique_ptr<TlsStream> tls_;
};

}  // namespace sb::transport
