#pragma once
// The gateway's route table for one shard: the client endpoints (negotiate, connect, the transports),
// health and readiness, metrics, and the REST API, with CORS preflights for the browser-facing paths.
#include "http/router.hpp"

namespace sb::http {
struct RestContext;
}

namespace sb::server {

struct GatewayContext;
struct Shard;

http::Router make_routes(Shard& shard, GatewayContext& context, http::RestContext& rest);

}  // namespace sb::server
