#pragma once
// Who a connection is and what it tells its function: the values the layers above pass around
// (the backplane stores identities, the upstream client builds requests from events) without
// needing the connection itself.
#include <cstdint>
#include <string>
#include <vector>

#include "auth/jwt.hpp"
#include "connection/upload_streams.hpp"
#include "protocol/hub_message.hpp"

namespace sb::connection {

struct ConnectionIdentity {
  std::string connection_id;
  std::string hub;       // as the client sent it (X-ASRS-Hub)
  std::string hub_key;   // lower-cased: hubs are case-insensitive
  std::string user_id;   // empty: anonymous
  auth::Claims claims;
  std::string client_query;  // "?…" as forwarded upstream (secrets removed), or empty
  bool allows_stateful_reconnect = false;  // negotiated with useStatefulReconnect and granted
  std::vector<std::string> initial_groups;  // joined when it opens (a blocking `connect` reply's groups)
  std::int64_t token_expires_at = 0;        // unix seconds: its access token's exp (refresh moves it); 0: none
  std::string trace_parent;                 // the connect request's valid traceparent: its events' parent; or empty
  std::string trace_state;                  // with it, the connect request's tracestate (accepted_tracestate), or empty
};

// refreshed: the client presented a fresh access token (--refresh-event; docs/upstream.md "Token refresh").
enum class UpstreamEventKind { connected, message, disconnected, refreshed };

struct UpstreamEvent {
  UpstreamEventKind kind{};
  protocol::InboundMessage message;  // message events
  std::string error;                 // disconnected: why, empty when clean
  // Stateful reconnect: the client's sequence id of this message (0 otherwise). The same message
  // re-sent after a resume has the same id, on any gateway: the upstream's idempotency key.
  std::uint64_t inbound_id = 0;
  // A part of a client upload: the invocation that opened streams, or a stream's items and end (its
  // body then holds framed records). Absent for every other event.
  std::optional<UploadStep> upload{};
  // The traceparent sent with it (set when it is delivered): the upstream request's span; and the
  // tracestate that goes with its parent, passed on as it came.
  std::string trace_parent{};
  std::string trace_state{};
};

}  // namespace sb::connection
