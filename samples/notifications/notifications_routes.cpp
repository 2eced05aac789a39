#include "notifications_routes.hpp"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <openssl/crypto.h>

#include "sample_sign_in.hpp"

namespace notifications {
namespace {

using switchboard::Json;

constexpr std::size_t max_text_characters = 500;  // a notification, not a document
using samples::add_session_routes;
using samples::answer_error;
using samples::check_user_name;
using samples::count_characters;
using samples::is_cross_origin;
using samples::kCrossOrigin;
using samples::kSignInFirst;
using samples::read_file;

// Whether the request carries "Authorization: Bearer <key>" (the scheme in any case, RFC 7235 §2.1).
// CRYPTO_memcmp takes as long wherever the two differ, so timing answers cannot reveal the key a byte
// at a time; only its length could be learnt, which says nothing about a random key.
bool has_key(const httplib::Request& request, std::string_view key) {
  const std::string authorization = request.get_header_value("Authorization");
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() < scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return false;
  }
  const std::string_view presented = std::string_view(authorization).substr(scheme.size());
  return presented.size() == key.size() && CRYPTO_memcmp(presented.data(), key.data(), key.size()) == 0;
}

// {"user": "...", "text": "..."} → 202 {"id": n}, for /api/notify (`from` empty) and for
// /api/notify-from-page (`from` the signed-in sender).
void notify(Notifier& notifier, const httplib::Request& request, httplib::Response& response, std::string_view from) {
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
    id = notifier.notify(user_id, message, from);
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
                              Notifier& notifier, const switchboard::SessionCookie& sessions, std::string notify_key,
                              const std::string& public_dir, const std::string& signalr_js) {
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

  add_session_routes(server, sessions);

  // Each negotiate gets the next gateway, so consecutive pages land on different gateways and the
  // fleet shows. Any gateway would do: a notification reaches the user wherever they are connected.
  // Shared by the handler's copies (cpp-httplib copies handlers), hence the shared_ptr.
  auto next_gateway = std::make_shared<std::atomic<std::size_t>>(0);
  auto endpoints = std::make_shared<const std::vector<switchboard::ServiceEndpoint>>(std::move(gateways));
  // The user comes only from the session cookie: a page (or a script) cannot ask for a token naming
  // someone else. The content-reader form: cpp-httplib then leaves the (unused) body alone, so a POST
  // without Content-Length (curl -X POST) is served instead of refused with 400.
  server.Post("/api/negotiate", [endpoints, next_gateway, &sessions](const httplib::Request& request,
                                                                     httplib::Response& response,
                                                                     const httplib::ContentReader&) {
    response.set_header("Cache-Control", "no-store");  // it carries a token
    const std::optional<std::string> user = sessions.user(request);
    if (!user) return answer_error(response, 401, "NotSignedIn", kSignInFirst);
    const std::size_t index = next_gateway->fetch_add(1, std::memory_order_relaxed) % endpoints->size();
    response.set_content(switchboard::negotiate((*endpoints)[index], kNotificationsHub, *user).to_json().dump(),
                         "application/json");
  });

  // For backends: whoever holds the key may notify anyone. Off without a key, rather than open to all.
  server.Post("/api/notify", [&notifier, key = std::move(notify_key)](const httplib::Request& request,
                                                                      httplib::Response& response) {
    if (key.empty()) {
      return answer_error(response, 403, "NotifyDisabled",
                          "POST /api/notify is off: start notifications-sample with --notify-key (or "
                          "SWITCHBOARD_NOTIFY_KEY) and send \"Authorization: Bearer <that key>\"");
    }
    if (!has_key(request, key)) {
      response.set_header("WWW-Authenticate", "Bearer");
      return answer_error(response, 401, "Unauthorized", "send \"Authorization: Bearer <the --notify-key>\"");
    }
    notify(notifier, request, response, {});
  });

  // For the page's form: a signed-in user may notify anyone, and the notification names them. A route
  // of its own, so that the key stays with backends and never reaches a page.
  server.Post("/api/notify-from-page",
              [&notifier, &sessions](const httplib::Request& request, httplib::Response& response) {
                if (is_cross_origin(request)) return answer_error(response, 403, "CrossOrigin", kCrossOrigin);
                const std::optional<std::string> from = sessions.user(request);
                if (!from) return answer_error(response, 401, "NotSignedIn", kSignInFirst);
                notify(notifier, request, response, *from);
              });
}

}  // namespace notifications
