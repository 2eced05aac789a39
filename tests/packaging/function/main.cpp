// The function tests/packaging/run.sh builds outside the repository's build, once per way of using
// functions-runtime (find_package, FetchContent, pkg-config, the Debian package). On its hub it answers
// invoke("echo", x) with {"echo": x, "builtWith": BUILT_WITH}, so the test knows which build answered,
// and GET /api/negotiate with a token for the user "packaging" (a test stands in for sign-in).
//
// Usage: SWITCHBOARD_CONNECTION_STRING=... packaging-function HUB
// Prints "packaging-function listening on http://127.0.0.1:PORT" once it accepts connections.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <switchboard/functions.hpp>

#ifndef BUILT_WITH
#error "define BUILT_WITH: how this build found functions-runtime"
#endif

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: SWITCHBOARD_CONNECTION_STRING=... packaging-function HUB\n");
    return 2;
  }
  const std::string hub = argv[1];
  switchboard::ServiceEndpoint endpoint;
  try {
    endpoint = switchboard::ServiceEndpoint::parse(std::getenv("SWITCHBOARD_CONNECTION_STRING"));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }

  switchboard::App app({.access_keys = {endpoint.access_key}});
  app.on_message(hub, "echo", [](const switchboard::Context& ctx, switchboard::Reply& reply) {
    reply.result(switchboard::Json{{"echo", ctx.arguments.at(0)}, {"builtWith", BUILT_WITH}});
  });
  app.server().Get("/api/negotiate", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(switchboard::negotiate(endpoint, hub, "packaging").to_json().dump(), "application/json");
  });

  const int port = app.bind_to_any_port("127.0.0.1");
  if (port < 0) {
    std::fprintf(stderr, "packaging-function: cannot bind 127.0.0.1\n");
    return 1;
  }
  std::printf("packaging-function listening on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  return app.listen_after_bind() ? 0 : 1;
}
