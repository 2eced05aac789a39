// e2e-functions: the function service the end-to-end tests talk to through the gateway.
//
// It answers upstream events for hub "e2e" with the handlers the tests need, and records every event it
// receives in a thread-safe log served at GET /events (optionally ?connectionId=X), so that a test can
// check what reached the function, and in which order.
//
// Usage: e2e-functions --listen 127.0.0.1:0 --access-key KEY [--access-key KEY2]
//                      [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]
// Prints "e2e-functions listening on http://HOST:PORT" (https:// with --tls-cert) on stdout once it
// accepts connections. --tls-client-ca: only clients with a certificate that CA signed get through.

#include <algorithm>
#include <switchboard/functions.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using switchboard::Context;
using switchboard::Json;
using switchboard::Reply;

constexpr const char* kHub = "e2e";

// Turns a multimap (claims, query) into a JSON object; a key that repeats becomes an array of its values.
Json multimap_to_json(const std::multimap<std::string, std::string>& values) {
  Json out = Json::object();
  for (const auto& [key, value] : values) {
    if (!out.contains(key)) {
      out[key] = value;
    } else if (out[key].is_array()) {
      out[key].push_back(value);
    } else {
      out[key] = Json::array({out[key], value});
    }
  }
  return out;
}

// Every event the function receives, in arrival order.
class EventLog {
 public:
  void record(const Context& ctx) {
    Json entry = {
        {"hub", ctx.hub},
        {"category", ctx.category},
        {"event", ctx.event},
        {"connectionId", ctx.connection_id},
        {"userId", ctx.user_id},
        {"target", ctx.target},
        {"arguments", ctx.arguments.is_null() ? Json::array() : ctx.arguments},
        {"error", ctx.error},
        {"hasInvocationId", ctx.invocation_id.has_value()},
        {"invocationId", ctx.invocation_id.value_or("")},
        {"isStream", ctx.is_stream},
        {"streamIds", ctx.stream_ids},
        {"eventId", ctx.header("X-Switchboard-Event-Id")},
        {"idempotencyKey", ctx.header("X-Switchboard-Idempotency-Key")},
        {"claims", multimap_to_json(ctx.claims)},
        {"traceParent", ctx.trace_parent},
        {"traceState", ctx.trace_state},
    };
    if (ctx.upload) {
      entry["upload"] = {{"streamId", ctx.upload->stream_id}, {"firstSequence", ctx.upload->first_sequence},
                         {"items", ctx.upload->items.size()}, {"isComplete", ctx.upload->is_complete},
                         {"error", ctx.upload->error.value_or("")}};
    }
    const std::lock_guard lock(mutex_);
    entry["index"] = events_.size();
    events_.push_back(std::move(entry));
  }

  Json snapshot(const std::optional<std::string>& connection_id) const {
    const std::lock_guard lock(mutex_);
    if (!connection_id) return events_;
    Json out = Json::array();
    for (const auto& entry : events_) {
      if (entry["connectionId"] == *connection_id) out.push_back(entry);
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  Json events_ = Json::array();
};

const Json& arg(const Context& ctx, std::size_t i) {
  static const Json null_value;
  if (!ctx.arguments.is_array() || i >= ctx.arguments.size()) return null_value;
  return ctx.arguments[i];
}

std::string string_arg(const Context& ctx, std::size_t i) {
  const Json& value = arg(ctx, i);
  if (!value.is_string()) throw std::invalid_argument("argument " + std::to_string(i) + " must be a string");
  return value.get<std::string>();
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::vector<std::string> access_keys;
  std::string tls_cert_file, tls_key_file, tls_client_ca_file;  // AppOptions' HTTPS
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "e2e-functions: " << why << "\n"
            << "usage: e2e-functions --listen HOST:PORT --access-key KEY [--access-key KEY]...\n"
            << "                     [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]\n";
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
    if (flag == "--listen") {
      const std::string listen = value();
      const auto colon = listen.rfind(':');
      if (colon == std::string::npos) usage("--listen wants HOST:PORT");
      options.host = listen.substr(0, colon);
      try {
        options.port = std::stoi(listen.substr(colon + 1));
      } catch (const std::exception&) {
        usage("bad port in --listen");
      }
    } else if (flag == "--access-key") {
      options.access_keys.push_back(value());
    } else if (flag == "--tls-cert") {
      options.tls_cert_file = value();
    } else if (flag == "--tls-key") {
      options.tls_key_file = value();
    } else if (flag == "--tls-client-ca") {
      options.tls_client_ca_file = value();
    } else {
      usage("unknown flag " + flag);
    }
  }
  if (options.access_keys.empty()) usage("--access-key is required");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_args(argc, argv);

  switchboard::AppOptions app_options;
  app_options.access_keys = options.access_keys;
  app_options.upstream_path = "/upstream";
  app_options.tls_cert_file = options.tls_cert_file;
  app_options.tls_key_file = options.tls_key_file;
  app_options.tls_client_ca_file = options.tls_client_ca_file;
  switchboard::App app(app_options);

  EventLog log;

  // Registers a message handler that records the event before running `body`.
  auto on = [&](const std::string& target, std::function<void(const Context&, Reply&)> body) {
    app.on_message(kHub, target, [&log, body = std::move(body)](const Context& ctx, Reply& reply) {
      log.record(ctx);
      body(ctx, reply);
    });
  };

  // ?failConnected=N: the first N deliveries of a connection's `connected` answer 503, to exercise the
  // gateway's retries (every attempt is recorded, with its X-Switchboard-Event-Id).
  std::mutex attempts_mutex;
  std::map<std::string, int> connected_attempts;
  app.on_connected(kHub, [&log, &attempts_mutex, &connected_attempts](const Context& ctx, Reply& reply) {
    log.record(ctx);
    if (auto fail = ctx.query_value("failConnected"); !fail.empty()) {
      const std::lock_guard lock(attempts_mutex);
      if (connected_attempts[ctx.connection_id]++ < std::stoi(fail)) {
        reply.status(503).error("failing on purpose");
        return;
      }
    }
    if (ctx.user_id == "blocked") {
      reply.status(403).error("blocked user");
      return;
    }
    for (auto [it, end] = ctx.query.equal_range("welcome"); it != end; ++it) {
      if (it->second == "1") {
        reply.send_to_connection(ctx.connection_id, "welcome", Json::array({ctx.connection_id}));
        break;
      }
    }
  });
  app.on_disconnected(kHub, [&log](const Context& ctx, Reply&) { log.record(ctx); });
  app.on_refresh(kHub, [&log](const Context& ctx, Reply&) { log.record(ctx); });

  on("echo", [](const Context& ctx, Reply& reply) { reply.result(arg(ctx, 0)); });
  on("add", [](const Context& ctx, Reply& reply) {
    const Json& a = arg(ctx, 0);
    const Json& b = arg(ctx, 1);
    if (!a.is_number() || !b.is_number()) {
      reply.error("add wants two numbers");
    } else if (a.is_number_integer() && b.is_number_integer()) {
      reply.result(a.get<std::int64_t>() + b.get<std::int64_t>());
    } else {
      reply.result(a.get<double>() + b.get<double>());
    }
  });
  on("fail", [](const Context&, Reply& reply) { reply.error("boom"); });
  // ordered(): a result and a send back to the caller whose keys are not in sorted order, as written
  // here: the key-order test checks that they reach the client in this order.
  on("ordered", [](const Context& ctx, Reply& reply) {
    const Json value = Json::parse(R"({"zeta":1,"alpha":{"y":2,"b":[3,{"k":"v","c":null}]},"mid":"m"})");
    reply.send_to_connection(ctx.connection_id, "ordered", Json::array({value})).result(value);
  });
  // delay(ms, x): answers x after ms (at most 2 s), so that calls overlap (connection pooling tests).
  on("delay", [](const Context& ctx, Reply& reply) {
    const Json& ms = arg(ctx, 0);
    const std::int64_t wait = ms.is_number_integer() ? std::clamp<std::int64_t>(ms.get<std::int64_t>(), 0, 2000) : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    reply.result(arg(ctx, 1));
  });
  on("throw", [](const Context&, Reply&) { throw std::runtime_error("thrown"); });

  // Server-to-client streams: the test itself sends the items through the REST API under the
  // stream's id (recorded, so the test can read it from /events); badStream refuses to start.
  app.on_stream(kHub, "counter", [&log](const Context& ctx, Reply&) { log.record(ctx); });
  // replyStream(n): the stream's n items and its end, all in the reply's actions.
  app.on_stream(kHub, "replyStream", [&log](const Context& ctx, Reply& reply) {
    log.record(ctx);
    const Json& n = arg(ctx, 0);
    const std::int64_t count = n.is_number_integer() ? std::clamp<std::int64_t>(n.get<std::int64_t>(), 0, 500) : 0;
    for (std::int64_t i = 0; i < count; ++i)
      reply.stream_item(ctx.connection_id, *ctx.invocation_id, Json{{"i", i}, {"z", "last"}, {"a", "first"}}, i == count - 1);
    if (count == 0) reply.complete_stream(ctx.connection_id, *ctx.invocation_id);
  });
  app.on_stream(kHub, "badStream", [&log](const Context& ctx, Reply& reply) {
    log.record(ctx);
    reply.error("no stream for you");
  });

  // Client upload streams. sumUpload(label, stream...) answers, once every stream ended,
  // {"label", "streams": {id: {"items": [...], "gaps": n, "error": text}}, "parts": n}: every item in the
  // order received, and how many parts did not start at the number after the last one (0 when none is
  // lost, repeated or reordered). limitedUpload(stream) fails at the first part with an item above 5.
  // Every part is recorded.
  struct Upload {
    Json label;
    Json streams = Json::object();
    std::map<std::string, std::uint64_t> next_sequence;
    std::size_t open = 0, parts = 0;
  };
  auto uploads_mutex = std::make_shared<std::mutex>();
  auto uploads = std::make_shared<std::map<std::string, std::shared_ptr<Upload>>>();  // connection + stream id
  app.on_upload(kHub, "sumUpload", [&log, uploads_mutex, uploads](const Context& ctx, Reply& reply) {
    log.record(ctx);
    const std::lock_guard lock(*uploads_mutex);
    if (!ctx.upload) {
      auto upload = std::make_shared<Upload>();
      upload->label = arg(ctx, 0);
      upload->open = ctx.stream_ids.size();
      for (const auto& id : ctx.stream_ids) {
        upload->streams[id] = {{"items", Json::array()}, {"gaps", 0}, {"error", nullptr}};
        (*uploads)[ctx.connection_id + "/" + id] = upload;
      }
      return;
    }
    const auto key = ctx.connection_id + "/" + ctx.upload->stream_id;
    const auto found = uploads->find(key);
    if (found == uploads->end()) throw std::runtime_error("a part of an unknown upload stream");
    auto upload = found->second;
    ++upload->parts;
    auto& stream = upload->streams[ctx.upload->stream_id];
    auto& next = upload->next_sequence[ctx.upload->stream_id];
    if (ctx.upload->first_sequence != next) stream["gaps"] = stream["gaps"].get<int>() + 1;
    next = ctx.upload->first_sequence + ctx.upload->items.size();
    for (const auto& item : ctx.upload->items) stream["items"].push_back(item);
    if (!ctx.upload->is_complete) return;
    if (ctx.upload->error) stream["error"] = *ctx.upload->error;
    uploads->erase(found);
    if (--upload->open == 0)
      reply.result({{"label", upload->label}, {"streams", upload->streams}, {"parts", upload->parts}});
  });
  app.on_upload(kHub, "limitedUpload", [&log](const Context& ctx, Reply& reply) {
    log.record(ctx);
    if (!ctx.upload) return;
    for (const auto& item : ctx.upload->items)
      if (item.is_number() && item.get<double>() > 5) return void(reply.error("item over the limit"));
  });

  // askMe(question): the reply asks the caller's client `confirm(question)`; its answer comes back as
  // the event `confirmed(correlation, result, error)`, recorded for the test to read.
  on("askMe", [](const Context& ctx, Reply& reply) {
    reply.invoke_client(ctx.connection_id, "confirm", Json::array({arg(ctx, 0)}), "confirmed", Json{{"asked", arg(ctx, 0)}});
  });
  on("confirmed", [](const Context&, Reply&) {});

  on("joinGroup", [](const Context& ctx, Reply& reply) {
    reply.add_to_group(string_arg(ctx, 0), ctx.connection_id).result(true);
  });
  on("leaveGroup", [](const Context& ctx, Reply& reply) {
    reply.remove_from_group(string_arg(ctx, 0), ctx.connection_id).result(true);
  });
  on("sendToGroup", [](const Context& ctx, Reply& reply) {
    std::vector<std::string> excluded;
    if (arg(ctx, 2) == true) excluded.push_back(ctx.connection_id);
    reply.send_to_group(string_arg(ctx, 0), "groupMessage", Json::array({arg(ctx, 1)}), excluded).result(true);
  });
  on("sendToUser", [](const Context& ctx, Reply& reply) {
    reply.send_to_user(string_arg(ctx, 0), "userMessage", Json::array({arg(ctx, 1)})).result(true);
  });
  on("sendToConnection", [](const Context& ctx, Reply& reply) {
    reply.send_to_connection(string_arg(ctx, 0), "connectionMessage", Json::array({arg(ctx, 1)})).result(true);
  });
  // A send back to the caller, for load tools whose invocations carry no id (no Completion comes back).
  on("echoToCaller", [](const Context& ctx, Reply& reply) {
    reply.send_to_connection(ctx.connection_id, "echo", Json::array({arg(ctx, 0)}));
  });
  // burst(n): n sends back to the caller in one reply ("burst", i for i in 0..n-1), then the result n.
  on("burst", [](const Context& ctx, Reply& reply) {
    const Json& n = arg(ctx, 0);
    const std::int64_t count = n.is_number_integer() ? std::clamp<std::int64_t>(n.get<std::int64_t>(), 0, 500) : 0;
    for (std::int64_t i = 0; i < count; ++i) reply.send_to_connection(ctx.connection_id, "burst", Json::array({i}));
    reply.result(count);
  });
  on("broadcast", [](const Context& ctx, Reply& reply) {
    reply.send_to_all("broadcast", Json::array({arg(ctx, 0)})).result(true);
  });
  on("closeMe", [](const Context& ctx, Reply& reply) {
    const Json& reason = arg(ctx, 0);
    reply.close_connection(ctx.connection_id, reason.is_string() ? reason.get<std::string>() : std::string{});
  });
  on("seq", [](const Context&, Reply&) {});  // recorded only: the order test reads the log
  on("addUserToGroup", [](const Context& ctx, Reply& reply) {
    reply.add_user_to_group(string_arg(ctx, 1), string_arg(ctx, 0)).result(true);
  });
  on("whoami", [](const Context& ctx, Reply& reply) {
    reply.result({
        {"connectionId", ctx.connection_id},
        {"userId", ctx.user_id},
        {"claims", multimap_to_json(ctx.claims)},
        {"query", multimap_to_json(ctx.query)},
    });
  });

  app.server().Get("/events", [&log](const httplib::Request& req, httplib::Response& res) {
    std::optional<std::string> connection_id;
    if (req.has_param("connectionId")) connection_id = req.get_param_value("connectionId");
    res.set_content(log.snapshot(connection_id).dump(), "application/json");
  });

  if (options.port != 0) usage("only --listen HOST:0 is supported (the tests always use an ephemeral port)");
  const int port = app.bind_to_any_port(options.host);
  if (port <= 0) {
    std::cerr << "e2e-functions: cannot bind " << options.host << "\n";
    return 1;
  }
  const char* scheme = options.tls_cert_file.empty() ? "http" : "https";
  std::cout << "e2e-functions listening on " << scheme << "://" << options.host << ":" << port << std::endl;
  return app.listen_after_bind() ? 0 : 1;
}
