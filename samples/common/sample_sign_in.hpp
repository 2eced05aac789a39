#pragma once
// What the three samples share: a stand-in sign-in that trusts the name it is given, kept in a signed
// session cookie (switchboard::SessionCookie), and the small helpers their routes use. A real app
// replaces add_session_routes with its identity provider (each sample's README, "What a real app
// replaces"); the rest it may keep.
#include <memory>
#include <string>
#include <string_view>

#include <switchboard/functions.hpp>

namespace samples {

inline constexpr std::size_t max_user_characters = 64;
inline constexpr const char* kSignInFirst = "nobody is signed in: POST /api/sign-in {\"user\": \"name\"} first";
inline constexpr const char* kCrossOrigin = "requests from another origin are refused";

// A JSON error {"code", "message"} with `status`.
void answer_error(httplib::Response& response, int status, std::string_view code, std::string message);

// UTF-8 characters: bytes that do not continue a sequence.
std::size_t count_characters(std::string_view text);

// Empty when the name is acceptable, else why not.
std::string check_user_name(std::string_view user);

// Whether the page was reached over https (here, or at a proxy in front that says so).
bool is_https(const httplib::Request& request);

// Whether a browser sent the request from a page of another origin (see the definition for why
// SameSite alone is not enough).
bool is_cross_origin(const httplib::Request& request);

// POST /api/sign-in {"user": "alice"} → 200 {"user"} with the session cookie; POST /api/sign-out → 204
// without it; GET /api/me → 200 {"user"}, or 401 when nobody is signed in. `sessions` outlives the server.
void add_session_routes(httplib::Server& server, const switchboard::SessionCookie& sessions);

// A file's whole contents, or nullptr when it can't be read.
std::shared_ptr<const std::string> read_file(const std::string& path);

}  // namespace samples
