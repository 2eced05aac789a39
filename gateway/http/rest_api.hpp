#pragma once
// The data-plane REST API (PROTOCOL.md part 2 §4): every v1 operation under /api/v1/hubs/… and the
// 2022-06-01+ forms under /api/hubs/…?api-version=…, turned into actions for the backplane: a table
// of path patterns and methods (rest_api.cpp `routes()`).
#include <memory>

#include "auth/key_ring.hpp"
#include "backplane/backplane.hpp"
#include "http/http_session.hpp"

namespace sb::http {

struct RestContext {
  std::shared_ptr<const auth::KeyRing> keys;
  backplane::Backplane& backplane;
  auth::JwtLimits token_limits;  // --max-token-lifetime
  std::string public_host;       // --public-endpoint's host; empty: the request's Host header
  // :invoke (client results): runs a follow-up wherever the connection is (server/follow_ups.hpp).
  std::function<void(backplane::FollowUp, boost::asio::any_io_executor, backplane::Backplane::RelayDone)> reach_connection;
  std::chrono::milliseconds client_invoke_timeout{30'000};
  // Where the gateway is, for absolute links (presence nextLink): --public-endpoint's scheme, host and
  // port; empty: this listener's scheme and the request's Host header.
  std::string public_origin;
  bool is_tls_listener = false;
};

using Respond = std::function<void(Response)>;

// Answers the session's request, a path under /api/, exactly once (maybe later, on the session's thread).
void handle_rest(HttpSession& session, RestContext& context);

}  // namespace sb::http
