#pragma once
// The client transports' endpoints on /client/?hub=H&id=T (PROTOCOL.md part 1 §2 for the statuses): the
// WebSocket upgrade and the stateful resume of a live connection, the SSE stream, long polls, and the
// POST sends and DELETE stops of SSE and long polling. Connections start on the session's shard; later
// requests for them may come to any thread and are posted to the connection's. Only server/*.cpp
// includes this.
namespace sb::http {
class HttpSession;
}

namespace sb::server {

struct GatewayContext;
struct Shard;

class ClientTransportEndpoints {
 public:
  ClientTransportEndpoints(Shard& shard, GatewayContext& context) : shard_(shard), context_(context) {}

  // Any request on /client or /client/.
  void handle(http::HttpSession& session) const;

 private:
  Shard& shard_;
  GatewayContext& context_;
};

}  // namespace sb::server
