#include "sample_sign_in.hpp"

#include <fstream>
#include <optional>
#include <sstream>

namespace samples {

using switchboard::Json;

void answer_error(httplib::Response& response, int status, std::string_view code, std::string message) {
  response.status = status;
  response.set_content(Json{{"code", code}, {"message", std::move(message)}}.dump(), "application/json");
}

std::size_t count_characters(std::string_view text) {
  std::size_t characters = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;
  }
  return characters;
}

// The user id travels to the functions inside X-ASRS-User-Claims as "asrs.s.uid: <id>, ..." with no
// escaping (docs/upstream.md), so a ',' or ':' in it could forge a claim, and a control character could
// break a header.
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

std::shared_ptr<const std::string> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return nullptr;
  std::ostringstream contents;
  contents << file.rdbuf();
  return std::make_shared<const std::string>(std::move(contents).str());
}

}  // namespace samples
