// notifications-sample: per-user notifications pushed to a fleet of gateways. Serves the page, sign-in,
// /api/negotiate (the gateways in turn) and /api/notify (sent through the first gateway, which
// reaches the user on any gateway of the fleet); prints "notifications: http://HOST:PORT/" once it
// accepts connections; exits 0 on SIGTERM/SIGINT.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <switchboard/functions.hpp>

#include "demo_notifier.hpp"
#include "notifications_options.hpp"
#include "notifications_routes.hpp"
#include "notifier.hpp"

namespace {

constexpr int kExitUsage = 2;

// A gateway URL and the fleet's key as the runtime's endpoint type, checked by its parser.
switchboard::ServiceEndpoint gateway_endpoint(const std::string& url, const std::string& access_key) {
  // ';' separates a connection string's parts: one here would be read as another part.
  if (url.find(';') != std::string::npos) throw std::invalid_argument("--gateway " + url + ": ';' is not allowed");
  if (access_key.find(';') != std::string::npos) throw std::invalid_argument("--access-key: ';' is not allowed");
  try {
    return switchboard::ServiceEndpoint::parse("Endpoint=" + url + ";AccessKey=" + access_key + ";Version=1.0;");
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument("--gateway " + url + ": " + error.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals in every thread (the server's pool and the demo thread inherit this mask)
  // so that one thread can take them with sigwait() and stop the server outside any signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  notifications::NotificationsOptions options;
  std::vector<switchboard::ServiceEndpoint> gateways;
  std::optional<switchboard::SessionCookie> sessions;
  try {
    options = notifications::parse_notifications_options(argc, argv);
    if (options.is_help_requested) {
      std::fputs(notifications::kNotificationsUsage, stdout);
      return 0;
    }
    for (const auto& url : options.gateways) gateways.push_back(gateway_endpoint(url, options.access_key));
    // Named for this sample: cookies ignore ports, so the other samples on this host have their own.
    const switchboard::SessionCookieOptions cookie{.name = "notifications_session"};
    if (options.session_secret.empty()) {
      std::fputs("notifications-sample: no --session-secret, so a random one: restarting signs everyone out\n", stderr);
      sessions.emplace(switchboard::SessionCookie::random_secret(), cookie);
    } else {
      sessions.emplace(options.session_secret, cookie);  // throws when the secret is too short
    }
    if (options.notify_key.empty()) {
      std::fputs("notifications-sample: no --notify-key, so POST /api/notify answers 403 (the page's form works)\n",
                 stderr);
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "notifications-sample: %s\n\n%s", error.what(), notifications::kNotificationsUsage);
    return kExitUsage;
  }

  // No upstream events come here (the hub has no functions), but App checks them all the same should
  // a gateway be pointed at us, and it is the HTTP server the routes hang on.
  switchboard::App app({.access_keys = {options.access_key}});
  switchboard::RestClient rest(gateways.front());
  notifications::Notifier notifier(rest, gateways.front().endpoint);
  try {
    notifications::add_notifications_routes(app, gateways, notifier, *sessions, options.notify_key, options.public_dir,
                                            options.signalr_js);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "notifications-sample: %s\n", error.what());
    return kExitUsage;
  }

  int port = options.port;
  if (port == 0) {
    port = app.bind_to_any_port(options.host);
  } else if (!app.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port < 0) {
    std::fprintf(stderr, "notifications-sample: cannot listen on %s:%d\n", options.host.c_str(), options.port);
    return 1;
  }

  std::thread signal_waiter([&app, &stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    app.stop();
  });

  std::unique_ptr<notifications::DemoNotifier> demo;
  if (options.demo_every.count() > 0) {
    demo = std::make_unique<notifications::DemoNotifier>(notifier, options.demo_every);
  }

  // The socket is listening once bound, so connections made from here on wait for the accept loop.
  std::printf("notifications: http://%s:%d/\n", options.host.c_str(), port);
  std::fflush(stdout);

  const bool is_clean_stop = app.listen_after_bind();
  demo.reset();  // before the notifier and the REST client it uses
  // If the server ended without a signal, wake the waiter; if a signal stopped it, this is a no-op.
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  return is_clean_stop ? 0 : 1;
}
