// presence-sample: who is online, on Switchboard. Serves the page, sign-in, /api/negotiate, /api/online
// and the hub's functions at /upstream; prints "presence: http://HOST:PORT/" once it accepts connections;
// exits 0 on SIGTERM/SIGINT.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <exception>
#include <optional>
#include <thread>

#include <switchboard/functions.hpp>

#include "presence_hub.hpp"
#include "presence_options.hpp"
#include "presence_routes.hpp"

namespace {

constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals in every thread (the server's pool inherits this mask) so that one
  // thread can take them with sigwait() and stop the server outside any signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  presence::PresenceOptions options;
  switchboard::ServiceEndpoint endpoint;
  std::optional<switchboard::SessionCookie> sessions;
  try {
    options = presence::parse_presence_options(argc, argv);
    if (options.is_help_requested) {
      std::fputs(presence::kPresenceUsage, stdout);
      return 0;
    }
    endpoint = switchboard::ServiceEndpoint::parse(options.connection_string);
    // Named for this sample: cookies ignore ports, so the other samples on this host have their own.
    const switchboard::SessionCookieOptions cookie{.name = "presence_session"};
    if (options.session_secret.empty()) {
      std::fputs("presence-sample: no --session-secret, so a random one: restarting signs everyone out\n", stderr);
      sessions.emplace(switchboard::SessionCookie::random_secret(), cookie);
    } else {
      sessions.emplace(options.session_secret, cookie);  // throws when the secret is too short
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "presence-sample: %s\n\n%s", error.what(), presence::kPresenceUsage);
    return kExitUsage;
  }

  switchboard::App app({.access_keys = {endpoint.access_key}});
  switchboard::RestClient rest(endpoint);
  presence::add_presence_hub(app, rest);
  try {
    presence::add_presence_routes(app, endpoint, rest, *sessions, options.public_dir, options.signalr_js);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "presence-sample: %s\n", error.what());
    return kExitUsage;
  }

  int port = options.port;
  if (port == 0) {
    port = app.bind_to_any_port(options.host);
  } else if (!app.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port < 0) {
    std::fprintf(stderr, "presence-sample: cannot listen on %s:%d\n", options.host.c_str(), options.port);
    return 1;
  }

  std::thread signal_waiter([&app, &stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    app.stop();
  });

  // The socket is listening once bound, so connections made from here on wait for the accept loop.
  std::printf("presence: http://%s:%d/\n", options.host.c_str(), port);
  std::fflush(stdout);

  const bool is_clean_stop = app.listen_after_bind();
  // If the server ended without a signal, wake the waiter; if a signal stopped it, this is a no-op.
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  return is_clean_stop ? 0 : 1;
}
