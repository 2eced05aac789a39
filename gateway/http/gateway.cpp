#include "http/gateway.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <functional>

#include "backplane/in_process_backplane.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/connection_string.hpp"
#include "http/gateway_context.hpp"
#include "http/http_session.hpp"
#include "http/shard.hpp"

namespace sb::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;

struct Gateway::State {
  explicit State(const config::Config& c)
      : config(c),
        keys(std::make_shared<const auth::KeyRing>(auth::KeyRing{c.access_keys})),
        negotiated(c.connection.negotiate_timeout, 1'000'000) {
    for (unsigned i = 0; i < c.server.threads; ++i) shards.push_back(std::make_unique<Shard>(c, c.server.threads));
    std::vector<backplane::InProcessBackplane::Shard> backplane_shards;
    for (auto& s : shards) backplane_shards.push_back({s->io.get_executor(), &s->registry});
    backplane = std::make_unique<backplane::InProcessBackplane>(std::move(backplane_shards));
    for (auto& s : shards)
      s->dispatcher = std::make_unique<HubDispatcher>(s->io.get_executor(), c, keys, s->registry, s->reliable_upstream, *backplane);
    context = std::make_unique<GatewayContext>(GatewayContext{config, keys, negotiated, directory, *backplane, is_ready});
  }

  asio::io_context& main_io() { return shards[0]->io; }

  const config::Config& config;
  std::shared_ptr<const auth::KeyRing> keys;
  NegotiatedConnections negotiated;
  ConnectionDirectory directory;
  std::vector<std::unique_ptr<Shard>> shards;
  std::unique_ptr<backplane::InProcessBackplane> backplane;
  std::atomic<bool> is_ready{false};
  std::unique_ptr<GatewayContext> context;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::size_t next_shard = 0;
  std::vector<WorkGuard> guards;
  std::vector<std::unique_ptr<asio::steady_timer>> expiry_timers;
  std::unique_ptr<asio::steady_timer> drain_timer;
  std::vector<std::unique_ptr<std::atomic<bool>>> shard_busy;
  std::chrono::steady_clock::time_point drain_deadline;

  void do_accept() {
    Shard& target = *shards[next_shard];
    next_shard = (next_shard + 1) % shards.size();
    // The socket is created on the target thread's context; the connection lives there for good.
    acceptor->async_accept(target.io, [this, &target](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        asio::post(target.io, [this, &target, socket = std::move(socket)]() mutable {
          serve_http(std::move(socket), target, *context);
        });
      } else {
        log::warn("http", "accept_failed", {{"error", ec.message()}});  // e.g. out of file descriptors
      }
      do_accept();
    });
  }

  void start_membership_expiry(Shard& shard, asio::steady_timer& timer) {
    timer.expires_after(std::chrono::seconds(5));
    timer.async_wait([this, &shard, &timer](boost::system::error_code ec) {
      if (ec) return;
      shard.registry.expire_memberships(std::chrono::system_clock::now());
      start_membership_expiry(shard, timer);
    });
  }

  void begin_shutdown() {
    if (!is_ready.exchange(false) && drain_timer) return;
    log::info("gateway", "shutdown_started", {{"timeout_ms", config.shutdown_timeout.count()}});
    boost::system::error_code ignored;
    acceptor->close(ignored);
    for (auto& shard : shards) {
      asio::post(shard->io, [&s = *shard] {
        s.connections.for_each([](connection::Connection& c) {
          c.close({"server_shutdown", "Server is shutting down.", true});
        });
      });
    }
    drain_deadline = std::chrono::steady_clock::now() + config.shutdown_timeout;
    drain_timer = std::make_unique<asio::steady_timer>(main_io());
    for (std::size_t i = 0; i < shards.size(); ++i) shard_busy.push_back(std::make_unique<std::atomic<bool>>(true));
    check_drained();
  }

  // Every 50 ms each shard reports whether it still has connections or undelivered `disconnected`
  // events; when none has, or the timeout passes, the loops stop.
  void check_drained() {
    bool busy = false;
    for (auto& b : shard_busy) busy = busy || b->load();
    if (!busy || std::chrono::steady_clock::now() >= drain_deadline) {
      if (busy) log::warn("gateway", "shutdown_timeout", {});
      for (auto& g : guards) g.reset();
      for (auto& s : shards) s->io.stop();
      return;
    }
    for (std::size_t i = 0; i < shards.size(); ++i) {
      asio::post(shards[i]->io, [&s = *shards[i], &flag = *shard_busy[i]] {
        flag = s.connections.size() > 0 || s.dispatcher->live_connections() > 0;
      });
    }
    drain_timer->expires_after(std::chrono::milliseconds(50));
    drain_timer->async_wait([this](boost::system::error_code ec) {
      if (!ec) check_drained();
    });
  }
};

Gateway::Gateway(const config::Config& config) : state_(std::make_unique<State>(config)) {}
Gateway::~Gateway() = default;

namespace {

// The last line of defence: an exception escaping a handler is a bug, but it must not take the thread
// (and every connection on it) down.
void run_loop(asio::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      metrics().handler_exceptions.inc();
      log::error("gateway", "handler_exception", {{"what", e.what()}});
    }
  }
}

}  // namespace

int Gateway::run() {
  auto& s = *state_;
  const auto& server = s.config.server;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(server.listen_host, ec);
  if (ec) {
    std::fprintf(stderr, "switchboard: --listen: '%s' is not an IP address\n", server.listen_host.c_str());
    return 2;
  }
  tcp::endpoint endpoint(address, server.listen_port);
  s.acceptor = std::make_unique<tcp::acceptor>(s.main_io());
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "switchboard: cannot listen on %s:%u: %s\n", server.listen_host.c_str(), server.listen_port,
                 ec.message().c_str());
    return 1;
  }
  auto port = s.acceptor->local_endpoint().port();

  for (auto& shard : s.shards) {
    s.guards.emplace_back(shard->io.get_executor());
    shard->connections.start_heartbeat();
    s.expiry_timers.push_back(std::make_unique<asio::steady_timer>(shard->io));
    s.start_membership_expiry(*shard, *s.expiry_timers.back());
  }
  asio::signal_set signals(s.main_io(), SIGINT, SIGTERM);
  signals.async_wait([&s](boost::system::error_code error, int) {
    if (!error) s.begin_shutdown();
  });
  s.do_accept();
  s.is_ready = true;

  std::string host = server.listen_host;
  std::string display_host = host == "0.0.0.0" || host == "::" ? "localhost" : host;
  if (display_host.find(':') != std::string::npos) display_host = "[" + display_host + "]";
  std::printf("switchboard listening on http://%s:%u\n", host.find(':') != std::string::npos ? ("[" + host + "]").c_str() : host.c_str(), port);
  std::printf("connection string: %s\n",
              config::format_connection_string(display_host, port, s.config.access_keys.front()).c_str());
  std::fflush(stdout);
  log::info("gateway", "started", {{"port", port}, {"threads", s.shards.size()}, {"upstream_rules", s.config.upstream.rules.size()}});

  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < s.shards.size(); ++i) threads.emplace_back([&io = s.shards[i]->io] { run_loop(io); });
  run_loop(s.main_io());
  for (auto& t : threads) t.join();
  log::info("gateway", "stopped", {});
  return 0;
}

}  // namespace sb::http
