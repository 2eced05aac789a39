#pragma once
// Who may use the operator console (docs/operations.md "Operator console"): whoever knows the admin key
// (--admin-key), and, to look without acting, whoever knows the read key (--admin-read-key). A browser
// signs in once through the login form and then carries a session cookie (HttpOnly, SameSite=Strict,
// 12 hours) that proves it, signed with the key it signed in with, so nothing is stored, every gateway
// of a fleet with the same keys accepts it, and changing a key signs out its sessions. Scripts send a
// key itself, as a Bearer token or as the password of Basic authentication. Never anonymous. Pure: the
// caller passes the time.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb::console {

// What a console request may do: nothing (401), look (every page, figure and the trace), or also act
// (close, send, drain).
enum class ConsoleAccess { none, read, full };
std::string_view to_string(ConsoleAccess access);

class AdminAuth {
 public:
  static constexpr std::string_view cookie_name = "sb_console";
  static constexpr std::chrono::seconds session_lifetime{12 * 3600};

  // `read_key`: empty for none.
  explicit AdminAuth(std::string key, std::string read_key = {}) : key_(std::move(key)), read_key_(std::move(read_key)) {}

  // What the request's Authorization header or Cookie header proves, at `now_unix`.
  ConsoleAccess access(std::string_view authorization, std::string_view cookie_header, std::int64_t now_unix) const;
  bool admits(std::string_view authorization, std::string_view cookie_header, std::int64_t now_unix) const {
    return access(authorization, cookie_header, now_unix) != ConsoleAccess::none;
  }
  // What a key (a login form's field) gives: full for the admin key, read for the read key.
  ConsoleAccess key_access(std::string_view candidate) const;
  bool is_key(std::string_view candidate) const { return key_access(candidate) == ConsoleAccess::full; }
  // A session cookie's value for `access` (read or full), valid until now + session_lifetime.
  std::string session_value(std::int64_t now_unix, ConsoleAccess access = ConsoleAccess::full) const;
  // What a session value gives: none unless one of the keys signed it and it has not expired.
  ConsoleAccess session_access(std::string_view value, std::int64_t now_unix) const;
  bool is_session(std::string_view value, std::int64_t now_unix) const {
    return session_access(value, now_unix) != ConsoleAccess::none;
  }

 private:
  std::string key_;
  std::string read_key_;
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or empty.
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);

}  // namespace sb::console
