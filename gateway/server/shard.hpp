#pragma once
// Everything one event-loop thread owns: its io_context, its connections and heartbeat, its slice of the
// hub registry, its upstream client and dispatcher, and the routes its HTTP sessions use. Nothing here
// is touched from another thread except through posts to `io`.
//
// The rule for `this` in handlers: a member of a Shard may capture `this` in its own timers' and posts'
// handlers without a liveness flag. `io` is declared first, so it is destroyed last, and the gateway
// stops it (run() returns on every thread) before any Shard is destroyed: handlers still queued then
// are destroyed with the io_context, never run. Objects that live shorter than their shard (sessions,
// transports, connections, upstream calls) hold themselves with shared_from_this() instead.
#include <boost/asio/io_context.hpp>
#include <memory>

#include "connection/connection_set.hpp"
#include "http/router.hpp"
#include "http/unauthenticated_sessions.hpp"
#include "hub/hub_registry.hpp"
#include "server/hub_dispatcher.hpp"
#include "server/shard_drain.hpp"
#include "upstream/http_client.hpp"
#include "upstream/reliable_upstream.hpp"

namespace sb::server {

struct Shard {
  explicit Shard(const config::Config& config, std::size_t thread_count)
      : io(1),  // concurrency hint 1: one thread runs this context, so Asio can skip its locking
        connections(io.get_executor()),
        upstream(io.get_executor(),
                 upstream::HttpClientLimits{
                     config.upstream.timeout, std::max<std::size_t>(1, config.upstream.max_concurrency / thread_count),
                     100'000, config.upstream.max_response_bytes, std::chrono::milliseconds(4'000)}),
        reliable_upstream(
            io.get_executor(), upstream,
            upstream::RetryPolicy{config.upstream.retries + 1, std::chrono::milliseconds(200),
                                  std::chrono::milliseconds(5'000)},
            upstream::CircuitPolicy{
                config.upstream.circuit_failures == 0 ? static_cast<std::size_t>(-1) : config.upstream.circuit_failures,
                config.upstream.circuit_open}),
        drain(io.get_executor(), connections) {}

  boost::asio::io_context io;
  connection::ConnectionSet connections;
  hub::HubRegistry registry;
  upstream::HttpClient upstream;
  upstream::ReliableUpstream reliable_upstream;
  std::unique_ptr<HubDispatcher> dispatcher;  // needs the backplane, which needs every shard: set after
  ShardDrain drain;
  http::Router routes;        // set once the dispatcher is (server/routes.cpp)
  http::Router admin_routes;  // --admin-listen: the console's routes, for that listener's sessions
  http::UnauthenticatedSessions waiting_sessions;  // evicted oldest first at --max-connections
};

}  // namespace sb::server
