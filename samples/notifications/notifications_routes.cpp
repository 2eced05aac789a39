#include "notifications_routes.hpp"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <openssl/crypto.h>

namespace notifications {
namespace {

using switchboard::Json;

constexpr std::size_t max_user_characters = 64;
constexpr std::size_t max_text_characters = 500;  // a notification, not a document
constexpr const char* kSignInFirst = "nobody is signed in: POST /api/sign-in {\"user\": \"name\"} first";
constexpr const char* kCrossOrigin = "requests from another origin are refused";

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

// Whether the page was reached over https, here or at a proxy in front that says so: the session
// cookie then gets Secure. A client that lies about it only makes its own browser drop the cookie.
bool is_https(const httplib::Request& request) {
  return request.get_header_value("X-Forwarded-Proto") == "https";
}

// Browsers send Origin with every POST, from fetch() and from forms. One that is not this server's
// own means another page made the request: SameSite=Strict keeps the cookie off requests from other
// sites, but another port of this host is the same site. Clients that are not browsers (curl, a
// backend) send no Origin and are not affected.
bool is_cross_origin(const httplib::Request& request) {
  if (!request.has_header("Origin")) return false;
  const std::string origin = request.get_header_value("Origin");
  const std::string host = request.get_header_value("Host");
  return origin != "http://" + host && origin != "https://" + host;
}

// POST /api/sign-in {"user": "alice"} → 200 {"user"} with the session cookie; POST /api/sign-out → 204
// without it; GET /api/me → 200 {"user"}, or 401 when nobody is signed in.
// Stands in for a real sign-in: it trusts the name it is given (README.md, "What a real app replaces").
void add_session_routes(httplib::Server& server, const switchboard::SessionCookie& sessions) {
  server.Post("/api/sign-in", [&sessions](const httplib::Request& request, httplib::Response& response) {
    response.set_header("Cache-Control", "no-store");
    if (is_cross_origin(request)) return answer_error(response, 403, "CrossOrigin", kCrossOrigin);
    // The allow-exceptions=false form: untrusted input yields a discarded value instead of throwing.
    const Json body = Json::parse(request.body, nullptr, false);
    if (!body.is_object()) return answer_error(response, 400, "InvalidBody", "expected a JSON object {user}");
    const auto user = body.find("user");
    if (user == body.end() || !user->is_string()) {
      return answer_error(response, 400, "InvalidUser", "user: expected a string");
    }
    const auto& name = user->get_ref<const std::string&>();
    if (const std::string problem = check_user_name(name); !problem.empty()) {
      return answer_error(response, 400, "InvalidUser", problem);
    }
    response.set_header("Set-Cookie", sessions.set_cookie(name, is_https(request)));
    response.set_content(Json{{"user", name}}.dump(), "application/json");
  });

  server.Post("/api/sign-out",
              [&sessions](const httplib::Request& request, httplib::Response& response, const httplib::ContentReader&) {
                if (is_cross_origin(request)) return answer_error(response, 403, "CrossOrigin", kCrossOrigin);
                response.set_header("Set-Cookie", sessions.clear_cookie(is_https(request)));
                response.status = 204;
              });

  server.Get("/api/me", [&sessions](const httplib::Request& request, httplib::Response& response) {
    response.set_header("Cache-Control", "no-store");
    const std::optional<std::string> user = sessions.user(request);
    if (!user) return answer_error(response, 401, "NotSignedIn", kSignInFirst);
    response.set_content(Json{{"user", *user}}.dump(), "application/json");
  });
}

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

std::shared_ptr<const std::string> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return nullptr;
  std::ostringstream contents;
  contents << file.rdbuf();
  return std::make_shared<const std::string>(std::move(contents).str());
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
