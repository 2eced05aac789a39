#include "server/routes.hpp"

#include "common/metrics.hpp"
#include "http/http_session.hpp"
#include "http/rest_api.hpp"
#include "server/client_endpoints.hpp"
#include "server/client_transport_endpoints.hpp"
#include "server/gateway_context.hpp"
#include "server/shard.hpp"

namespace sb::server {
using namespace sb::http;  // requests, responses, the session

http::Router make_routes(Shard& shard, GatewayContext& context, http::RestContext& rest) {
  using boost::beast::http::verb;
  using Match = Router::PathMatch;
  Router router;
  auto preflight = [](HttpSession& s) { s.write(cors_preflight(s.request())); };
  auto alive = [](HttpSession& s) {
    auto response = make_response(s.request(), 200);
    response.prepare_payload();
    s.write(std::move(response));
  };
  ClientTransportEndpoints client_transports(shard, context);
  auto client = [client_transports](HttpSession& s) { client_transports.handle(s); };

  // Browsers ask before a cross-origin negotiate, connect or REST call.
  for (const char* path : {"/client", "/client/", "/client/negotiate", "/client/refresh"}) router.add({verb::options}, path, Match::exact, preflight);
  router.add({verb::options}, "/api/", Match::prefix, preflight);

  // May wait for the blocking `connect` function; the answer comes back on this thread.
  router.add("/client/negotiate", Match::exact, [&shard, &context](HttpSession& s) {
    auto session = s.shared_from_this();
    // The caller's trace continues through the negotiate: the answer names the negotiate's span.
    handle_negotiate(s.request(),
                     NegotiateServices{context, shard.reliable_upstream, s.executor(), [session] { session->authenticated(); }},
                     [session](Response response) { session->write(std::move(response)); });
  });
  router.add("/client/refresh", Match::exact, [&context](HttpSession& s) {
    auto session = s.shared_from_this();
    handle_token_refresh(s.request(), context, s.executor(), [session](Response response) { session->write(std::move(response)); });
  });
  router.add("/client", Match::exact, client);
  router.add("/client/", Match::exact, client);

  for (const char* path : {"/api/v1/health", "/api/health", "/health/live"}) router.add(path, Match::exact, alive);
  router.add("/health/ready", Match::exact, [&context](HttpSession& s) {
    bool ready = context.is_ready.load();
    // Degraded (Redis unreachable) still serves its own connections, so it stays in rotation: 200.
    const char* body = !ready ? R"({"status":"draining"})"
                       : context.backplane.is_degraded() ? R"({"status":"degraded"})"
                                                         : R"({"status":"ready"})";
    s.write(json_response(s.request(), ready ? 200 : 503, body));
  });
  router.add("/metrics", Match::exact, [](HttpSession& s) {
    s.write(text_response(s.request(), 200, metrics().render(), "text/plain; version=0.0.4"));
  });
  router.add("/api/", Match::prefix, [&rest](HttpSession& s) { handle_rest(s, rest); });
  return router;
}

}  // namespace sb::server
