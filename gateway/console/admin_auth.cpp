#include "console/admin_auth.hpp"

#include <charconv>

#include "auth/crypto.hpp"
#include "common/ascii.hpp"

namespace sb::console {
namespace {

// A purpose prefix: the same key may sign other things some day, which must not pass for this. A read
// session says so before its signature ("expiry.r.MAC") and is signed with the read key.
constexpr std::string_view full_purpose = "switchboard-console-session:";
constexpr std::string_view read_purpose = "switchboard-console-read-session:";
constexpr std::string_view read_marker = "r.";

std::string signature(std::string_view key, std::string_view purpose, std::string_view expiry) {
  return auth::base64url_encode(auth::hmac(auth::HashAlgorithm::sha256, key, std::string(purpose) + std::string(expiry)));
}

}  // namespace

std::string_view to_string(ConsoleAccess access) {
  switch (access) {
    case ConsoleAccess::none: return "none";
    case ConsoleAccess::read: return "read";
    case ConsoleAccess::full: return "full";
  }
  return "none";
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto end = header.find(';');
    auto pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return {};
}

std::string AdminAuth::session_value(std::int64_t now_unix, ConsoleAccess access) const {
  auto expiry = std::to_string(now_unix + session_lifetime.count());
  if (access == ConsoleAccess::read) return expiry + "." + std::string(read_marker) + signature(read_key_, read_purpose, expiry);
  return expiry + "." + signature(key_, full_purpose, expiry);
}

ConsoleAccess AdminAuth::session_access(std::string_view value, std::int64_t now_unix) const {
  auto dot = value.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 19) return ConsoleAccess::none;
  auto expiry = value.substr(0, dot);
  std::int64_t expires_at = 0;
  auto [end, ec] = std::from_chars(expiry.data(), expiry.data() + expiry.size(), expires_at);
  if (ec != std::errc() || end != expiry.data() + expiry.size() || expires_at <= now_unix) return ConsoleAccess::none;
  auto mac = value.substr(dot + 1);
  if (mac.substr(0, read_marker.size()) == read_marker) {
    if (read_key_.empty()) return ConsoleAccess::none;
    return auth::constant_time_equals(mac.substr(read_marker.size()), signature(read_key_, read_purpose, expiry))
               ? ConsoleAccess::read
               : ConsoleAccess::none;
  }
  return auth::constant_time_equals(mac, signature(key_, full_purpose, expiry)) ? ConsoleAccess::full : ConsoleAccess::none;
}

ConsoleAccess AdminAuth::key_access(std::string_view candidate) const {
  if (auth::constant_time_equals(candidate, key_)) return ConsoleAccess::full;
  if (!read_key_.empty() && auth::constant_time_equals(candidate, read_key_)) return ConsoleAccess::read;
  return ConsoleAccess::none;
}

ConsoleAccess AdminAuth::access(std::string_view authorization, std::string_view cookie_header, std::int64_t now_unix) const {
  if (istarts_with(authorization, "Bearer ")) return key_access(authorization.substr(7));
  if (istarts_with(authorization, "Basic ")) {
    // Standard base64, read through the base64url decoder ('+' and '/' mapped).
    std::string standard(authorization.substr(6));
    for (auto& c : standard) c = c == '+' ? '-' : c == '/' ? '_' : c;
    auto decoded = auth::base64url_decode(standard);
    if (!decoded) return ConsoleAccess::none;
    auto colon = decoded->find(':');  // any user name: the password is the key
    return colon == std::string::npos ? ConsoleAccess::none : key_access(std::string_view(*decoded).substr(colon + 1));
  }
  auto session = cookie_value(cookie_header, cookie_name);
  return session.empty() ? ConsoleAccess::none : session_access(session, now_unix);
}

}  // namespace sb::console
