#include "presence_routes.hpp"

#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "presence_hub.hpp"
#include "sample_sign_in.hpp"

namespace presence {
namespace {

using switchboard::Json;

using samples::add_session_routes;
using samples::answer_error;
using samples::kSignInFirst;
using samples::read_file;

}  // namespace

void add_presence_routes(switchboard::App& app, const switchboard::ServiceEndpoint& endpoint,
                         switchboard::RestClient& rest, const switchboard::SessionCookie& sessions,
                         const std::string& public_dir, const std::string& signalr_js) {
  httplib::Server& server = app.server();

  // GET / serves public_dir/index.html; no-cache so an edited page shows on reload.
  if (!server.set_mount_point("/", public_dir, {{"Cache-Control", "no-cache"}})) {
    throw std::runtime_error("--public-dir " + public_dir + " is not a directory");
  }

  // Read once: the bundle is ~50 KB and never changes while we run.
  std::shared_ptr<const std::string> script = read_file(signalr_js);
  if (!script) {
    std::fprintf(stderr, "warn presence signalr_js_missing path=\"%s\" (run npm ci, or pass --signalr-js)\n",
                 signalr_js.c_str());
  }
  server.Get(R"(/signalr\.min\.js)", [script](const httplib::Request&, httplib::Response& response) {
    if (!script) return answer_error(response, 404, "NotFound", "signalr.min.js is not installed");
    response.set_content(*script, "text/javascript");
  });

  add_session_routes(server, sessions);

  // The user comes only from the session cookie: a page (or a script) cannot ask for a token naming
  // someone else. The content-reader form: cpp-httplib then leaves the (unused) body alone, so a POST
  // without Content-Length (curl -X POST) is served instead of refused with 400.
  server.Post("/api/negotiate", [endpoint, &sessions](const httplib::Request& request, httplib::Response& response,
                                                      const httplib::ContentReader&) {
    response.set_header("Cache-Control", "no-store");  // it carries a token
    const std::optional<std::string> user = sessions.user(request);
    if (!user) return answer_error(response, 401, "NotSignedIn", kSignInFirst);
    response.set_content(switchboard::negotiate(endpoint, kPresenceHub, *user).to_json().dump(), "application/json");
  });

  // Who is online now: the gateway's user list for the hub, every page of it. For signed-in users only:
  // who uses the app is not for whoever reaches it.
  server.Get("/api/online", [&rest, &sessions](const httplib::Request& request, httplib::Response& response) {
    response.set_header("Cache-Control", "no-store");
    if (!sessions.user(request)) return answer_error(response, 401, "NotSignedIn", kSignInFirst);
    Json users = Json::array();
    try {
      for (const auto& user : rest.list_users(kPresenceHub)) {
        users.push_back({{"userId", user.user_id}, {"connectionCount", user.connection_count}});
      }
    } catch (const std::exception& error) {
      std::fprintf(stderr, "warn presence list_failed error=\"%s\"\n", error.what());
      return answer_error(response, 502, "GatewayError", "cannot read presence from the gateway");
    }
    response.set_content(Json{{"users", std::move(users)}}.dump(), "application/json");
  });
}

}  // namespace presence
