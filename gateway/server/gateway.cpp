#include "server/gateway.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <functional>

#include "backplane/in_process_backplane.hpp"
#include "backplane/redis_backplane.hpp"
#include "http/cors_policy.hpp"
#include "server/descriptor_limit.hpp"
#include "common/log.hpp"
#include "common/log_throttle.hpp"
#include "common/metrics.hpp"
#include "config/connection_string.hpp"
#include "console/console_routes.hpp"
#include "console/live_trace.hpp"
#include "console/stats_sampler.hpp"
#include "http/http_session.hpp"
#include "http/rest_api.hpp"
#include "http/tls_certificates.hpp"
#include "hub/message_encoding.hpp"
#include "listener/socket_limits.hpp"
#include "server/checkpoint_writer.hpp"
#include "server/follow_ups.hpp"
#include "server/function_state_notice.hpp"
#include "server/gateway_context.hpp"
#include "server/routes.hpp"
#include "server/server_log.hpp"
#include "server/shard.hpp"

namespace sb::server {

namespace asio = boost::asio;

namespace {

// --public-endpoint as an origin (scheme://host[:port], the port only when it is not the scheme's
// default); empty without it.
std::string public_origin(const config::ServerConfig& server) {
  if (server.public_host.empty()) return {};
  const bool is_default_port = server.public_port == 0 || (server.public_scheme == "https" && server.public_port == 443) ||
                               (server.public_scheme == "http" && server.public_port == 80);
  return server.public_scheme + "://" + server.public_host + (is_default_port ? "" : ":" + std::to_string(server.public_port));
}

}  // namespace
using tcp = asio::ip::tcp;
using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;

struct Gateway::State {
  State(const config::Config& c, std::string version_text)
      : config(c),
        version(std::move(version_text)),
        keys(std::make_shared<const auth::KeyRing>(auth::KeyRing{c.access_keys})),
        admission(c.limits, c.connection.negotiate_timeout) {
    for (unsigned i = 0; i < c.server.threads; ++i) shards.push_back(std::make_unique<Shard>(c, c.server.threads));
    std::vector<backplane::InProcessBackplane::Shard> backplane_shards;
    for (auto& s : shards) backplane_shards.push_back({s->io.get_executor(), &s->registry});
    if (c.redis.url.empty()) {
      backplane = std::make_unique<backplane::InProcessBackplane>(std::move(backplane_shards));
    } else {
      // A dead gateway's connections, claimed by this one: their `disconnected` go out from the shards
      // in turn (each shard has its own upstream client).
      auto redis_backplane = std::make_unique<backplane::RedisBackplane>(
          c.redis, c.access_keys, c.connection.stateful_reconnect_window, std::move(backplane_shards),
          [this](connection::ConnectionIdentity identity) {
            Shard& shard = *shards[next_orphan_shard++ % shards.size()];
            asio::post(shard.io, [&shard, identity = std::move(identity)] {
              shard.dispatcher->deliver_orphan_disconnected(identity);
            });
          });
      redis = redis_backplane.get();
      backplane = std::move(redis_backplane);
    }
    for (auto& s : shards)
      s->dispatcher = std::make_unique<HubDispatcher>(s->io.get_executor(), c, keys, s->registry, s->reliable_upstream,
                                                      *backplane, admission);
    if (!c.upstream.down_target.empty()) {
      std::vector<Shard*> all;
      for (auto& s : shards) all.push_back(s.get());
      function_state_notices = std::make_unique<FunctionStateNotices>(std::move(all), c.upstream.rules, c.upstream.down_target);
      for (auto& s : shards)
        s->reliable_upstream.set_circuit_listener([notices = function_state_notices.get()](const std::string& function, bool is_open) {
          notices->on_circuit_change(function, is_open);
        });
    }
    if (!c.server.admin_key.empty()) start_console();
    // Follow-ups other gateways relay here run as if they had come here (server/follow_ups.hpp).
    backplane->serve_relayed([this](backplane::FollowUp request, std::function<void(backplane::FollowUpAnswer)> answer) {
      if (request.kind == backplane::RelayKind::console) return serve_relayed_console(std::move(request), std::move(answer));
      if (request.kind == backplane::RelayKind::invoke) request.answer_within = config.connection.client_invoke_timeout;
      serve_relayed_follow_up(directory, std::move(request), std::move(answer));
    });
    context = std::make_unique<GatewayContext>(
        GatewayContext{config, keys, directory, *backplane, is_ready, is_draining, admission});
    auth::JwtLimits token_limits;
    token_limits.max_lifetime = std::chrono::duration_cast<std::chrono::seconds>(c.limits.max_token_lifetime);
    rest = std::make_unique<http::RestContext>(http::RestContext{
        keys, *backplane, token_limits, c.server.public_host,
        [this](backplane::FollowUp request, asio::any_io_executor reply_on, backplane::Backplane::RelayDone done) {
          run_follow_up_anywhere(directory, *backplane, std::move(request), std::move(reply_on), std::move(done));
        },
        c.connection.client_invoke_timeout,
        public_origin(c.server), !c.server.tls_cert_file.empty()});
    session_settings.request_timeout = c.server.request_timeout;
    session_settings.header_timeout = c.server.header_timeout;
    session_settings.min_body_rate = c.server.min_body_rate;
    session_settings.max_body_bytes = c.rest.max_body_bytes;
    session_settings.max_url_bytes = c.server.max_url_bytes;
    session_settings.max_query_parameters = c.server.max_query_parameters;
    session_settings.is_draining = &is_draining;
    for (auto& s : shards) {
      s->routes = make_routes(*s, *context, *rest);
      if (console_api)
        console::add_console_routes(c.server.has_admin_listen ? s->admin_routes : s->routes,
                                    {std::make_shared<const console::AdminAuth>(c.server.admin_key, c.server.admin_read_key), console_api,
                                     !c.server.tls_cert_file.empty()});
    }
  }

  // The operator console (--admin-key): its samples, and its API over every shard's registry.
  void start_console() {
    auto id = backplane->gateway_id();
    if (id.empty()) id = "local";  // no fleet: this gateway is the only one
    console::live_trace().set_gateway_id(id);
    const auto started_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
    stats_sampler = std::make_unique<console::StatsSampler>(
        main_io().get_executor(), console::StatsSampler::Identity{id, version, started_at},
        [this] { return is_draining.load(); },
        [this](std::string sample) { backplane->publish_console_sample(std::move(sample)); });
    console::ConsoleServices services;
    for (auto& s : shards) services.shards.push_back({s->io.get_executor(), &s->registry});
    services.backplane = backplane.get();
    services.sampler = stats_sampler.get();
    services.gateway_id = id;
    services.drain = [this] {
      asio::post(main_io(), [this] {
        if (!is_draining.load()) begin_shutdown();  // a second click must not hurry it (a second SIGTERM does)
      });
    };
    services.redis_state = [this] { return !redis ? "off" : redis->is_degraded() ? "degraded" : "ready"; };
    services.executor = main_io().get_executor();
    console_api = std::make_shared<console::ConsoleApi>(std::move(services));
  }

  // A console question another gateway's console relayed here ("GET hubs?hub=x", body).
  void serve_relayed_console(backplane::FollowUp request, std::function<void(backplane::FollowUpAnswer)> answer) {
    if (!console_api)
      return answer({404, "application/json", R"({"code":"console_off","message":"That gateway has no --admin-key."})"});
    std::string_view line = request.connection_id;
    const bool is_post = line.substr(0, 5) == "POST ";
    line.remove_prefix(std::min(line.size(), line.find(' ') == std::string_view::npos ? line.size() : line.find(' ') + 1));
    auto question = line.find('?');
    auto route = std::string(line.substr(0, question));
    auto query = question == std::string_view::npos ? std::string() : std::string(line.substr(question + 1));
    console_api->answer(is_post, route, query, std::move(request.body), /*relayed=*/true, main_io().get_executor(),
                        [answer = std::move(answer)](console::ApiAnswer a) {
                          answer({static_cast<std::uint16_t>(a.status), "application/json", std::move(a.body)});
                        });
  }

  asio::io_context& main_io() { return shards[0]->io; }

  const config::Config& config;
  std::string version;
  std::shared_ptr<const auth::KeyRing> keys;
  Admission admission;
  ConnectionDirectory directory;
  // Set once the descriptor limit is known. Declared before the shards: the sessions and transports
  // their io_contexts still hold give their counts back to it as they are destroyed.
  std::unique_ptr<listener::SocketLimits> socket_limits;
  // --upstream-down-target; before the shards, whose circuits call it until they are gone.
  std::unique_ptr<FunctionStateNotices> function_state_notices;
  std::vector<std::unique_ptr<Shard>> shards;
  std::unique_ptr<backplane::Backplane> backplane;
  backplane::RedisBackplane* redis = nullptr;  // the backplane, when --redis is given
  std::atomic<std::size_t> next_orphan_shard{0};  // bumped on the backplane thread only
  std::atomic<bool> is_ready{false};
  std::atomic<bool> is_draining{false};
  std::unique_ptr<GatewayContext> context;
  std::unique_ptr<http::RestContext> rest;
  // The console, with --admin-key: after the shards, whose io_contexts its timer and API use.
  std::unique_ptr<console::StatsSampler> stats_sampler;
  std::shared_ptr<console::ConsoleApi> console_api;
  http::HttpSessionSettings session_settings;
  std::unique_ptr<http::TlsCertificates> tls;  // --tls-cert: the listener speaks TLS only
  // One listener: the main one (clients, REST, probes; the console unless --admin-listen) or the
  // console's own. Its sockets go to the shards in turn and are served with `routes` of that shard.
  struct Listener {
    std::unique_ptr<tcp::acceptor> acceptor;
    std::unique_ptr<asio::steady_timer> pause;  // on the acceptor's executor
    http::Router Shard::*routes = &Shard::routes;
    std::size_t next_shard = 0;
  };

  Listener main_listener;
  Listener admin_listener;  // --admin-listen only
  static constexpr auto accept_retry_pause = std::chrono::milliseconds(50);
  log::LogThrottle accept_failure_log{std::chrono::seconds(1)};
  std::vector<WorkGuard> guards;
  std::vector<std::unique_ptr<asio::steady_timer>> expiry_timers;
  std::vector<std::unique_ptr<CheckpointWriter>> checkpoint_writers;  // the fleet log only
  std::unique_ptr<asio::steady_timer> drain_timer;
  // Per shard, refreshed every check: live connections, and opened ones whose `disconnected` is not
  // delivered yet.
  struct ShardProgress {
    std::atomic<std::size_t> connections{0};
    std::atomic<std::size_t> undelivered{0};
  };
  std::vector<std::unique_ptr<ShardProgress>> progress;
  std::chrono::steady_clock::time_point exit_deadline;
  std::chrono::steady_clock::time_point next_progress_log;
  bool is_first_check = true;

  void do_accept(Listener& listener) {
    Shard& target = *shards[listener.next_shard];
    listener.next_shard = (listener.next_shard + 1) % shards.size();
    // The socket is created on the target thread's context; the connection lives there for good.
    listener.acceptor->async_accept(target.io, [this, &listener, &target](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        boost::system::error_code address_ec;
        auto peer = socket.remote_endpoint(address_ec);
        auto socket_admission = socket_limits->admit(address_ec ? asio::ip::address() : peer.address());
        asio::post(target.io, [this, &target, routes = listener.routes, socket = std::move(socket),
                               socket_admission = std::move(socket_admission)]() mutable {
          http::HttpSession::serve(std::move(socket), std::move(socket_admission), session_settings, target.*routes,
                                   target.waiting_sessions);
        });
        do_accept(listener);
        return;
      }
      // E.g. out of file descriptors (EMFILE): the pending connection stays in the backlog, so accepting
      // again at once fails again at once and spins a core. Pause, and log once a second at most.
      if (auto skipped = accept_failure_log.admit(std::chrono::steady_clock::now()))
        log::emit(log_events::accept_failed, {{"error", ec.message()}, {"skipped", *skipped}});
      listener.pause->expires_after(accept_retry_pause);
      listener.pause->async_wait([this, &listener](boost::system::error_code wait_ec) {
        if (!wait_ec && listener.acceptor->is_open()) do_accept(listener);
      });
    });
  }

  // Opens, binds and listens; the error's text, or nullopt.
  std::optional<std::string> open_listener(Listener& listener, const std::string& host, std::uint16_t port) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) return "'" + host + "' is not an IP address";
    tcp::endpoint endpoint(address, port);
    listener.acceptor = std::make_unique<tcp::acceptor>(main_io());
    listener.pause = std::make_unique<asio::steady_timer>(main_io());
    listener.acceptor->open(endpoint.protocol(), ec);
    if (!ec) listener.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) listener.acceptor->bind(endpoint, ec);
    if (!ec) listener.acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message();
    return std::nullopt;
  }

  void close_listener(Listener& listener) {
    if (!listener.acceptor) return;
    boost::system::error_code ignored;
    listener.pause->cancel();
    listener.acceptor->close(ignored);  // a successor may bind the port now (it sets SO_REUSEADDR, as we do)
  }

  // SIGHUP: read the certificate and key again. Disk on a loop thread breaks STYLE.md's rule on purpose:
  // two small local files, read when an operator asks, and a failure must be reported where they look.
  void reload_tls() {
    if (auto error = tls->reload()) {
      metrics().tls_reload_failures.inc();
      log::emit(log_events::tls_reload_failed, {{"error", *error}});
      return;
    }
    log::emit(log_events::tls_reloaded, {{"cert", config.server.tls_cert_file}, {"sha256", tls->fingerprint()}});
  }

  void start_membership_expiry(Shard& shard, asio::steady_timer& timer) {
    timer.expires_after(std::chrono::seconds(5));
    timer.async_wait([this, &shard, &timer](boost::system::error_code ec) {
      if (ec) return;
      shard.registry.expire_memberships(std::chrono::system_clock::now());
      start_membership_expiry(shard, timer);
    });
  }

  // SIGTERM/SIGINT (PROTOCOL.md part 3 §3.6): stop accepting, fail readiness, then let each shard drain
  // (shard_drain.hpp); the loops stop once every connection is gone and its `disconnected` delivered, or
  // `final_grace` after the timeout. A second signal closes whatever is left at once.
  void begin_shutdown() {
    if (is_draining.exchange(true)) {
      log::emit(log_events::shutdown_hurried);
      for (auto& shard : shards) asio::post(shard->io, [&s = *shard] { s.drain.hurry(); });
      return;
    }
    is_ready = false;
    metrics().draining.set(1);
    const auto& shutdown = config.shutdown;
    bool is_reconnect = shutdown.mode == config::ShutdownMode::reconnect;
    log::emit(log_events::shutdown_started,
              {{"mode", is_reconnect ? "reconnect" : "wait"},
               {"timeout_ms", shutdown.timeout.count()},
               {"spread_ms", is_reconnect ? shutdown.spread.count() : 0},
               {"message", shutdown.message_target.empty() ? "(none)" : shutdown.message_target}});
    close_listener(main_listener);
    close_listener(admin_listener);

    auto now = std::chrono::steady_clock::now();
    DrainPlan plan;
    plan.mode = shutdown.mode;
    plan.started_at = now;
    plan.spread = std::min(shutdown.spread, shutdown.timeout);
    plan.close_all_at = now + shutdown.timeout;
    plan.hands_over = is_reconnect && redis && !redis->is_degraded();
    if (!shutdown.message_target.empty())
      plan.message = hub::encode_invocation(shutdown.message_target, shutdown.message_arguments_json);
    for (auto& shard : shards) asio::post(shard->io, [&s = *shard, plan] { s.drain.start(plan); });

    exit_deadline = plan.close_all_at + final_grace;
    next_progress_log = now + std::chrono::seconds(1);
    drain_timer = std::make_unique<asio::steady_timer>(main_io());
    for (std::size_t i = 0; i < shards.size(); ++i) progress.push_back(std::make_unique<ShardProgress>());
    check_drained();
  }

  // After the timeout closed the last connections, their `disconnected` events get this long to reach
  // the function (one upstream attempt, or a few quick retries) before the process exits anyway.
  static constexpr auto final_grace = std::chrono::seconds(5);

  // Every 50 ms each shard reports what it still holds; when no shard holds anything, or the exit
  // deadline passes, the loops stop. Progress is logged once a second.
  void check_drained() {
    std::size_t connections = 0, undelivered = 0;
    for (auto& p : progress) {
      connections += p->connections.load();
      undelivered += p->undelivered.load();
    }
    bool busy = is_first_check || connections > 0 || undelivered > 0;
    is_first_check = false;  // the first check runs before any shard reported
    auto now = std::chrono::steady_clock::now();
    metrics().shutdown_remaining.set(static_cast<std::int64_t>(std::max(connections, undelivered)));
    if (!busy || now >= exit_deadline) {
      if (busy)
        log::emit(log_events::shutdown_timeout,
                  {{"connections", connections}, {"undelivered_disconnected", undelivered}});
      else
        log::emit(log_events::shutdown_drained);
      for (auto& g : guards) g.reset();
      for (auto& s : shards) s->io.stop();
      return;
    }
    if (now >= next_progress_log) {
      next_progress_log = now + std::chrono::seconds(1);
      log::emit(log_events::shutdown_progress,
                {{"connections", connections}, {"undelivered_disconnected", undelivered}});
    }
    for (std::size_t i = 0; i < shards.size(); ++i) {
      asio::post(shards[i]->io, [&s = *shards[i], &p = *progress[i]] {
        p.connections = s.connections.size();
        p.undelivered = s.dispatcher->live_connections();
      });
    }
    drain_timer->expires_after(std::chrono::milliseconds(50));
    drain_timer->async_wait([this](boost::system::error_code ec) {
      if (!ec) check_drained();
    });
  }
};

Gateway::Gateway(const config::Config& config, std::string version)
    : state_(std::make_unique<State>(config, std::move(version))) {
  http::set_allowed_origins(config.server.cors_origins);  // before any thread serves
}
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
      log::emit(log_events::handler_exception, {{"what", e.what()}});
    }
  }
}

}  // namespace

int Gateway::run() {
  auto& s = *state_;
  const auto& server = s.config.server;
  if (s.redis)
    if (auto error = s.redis->prepare()) {
      std::fprintf(stderr, "switchboard: %s\n", error->c_str());
      return 2;
    }
  if (!server.tls_cert_file.empty()) {
    s.tls = std::make_unique<http::TlsCertificates>(server.tls_cert_file, server.tls_key_file, server.tls_ciphers);
    if (auto error = s.tls->reload()) {
      std::fprintf(stderr, "switchboard: %s\n", error->c_str());
      return 2;
    }
    s.session_settings.tls = s.tls.get();
  }
  if (auto error = s.open_listener(s.main_listener, server.listen_host, server.listen_port)) {
    std::fprintf(stderr, "switchboard: --listen: %s\n", error->c_str());
    return error->rfind("cannot listen", 0) == 0 ? 1 : 2;
  }
  if (server.has_admin_listen) {
    s.admin_listener.routes = &Shard::admin_routes;
    if (auto error = s.open_listener(s.admin_listener, server.admin_listen_host, server.admin_listen_port)) {
      std::fprintf(stderr, "switchboard: --admin-listen: %s\n", error->c_str());
      return error->rfind("cannot listen", 0) == 0 ? 1 : 2;
    }
  }
  auto port = s.main_listener.acceptor->local_endpoint().port();

  for (auto& shard : s.shards) {
    s.guards.emplace_back(shard->io.get_executor());
    shard->connections.start_heartbeat();
    s.expiry_timers.push_back(std::make_unique<asio::steady_timer>(shard->io));
    s.start_membership_expiry(*shard, *s.expiry_timers.back());
    if (s.backplane->has_ordered_log()) {
      s.checkpoint_writers.push_back(std::make_unique<CheckpointWriter>(*shard, *s.backplane, s.config.redis.checkpoint_interval));
      s.checkpoint_writers.back()->start();
    }
  }
  asio::signal_set signals(s.main_io(), SIGINT, SIGTERM);
  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code error, int) {
    if (error) return;
    s.begin_shutdown();
    signals.async_wait(on_signal);  // a second signal hurries the drain
  };
  signals.async_wait(on_signal);
  asio::signal_set reload_signals(s.main_io());
  std::function<void(boost::system::error_code, int)> on_reload = [&](boost::system::error_code error, int) {
    if (error) return;
    s.reload_tls();
    reload_signals.async_wait(on_reload);
  };
  if (s.tls) {  // without TLS, SIGHUP keeps its default meaning
    reload_signals.add(SIGHUP);
    reload_signals.async_wait(on_reload);
  }
  const auto descriptors = raise_descriptor_limit();  // before the first accept
  s.socket_limits = std::make_unique<listener::SocketLimits>(listener::SocketLimitSettings{
      server.max_connections != 0 ? server.max_connections : automatic_max_connections(descriptors.after),
      server.max_unauthenticated_per_address, server.max_unauthenticated_bytes});
  s.session_settings.limits = s.socket_limits.get();
  s.do_accept(s.main_listener);
  if (s.admin_listener.acceptor) s.do_accept(s.admin_listener);
  s.is_ready = true;
  if (s.stats_sampler) s.stats_sampler->start();

  std::string host = server.listen_host;
  // The connection string names an address clients can use: --public-endpoint's, else the listen
  // address, with a wildcard read as loopback (not "localhost", which Node resolves to ::1 first).
  std::string display_host = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host;
  if (display_host.find(':') != std::string::npos) display_host = "[" + display_host + "]";
  const char* scheme = s.tls ? "https" : "http";
  std::string display_scheme = scheme;
  unsigned display_port = port;
  if (!server.public_host.empty()) {
    display_host = server.public_host;
    display_scheme = server.public_scheme;
    display_port = server.public_port;
  }
  std::printf("switchboard listening on %s://%s:%u\n", scheme,
              host.find(':') != std::string::npos ? ("[" + host + "]").c_str() : host.c_str(), port);
  if (s.admin_listener.acceptor) {
    const auto& admin_host = server.admin_listen_host;
    std::printf("switchboard console on %s://%s:%u/admin/\n", scheme,
                admin_host.find(':') != std::string::npos ? ("[" + admin_host + "]").c_str() : admin_host.c_str(),
                s.admin_listener.acceptor->local_endpoint().port());
  }
  std::printf("connection string: %s\n",
              config::format_connection_string(display_host, display_port,
                                               s.config.shows_access_key ? s.config.access_keys.front() : "***",
                                               display_scheme)
                  .c_str());
  std::fflush(stdout);
  log::emit(log_events::descriptor_limit,
            {{"before", descriptors.before}, {"after", descriptors.after}, {"hard", descriptors.hard},
             {"max_connections", s.socket_limits->settings().max_connections}});
  log::emit(log_events::started, {{"port", port}, {"tls", s.tls ? "on" : "off"}, {"threads", s.shards.size()}, {"upstream_rules", s.config.upstream.rules.size()}});

  if (s.redis) s.redis->start();
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < s.shards.size(); ++i) threads.emplace_back([&io = s.shards[i]->io] { run_loop(io); });
  run_loop(s.main_io());
  for (auto& t : threads) t.join();
  console::live_trace().end_all();  // live-trace streams still open end with their loops
  // The drain closed every connection (each left Redis's state as it went); now the lease goes too,
  // so no other gateway reaps us. Bounded: Redis may be down.
  if (s.redis) s.redis->stop(std::chrono::seconds(2));
  log::emit(log_events::stopped);
  return 0;
}

}  // namespace sb::server
