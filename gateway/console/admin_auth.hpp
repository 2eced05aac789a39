#pragma once
// Who may use the operator console (docs/operations.md "Operator console"): whoever knows the admin key
// (--admin-key). A browser signs in once through the login form and then carries a session cookie
// (HttpOnly, SameSite=Strict, 12 hours) that proves it, signed with the key, so nothing is stored and
// every gateway of a fleet with the same key accepts it. Scripts send the key itself, as a Bearer token
// or as the password of Basic authentication. Never anonymous. Pure: the caller passes the time.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb::console {

class AdminAuth {
 public:
  static constexpr std::string_view cookie_name = "sb_console";
  static constexpr std::chrono::seconds session_lifetime{12 * 3600};

  explicit AdminAuth(std::string key) : key_(std::move(key)) {}

  // True when the request's Authorization header or Cookie header proves the key, at `now_unix`.
  bool admits(std::string_view authorization, std::string_view cookie_header, std::int64_t now_unix) const;
  // True for exactly the admin key (a login form's field).
  bool is_key(std::string_view candidate) const;
  // A session cookie's value, valid until now + session_lifetime.
  std::string session_value(std::int64_t now_unix) const;
  // True for a session value this key signed that has not expired.
  bool is_session(std::string_view value, std::int64_t now_unix) const;

 private:
  std::string signature(std::string_view expiry) const;
  std::string key_;
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or empty.
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);

}  // namespace sb::console
