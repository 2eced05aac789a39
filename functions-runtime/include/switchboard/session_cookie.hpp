// switchboard/session_cookie.hpp: a signed, expiring cookie that remembers who signed in to your page.
// Included by switchboard/functions.hpp; include that.
//
// Your sign-in (an identity provider's callback, a password check, ...) decides who the user is;
// a SessionCookie keeps that answer in the browser, so that later requests (your /api/negotiate) can
// name the user without a session store. The cookie's value is
//
//   base64url(user id) "." expiry (Unix seconds) "." base64url(HMAC-SHA256(secret, the first two parts))
//
// It is signed, not encrypted: whoever holds the cookie can read the user id, and only whoever holds
// the secret can make one. It is stateless: signing out deletes the browser's copy, but a copy taken
// earlier stays valid until it expires. A new secret ends every session.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <httplib.h>

namespace switchboard {

struct SessionCookieOptions {
  // Cookies are scoped by host, not port: two apps on 127.0.0.1 share one jar, so give each its name.
  std::string name = "session";
  // How long a sign-in lasts; also the cookie's Max-Age. A value claiming a later expiry is refused,
  // so a lifetime shortened at a restart applies to existing sessions at once.
  std::chrono::seconds lifetime = std::chrono::hours(12);
};

// Immutable once built, so one instance may be shared by every handler thread.
class SessionCookie {
 public:
  // The secret signs every cookie: a short one could be guessed offline from any cookie it signed.
  static constexpr std::size_t min_secret_bytes = 32;
  static constexpr std::size_t max_value_bytes = 4096;  // what browsers keep per cookie (RFC 6265 §6.1)

  // Throws std::invalid_argument (never naming the secret) when the secret is shorter than
  // min_secret_bytes, the name is not an RFC 6265 token, or the lifetime is not positive.
  explicit SessionCookie(std::string secret, SessionCookieOptions options = {});

  // min_secret_bytes random bytes (OpenSSL's RAND_bytes), for a process that keeps no secret of its
  // own: its sessions then end when it does. Throws std::runtime_error if OpenSSL has no randomness.
  static std::string random_secret();

  // The cookie's value for `user_id`, valid until now + lifetime. Throws std::invalid_argument on an
  // empty user id: check the name before issuing, this only signs it.
  std::string issue(std::string_view user_id, std::chrono::system_clock::time_point now) const;

  // The user id a value names, or nullopt when it is malformed, over max_value_bytes, signed with
  // another secret, expired (now >= expiry) or expiring later than now + lifetime. Never throws.
  std::optional<std::string> verify(std::string_view value, std::chrono::system_clock::time_point now) const noexcept;

  // The signed-in user of a request: the first value under this cookie's name in its Cookie headers
  // that verifies at the system clock's now, or nullopt. Never throws.
  std::optional<std::string> user(const httplib::Request& request) const noexcept;

  // A Set-Cookie header value that signs the browser in as `user_id`, valid for the lifetime from the
  // system clock's now: HttpOnly (page scripts cannot read it), SameSite=Strict (other sites' pages
  // cannot make the browser send it), Path=/, Max-Age, and with `is_secure` (pass it when the page was
  // reached over https) Secure, so that the browser never sends it over plain http.
  std::string set_cookie(std::string_view user_id, bool is_secure) const;
  // A Set-Cookie header value that deletes the cookie (signs the browser out).
  std::string clear_cookie(bool is_secure) const;

  const std::string& name() const { return options_.name; }

 private:
  std::string sign(std::string_view signed_part) const;  // base64url(HMAC-SHA256(secret, signed_part))

  std::string secret_;
  SessionCookieOptions options_;
};

}  // namespace switchboard
