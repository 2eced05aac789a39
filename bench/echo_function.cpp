// bench-echo-function: the function behind the upstream benchmarks (bench/echo.sh, bench/churn.sh),
// written on functions-runtime as a user would.
//
// Hub "bench":
//   echo(x)       sends x back to the caller as an "echo" message (and returns it to an invoke()).
//   echoGroup(x)  sends x to group "g100" as an "echo" message.
//   connected / disconnected events are counted.
// GET /stats answers {"connected":N,"disconnected":N,"messages":N}, what a benchmark waits on.
//
// Usage: bench-echo-function --listen HOST:PORT --access-key KEY [--threads N] [--tls-cert FILE --tls-key FILE]
// (with --tls-cert it serves HTTPS: bench/upstream_https.sh)

#include <switchboard/functions.hpp>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

namespace {

using switchboard::Context;
using switchboard::Json;
using switchboard::Reply;

constexpr const char* kHub = "bench";

struct Options {
  std::string host = "127.0.0.1";
  int port = 7071;
  std::string access_key;
  std::size_t threads = 1100;  // cpp-httplib holds a thread per open connection: cover the gateway's pool
  std::string tls_cert_file, tls_key_file;  // AppOptions' HTTPS
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "bench-echo-function: " << why << "\n"
            << "usage: bench-echo-function --listen HOST:PORT --access-key KEY [--threads N]"
               " [--tls-cert FILE --tls-key FILE]\n";
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(flag + " needs a value");
      return argv[++i];
    };
    try {
      if (flag == "--listen") {
        const std::string listen = value();
        const auto colon = listen.rfind(':');
        if (colon == std::string::npos) usage("--listen wants HOST:PORT");
        options.host = listen.substr(0, colon);
        options.port = std::stoi(listen.substr(colon + 1));
      } else if (flag == "--access-key") {
        options.access_key = value();
      } else if (flag == "--threads") {
        options.threads = std::stoul(value());
      } else if (flag == "--tls-cert") {
        options.tls_cert_file = value();
      } else if (flag == "--tls-key") {
        options.tls_key_file = value();
      } else {
        usage("unknown flag " + flag);
      }
    } catch (const std::logic_error&) {  // std::stoi and friends
      usage("bad number for " + flag);
    }
  }
  if (options.access_key.empty()) usage("--access-key is required");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_args(argc, argv);
  switchboard::App app({.access_keys = {options.access_key},
                        .max_threads = options.threads,
                        .tls_cert_file = options.tls_cert_file,
                        .tls_key_file = options.tls_key_file});

  std::atomic<long> connected{0}, disconnected{0}, messages{0};
  app.on_connected(kHub, [&](const Context&, Reply&) { ++connected; });
  app.on_disconnected(kHub, [&](const Context&, Reply&) { ++disconnected; });
  app.on_message(kHub, "echo", [&](const Context& ctx, Reply& reply) {
    ++messages;
    reply.send_to_connection(ctx.connection_id, "echo", ctx.arguments);
    if (ctx.invocation_id) reply.result(ctx.arguments);
  });
  app.on_message(kHub, "echoGroup", [&](const Context& ctx, Reply& reply) {
    ++messages;
    reply.send_to_group("g100", "echo", ctx.arguments);
  });
  // cpp-httplib 0.11.4 leaves Nagle on (CPPHTTPLIB_TCP_NODELAY false) and writes a response's header
  // and body separately: with the gateway's delayed ACK every reply then waits ~40 ms. functions-runtime
  // doesn't set it (yet), so the benchmark's function does. Likewise cpp-httplib closes a keep-alive
  // connection after 5 requests (CPPHTTPLIB_KEEPALIVE_MAX_COUNT), so the gateway reconnects all the time.
  app.server().set_tcp_nodelay(true);
  app.server().set_keep_alive_max_count(1000000);
  app.server().Get("/stats", [&](const httplib::Request&, httplib::Response& res) {
    const Json stats = {{"connected", connected.load()}, {"disconnected", disconnected.load()},
                        {"messages", messages.load()}};
    res.set_content(stats.dump(), "application/json");
  });

  const char* scheme = options.tls_cert_file.empty() ? "http" : "https";
  std::cout << "bench-echo-function listening on " << scheme << "://" << options.host << ":" << options.port << std::endl;
  return app.listen(options.host, options.port) ? 0 : 1;
}
