#pragma once
// One accepted TCP connection speaking HTTP/1.1: reads a request (bounded header and body, a deadline
// per read), routes it, writes the response, repeats while keep-alive; hands the socket to the
// WebSocket transport on an upgrade (advanced_server_flex's hand-off). Lives on its shard's thread.
#include <boost/asio/ip/tcp.hpp>
#include <memory>

namespace sb::http {

struct GatewayContext;
struct Shard;

// Starts serving `socket`, which must belong to `shard`'s io_context.
void serve_http(boost::asio::ip::tcp::socket socket, Shard& shard, GatewayContext& context);

}  // namespace sb::http
