#include "console/admin_auth.hpp"

#include <doctest/doctest.h>

#include <string>

using sb::console::AdminAuth;
using sb::console::cookie_value;

namespace {
const std::string key = "the-admin-key-0123456789";
constexpr std::int64_t now = 1'800'000'000;

std::string basic(std::string_view user_and_password) {
  // base64 of a few ASCII bytes, by hand: the test must not share the code under test.
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < user_and_password.size(); i += 3) {
    unsigned n = (unsigned char)user_and_password[i] << 16 | (unsigned char)user_and_password[i + 1] << 8 | (unsigned char)user_and_password[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += alphabet[(n >> s) & 63];
  }
  if (i + 1 == user_and_password.size()) {
    unsigned n = (unsigned char)user_and_password[i] << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == user_and_password.size()) {
    unsigned n = (unsigned char)user_and_password[i] << 16 | (unsigned char)user_and_password[i + 1] << 8;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += '=';
  }
  return "Basic " + out;
}
}  // namespace

TEST_CASE("the console admits the admin key as a Bearer token or a Basic password, nothing else") {
  AdminAuth auth(key);
  CHECK(auth.admits("Bearer " + key, "", now));
  CHECK(auth.admits("bearer " + key, "", now));
  CHECK(auth.admits(basic("ops:" + key), "", now));
  CHECK(auth.admits(basic(":" + key), "", now));
  CHECK_FALSE(auth.admits("", "", now));
  CHECK_FALSE(auth.admits("Bearer ", "", now));
  CHECK_FALSE(auth.admits("Bearer " + key + "x", "", now));
  CHECK_FALSE(auth.admits("Bearer " + key.substr(1), "", now));
  CHECK_FALSE(auth.admits(basic(key), "", now));  // no colon: no password
  CHECK_FALSE(auth.admits(basic("ops:wrong"), "", now));
  CHECK_FALSE(auth.admits("Basic !!!", "", now));
  CHECK_FALSE(auth.admits(key, "", now));
}

TEST_CASE("a session cookie is signed with the key, expires, and can't be altered") {
  AdminAuth auth(key);
  auto value = auth.session_value(now);
  CHECK(value.rfind(std::to_string(now + AdminAuth::session_lifetime.count()) + ".", 0) == 0);
  CHECK(auth.is_session(value, now));
  CHECK(auth.admits("", "a=1; sb_console=" + value + "; b=2", now));
  CHECK(auth.admits("", "sb_console=" + value, now + AdminAuth::session_lifetime.count() - 1));
  CHECK_FALSE(auth.admits("", "sb_console=" + value, now + AdminAuth::session_lifetime.count()));  // expired
  CHECK_FALSE(AdminAuth("another-key-0123456789").is_session(value, now));
  auto later = std::to_string(now + 10 * AdminAuth::session_lifetime.count()) + value.substr(value.find('.'));
  CHECK_FALSE(auth.is_session(later, now));  // the expiry is signed
  for (const char* bad : {"", ".", "1.", ".abc", "x.abc", "-1.abc", "99999999999999999999.abc", "123"})
    CHECK_FALSE(auth.is_session(bad, now));
  // A wrong Authorization header is not saved by a good cookie: the header decides.
  CHECK_FALSE(auth.admits("Bearer wrong", "sb_console=" + value, now));
}

TEST_CASE("cookie values are found by exact name") {
  CHECK(cookie_value("a=1; sb_console=v; c=3", "sb_console") == "v");
  CHECK(cookie_value("xsb_console=v", "sb_console").empty());
  CHECK(cookie_value("sb_console=", "sb_console").empty());
  CHECK(cookie_value(";;; sb_console=v", "sb_console") == "v");
  CHECK(cookie_value("", "sb_console").empty());
}
