#include "console/admin_auth.hpp"

#include <charconv>

#include "auth/crypto.hpp"
#include "common/ascii.hpp"

namespace sb::console {

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

std::string AdminAuth::signature(std::string_view expiry) const {
  // A purpose prefix: the same key may sign other things some day, which must not pass for this.
  return auth::base64url_encode(auth::hmac(auth::HashAlgorithm::sha256, key_, "switchboard-console-session:" + std::string(expiry)));
}

std::string AdminAuth::session_value(std::int64_t now_unix) const {
  auto expiry = std::to_string(now_unix + session_lifetime.count());
  return expiry + "." + signature(expiry);
}

bool AdminAuth::is_session(std::string_view value, std::int64_t now_unix) const {
  auto dot = value.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 19) return false;
  auto expiry = value.substr(0, dot);
  std::int64_t expires_at = 0;
  auto [end, ec] = std::from_chars(expiry.data(), expiry.data() + expiry.size(), expires_at);
  if (ec != std::errc() || end != expiry.data() + expiry.size()) return false;
  if (!auth::constant_time_equals(value.substr(dot + 1), signature(expiry))) return false;
  return expires_at > now_unix;
}

bool AdminAuth::is_key(std::string_view candidate) const { return auth::constant_time_equals(candidate, key_); }

bool AdminAuth::admits(std::string_view authorization, std::string_view cookie_header, std::int64_t now_unix) const {
  if (istarts_with(authorization, "Bearer ")) return is_key(authorization.substr(7));
  if (istarts_with(authorization, "Basic ")) {
    // Standard base64, read through the base64url decoder ('+' and '/' mapped).
    std::string standard(authorization.substr(6));
    for (auto& c : standard) c = c == '+' ? '-' : c == '/' ? '_' : c;
    auto decoded = auth::base64url_decode(standard);
    if (!decoded) return false;
    auto colon = decoded->find(':');  // any user name: the password is the key
    return colon != std::string::npos && is_key(std::string_view(*decoded).substr(colon + 1));
  }
  auto session = cookie_value(cookie_header, cookie_name);
  return !session.empty() && is_session(session, now_unix);
}

}  // namespace sb::console
