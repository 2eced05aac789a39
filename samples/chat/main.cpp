// chat-sample: a chat room on Switchboard. Serves the page, sign-in, /api/negotiate and the hub's
// functions at /upstream; prints "chat: http://HOST:PORT/" once it accepts connections; exits 0 on SIGTERM/SIGINT.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <exception>
#include <optional>
#include <thread>

#include <switchboard/functions.hpp>

#include "chat_hub.hpp"
#include "chat_options.hpp"
#include "chat_routes.hpp"

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

  chat::ChatOptions options;
  switchboard::ServiceEndpoint endpoint;
  std::optional<switchboard::SessionCookie> sessions;
  try {
    options = chat::parse_chat_options(argc, argv);
    if (options.is_help_requested) {
      std::fputs(chat::kChatUsage, stdout);
      return 0;
    }
    endpoint = switchboard::ServiceEndpoint::parse(options.connection_string);
    // Named for this sample: cookies ignore ports, so the other samples on this host have their own.
    const switchboard::SessionCookieOptions cookie{.name = "chat_session"};
    if (options.session_secret.empty()) {
      std::fputs("chat-sample: no --session-secret, so a random one: restarting signs everyone out\n", stderr);
      sessions.emplace(switchboard::SessionCookie::random_secret(), cookie);
    } else {
      sessions.emplace(options.session_secret, cookie);  // throws when the secret is too short
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "chat-sample: %s\n\n%s", error.what(), chat::kChatUsage);
    return kExitUsage;
  }

  switchboard::App app({.access_keys = {endpoint.access_key}});
  chat::add_chat_hub(app);
  try {
    chat::add_chat_routes(app, endpoint, *sessions, options.public_dir, options.signalr_js);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "chat-sample: %s\n", error.what());
    return kExitUsage;
  }

  int port = options.port;
  if (port == 0) {
    port = app.bind_to_any_port(options.host);
  } else if (!app.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port < 0) {
    std::fprintf(stderr, "chat-sample: cannot listen on %s:%d\n", options.host.c_str(), options.port);
    return 1;
  }

  std::thread signal_waiter([&app, &stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    app.stop();
  });

  // The socket is listening once bound, so connections made from here on wait for the accept loop.
  std::printf("chat: http://%s:%d/\n", options.host.c_str(), port);
  std::fflush(stdout);

  const bool is_clean_stop = app.listen_after_bind();
  // If the server ended without a signal, wake the waiter; if a signal stopped it, this is a no-op.
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  return is_clean_stop ? 0 : 1;
}
