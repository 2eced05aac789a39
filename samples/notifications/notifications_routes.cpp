#include "notifications_routes.hpp"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace notifications {
namespace {

using switchboard::Json;

constexpr std::size_t max_user_characters = 64;
constexpr std::size_t max_text_characters = 500;  // a notification, not a document

void answer_error(httplib::Response& response, int status, std::string_view code, std::string message) {
  response.status = status;
  response.set_content(Json{{"code", code}, {"message", std::move(message)}}.dump(), "application/json");
}

// UTF-8 characters: bytes that do not continue a sequence.
std::size_t count_characters(std::string_view text) {
  std::size_t characters = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;
  }
  return characters;
}

// Empty when the name is acceptable, else why not. The user id travels in the token's asrs.s.uid and,
// should the hub ever get functions, inside X-ASRS-User-Claims as "asrs.s.uid: <id>, ..." with no
// escaping (PROTOCOL.md part 2 §2.3), so ',' and ':' are refused here as in the presence sample.
std::string check_user_name(std::string_view user) {
  for (const char c : user) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) return "user names cannot contain control characters";
    if (c == ',' || c == ':') return "user names cannot contain ',' or ':'";
  }
  const std::size_t characters = count_characters(user);
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

// POST /api/notify {"user": "...", "text": "..."} → 202 {"id": n}.
void notify(Notifier& notifier, const httplib::Request& request, httplib::Response& response) {
  // The allow-exceptions=false form: untrusted input yields a discarded value instead of throwing.
  const Json body = Json::parse(request.body, nullptr, false);
  if (!body.is_object()) return answer_error(response, 400, "InvalidBody", "expected a JSON object {user, text}");
  const auto user = body.find("user");
  const auto text = body.find("text");
  if (user == body.end() || !user->is_string()) {
    return answer_error(response, 400, "InvalidUser", "user: expected a string");
  }
  if (text == body.end() || !text->is_string()) {
    return answer_error(response, 400, "InvalidText", "text: expected a string");
  }
  const auto& user_id = user->get_ref<const std::string&>();
  const auto& message = text->get_ref<const std::string&>();
  if (const std::string problem = check_user_name(user_id); !problem.empty()) {
    return answer_error(response, 400, "InvalidUser", problem);
  }
  if (const std::size_t characters = count_characters(message); characters == 0 || characters > max_text_characters) {
    return answer_error(response, 400, "InvalidText",
                        "text must be 1 to " + std::to_string(max_text_characters) + " characters");
  }

  std::uint64_t id = 0;
  try {
    id = notifier.notify(user_id, message);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "warn notifications send_failed error=\"%s\"\n", error.what());
    return answer_error(response, 502, "GatewayError", "the gateway did not take the notification");
  }
  // 202: the gateway took it; whether the user has a page open is not known here.
  response.status = 202;
  response.set_content(Json{{"id", id}}.dump(), "application/json");
}

}  // namespace

void add_notifications_routes(switchboard::App& app, std::vector<switchboard::ServiceEndpoint> gateways,
                              Notifier& notifier, const std::string& public_dir, const std::string& signalr_js) {
  httplib::Server& server = app.server();

  // GET / serves public_dir/index.html; no-cache so an edited page shows on reload.
  if (!server.set_mount_point("/", public_dir, {{"Cache-Control", "no-cache"}})) {
    throw std::runtime_error("--public-dir " + public_dir + " is not a directory");
  }

  // Read once: the bundle is ~50 KB and never changes while we run.
  std::shared_ptr<const std::string> script = read_file(signalr_js);
  if (!script) {
    std::fprintf(stderr, "warn notifications signalr_js_missing path=\"%s\" (run npm ci, or pass --signalr-js)\n",
                 signalr_js.c_str());
  }
  server.Get(R"(/signalr\.min\.js)", [script](const httplib::Request&, httplib::Response& response) {
    if (!script) return answer_error(response, 404, "NotFound", "signalr.min.js is not installed");
    response.set_content(*script, "text/javascript");
  });

  // Each negotiate gets the next gateway, so consecutive pages land on different gateways and the
  // fleet shows. Any gateway would do: a notification reaches the user wherever they are connected.
  // Shared by the handler's copies (cpp-httplib copies handlers), hence the shared_ptr.
  auto next_gateway = std::make_shared<std::atomic<std::size_t>>(0);
  auto endpoints = std::make_shared<const std::vector<switchboard::ServiceEndpoint>>(std::move(gateways));
  // The content-reader form: cpp-httplib then leaves the (unused) body alone, so a POST without
  // Content-Length (curl -X POST) is served instead of refused with 400.
  server.Post("/api/negotiate", [endpoints, next_gateway](const httplib::Request& request, httplib::Response& response,
                                                          const httplib::ContentReader&) {
    const std::string user = request.get_param_value("user");
    if (const std::string problem = check_user_name(user); !problem.empty()) {
      return answer_error(response, 400, "InvalidUser", problem);
    }
    const std::size_t index = next_gateway->fetch_add(1, std::memory_order_relaxed) % endpoints->size();
    response.set_header("Cache-Control", "no-store");  // it carries a token
    response.set_content(switchboard::negotiate((*endpoints)[index], kNotificationsHub, user).to_json().dump(),
                         "application/json");
  });

  server.Post("/api/notify", [&notifier](const httplib::Request& request, httplib::Response& response) {
    notify(notifier, request, response);
  });
}

}  // namespace notifications
