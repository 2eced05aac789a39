#include "switchboard/session_cookie.hpp"

#include <charconv>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <utility>

#include <openssl/rand.h>

#include "switchboard/detail/base64url.hpp"
#include "switchboard/detail/crypto.hpp"

namespace switchboard {
namespace {

// Unix seconds fit 19 digits until the year 2286 and beyond; more cannot be an int64 at all.
constexpr std::size_t max_expiry_digits = 19;

std::int64_t unix_seconds(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

// RFC 6265 §4.1.1: a cookie name is an RFC 2616 token, visible ASCII without separators.
bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F) return false;
    if (std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string attributes(std::chrono::seconds max_age, bool is_secure) {
  std::string text = "; Max-Age=" + std::to_string(max_age.count()) + "; Path=/; HttpOnly; SameSite=Strict";
  if (is_secure) text += "; Secure";
  return text;
}

}  // namespace

SessionCookie::SessionCookie(std::string secret, SessionCookieOptions options)
    : secret_(std::move(secret)), options_(std::move(options)) {
  if (secret_.size() < min_secret_bytes) {
    throw std::invalid_argument("the session secret must be at least " + std::to_string(min_secret_bytes) + " bytes");
  }
  if (!is_token(options_.name)) {
    throw std::invalid_argument("session cookie name \"" + options_.name + "\" is not an RFC 6265 token");
  }
  if (options_.lifetime.count() <= 0) throw std::invalid_argument("the session lifetime must be positive");
}

std::string SessionCookie::random_secret() {
  std::string secret(min_secret_bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), static_cast<int>(secret.size())) != 1) {
    throw std::runtime_error("OpenSSL's RAND_bytes failed: no random session secret");
  }
  return secret;
}

std::string SessionCookie::sign(std::string_view signed_part) const {
  return detail::base64url_encode(detail::hmac_sha256(secret_, signed_part));
}

std::string SessionCookie::issue(std::string_view user_id, std::chrono::system_clock::time_point now) const {
  if (user_id.empty()) throw std::invalid_argument("a session needs a user id");
  std::string value = detail::base64url_encode(user_id);
  value += '.';
  value += std::to_string(unix_seconds(now) + options_.lifetime.count());
  const std::string signature = sign(value);
  value += '.';
  value += signature;
  return value;
}

std::optional<std::string> SessionCookie::verify(std::string_view value,
                                                 std::chrono::system_clock::time_point now) const noexcept {
  try {
    if (value.size() > max_value_bytes) return std::nullopt;
    const std::size_t first_dot = value.find('.');
    if (first_dot == std::string_view::npos) return std::nullopt;
    const std::size_t second_dot = value.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos) return std::nullopt;

    // The signature covers the text as sent, and is compared as text: base64url has several spellings
    // of the same bytes (the last character's unused bits), and only the one we issued may pass.
    const std::string_view signed_part = value.substr(0, second_dot);
    if (!detail::equals_constant_time(sign(signed_part), value.substr(second_dot + 1))) return std::nullopt;

    const std::string_view expiry_text = value.substr(first_dot + 1, second_dot - first_dot - 1);
    if (expiry_text.empty() || expiry_text.size() > max_expiry_digits) return std::nullopt;
    std::int64_t expiry = 0;
    const auto [end, error] = std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expiry);
    if (error != std::errc{} || end != expiry_text.data() + expiry_text.size() || expiry < 0) return std::nullopt;
    const std::int64_t now_seconds = unix_seconds(now);
    if (now_seconds >= expiry || expiry - now_seconds > options_.lifetime.count()) return std::nullopt;

    std::optional<std::string> user_id = detail::base64url_decode(value.substr(0, first_dot));
    if (!user_id || user_id->empty()) return std::nullopt;
    return user_id;
  } catch (const std::exception&) {
    return std::nullopt;  // OpenSSL failed or memory ran out: nobody is signed in
  }
}

std::optional<std::string> SessionCookie::user(const httplib::Request& request) const noexcept {
  try {
    const auto now = std::chrono::system_clock::now();
    // RFC 6265 §5.4: "name=value; name=value". Several cookies may share a name (set for other
    // paths, or by another app on this host): the first that verifies wins.
    const std::size_t headers = request.get_header_value_count("Cookie");
    for (std::size_t header = 0; header < headers; ++header) {
      const std::string line = request.get_header_value("Cookie", header);
      std::string_view rest = line;
      while (!rest.empty()) {
        const std::size_t semicolon = rest.find(';');
        const std::string_view pair = trim(rest.substr(0, semicolon));
        rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
        const std::size_t equals = pair.find('=');
        if (equals == std::string_view::npos || trim(pair.substr(0, equals)) != options_.name) continue;
        if (auto user_id = verify(trim(pair.substr(equals + 1)), now)) return user_id;
      }
    }
  } catch (const std::exception&) {
    // Memory ran out copying a header: nobody is signed in.
  }
  return std::nullopt;
}

std::string SessionCookie::set_cookie(std::string_view user_id, bool is_secure) const {
  return options_.name + "=" + issue(user_id, std::chrono::system_clock::now()) +
         attributes(options_.lifetime, is_secure);
}

std::string SessionCookie::clear_cookie(bool is_secure) const {
  // Max-Age=0 deletes it at once (RFC 6265 §5.2.2); the other attributes must match for browsers
  // that match them.
  return options_.name + "=" + attributes(std::chrono::seconds(0), is_secure);
}

}  // namespace switchboard
