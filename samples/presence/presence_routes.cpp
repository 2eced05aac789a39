#include "presence_routes.hpp"

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "presence_hub.hpp"

namespace presence {
namespace {

using switchboard::Json;

constexpr std::size_t max_user_characters = 64;

void answer_error(httplib::Response& response, int status, std::string_view code, std::string message) {
  response.status = status;
  response.set_content(Json{{"code", code}, {"message", std::move(message)}}.dump(), "application/json");
}

// Empty when the name is acceptable, else why not. The user id travels to the functions inside
// X-ASRS-User-Claims as "asrs.s.uid: <id>, ..." with no escaping (PROTOCOL.md part 2 §2.3), so a
// ',' or ':' in it could forge a claim, and a control character could break a header.
std::string check_user_name(std::string_view user) {
  std::size_t characters = 0;
  for (const char c : user) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) return "user names cannot contain control characters";
    if (c == ',' || c == ':') return "user names cannot contain ',' or ':'";
    if ((byte & 0xC0) != 0x80) ++characters;
  }
  if (characters == 0 || characters > max_user_characters) {
    return "user must be 1 to " + std::to_string(max_user_characters) + " characters";
  }
  if (user.find_first_not_of(' ') == std::string_view::npos) return "user cannot be blank";
  return {};
}

std::shared_ptr<const std::string> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return nullptr;
  std::ostringstream contents;
  contents << file.rdbuf();
  return std::make_shared<const std::string>(std::move(contents).str());
}

}  // namespace

void add_presence_routes(switchboard::App& app, const switchboard::ServiceEndpoint& endpoint,
                         switchboard::RestClient& rest, const std::string& public_dir, const std::string& signalr_js) {
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

  // The content-reader form: cpp-httplib then leaves the (unused) body alone, so a POST without
  // Content-Length (curl -X POST) is served instead of refused with 400.
  server.Post("/api/negotiate", [endpoint](const httplib::Request& request, httplib::Response& response,
                                           const httplib::ContentReader&) {
    const std::string user = request.get_param_value("user");
    if (const std::string problem = check_user_name(user); !problem.empty()) {
      return answer_error(response, 400, "InvalidUser", problem);
    }
    response.set_header("Cache-Control", "no-store");  // it carries a token
    response.set_content(switchboard::negotiate(endpoint, kPresenceHub, user).to_json().dump(), "application/json");
  });

  // Who is online now: the gateway's user list for the hub, every page of it.
  server.Get("/api/online", [&rest](const httplib::Request&, httplib::Response& response) {
    Json users = Json::array();
    try {
      for (const auto& user : rest.list_users(kPresenceHub)) {
        users.push_back({{"userId", user.user_id}, {"connectionCount", user.connection_count}});
      }
    } catch (const std::exception& error) {
      std::fprintf(stderr, "warn presence list_failed error=\"%s\"\n", error.what());
      return answer_error(response, 502, "GatewayError", "cannot read presence from the gateway");
    }
    response.set_header("Cache-Control", "no-store");
    response.set_content(Json{{"users", std::move(users)}}.dump(), "application/json");
  });
}

}  // namespace presence
