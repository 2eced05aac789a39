#include "console/admin_auth.hpp"

#include <doctest/doctest.h>

#include <string>

using sb::console::AdminAuth;
using sb::console::ConsoleAccess;
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

TEST_CASE("the read key looks but does not act; its sessions are its own") {
  const std::string read_key = "the-read-key-0123456789";
  AdminAuth auth(key, read_key);
  CHECK(auth.access("Bearer " + key, "", now) == ConsoleAccess::full);
  CHECK(auth.access("Bearer " + read_key, "", now) == ConsoleAccess::read);
  CHECK(auth.access(basic("viewer:" + read_key), "", now) == ConsoleAccess::read);
  CHECK(auth.access("Bearer " + read_key + "x", "", now) == ConsoleAccess::none);
  CHECK(auth.key_access(read_key) == ConsoleAccess::read);
  CHECK_FALSE(auth.is_key(read_key));

  auto read = auth.session_value(now, ConsoleAccess::read);
  auto full = auth.session_value(now, ConsoleAccess::full);
  CHECK(auth.session_access(read, now) == ConsoleAccess::read);
  CHECK(auth.session_access(full, now) == ConsoleAccess::full);
  CHECK(auth.access("", "sb_console=" + read, now) == ConsoleAccess::read);
  CHECK(auth.session_access(read, now + AdminAuth::session_lifetime.count()) == ConsoleAccess::none);  // expired
  // A read session can't be turned into a full one by dropping its marker, nor the other way round.
  const auto dot = read.find('.');
  CHECK(auth.session_access(read.substr(0, dot + 1) + read.substr(dot + 3), now) == ConsoleAccess::none);
  CHECK(auth.session_access(full.substr(0, full.find('.') + 1) + "r." + full.substr(full.find('.') + 1), now) ==
        ConsoleAccess::none);
  // Changing the read key signs out its sessions, not the admin's; without a read key there are none.
  AdminAuth rotated(key, "another-read-key-0123456789");
  CHECK(rotated.session_access(read, now) == ConsoleAccess::none);
  CHECK(rotated.session_access(full, now) == ConsoleAccess::full);
  CHECK(AdminAuth(key).session_access(read, now) == ConsoleAccess::none);
  CHECK(AdminAuth(key).access("Bearer ", "", now) == ConsoleAccess::none);  // an empty read key is no key
}

TEST_CASE("cookie values are found by exact name") {
  CHECK(cookie_value("a=1; sb_console=v; c=3", "sb_console") == "v");
  CHECK(cookie_value("xsb_console=v", "sb_console").empty());
  CHECK(cookie_value("sb_console=", "sb_console").empty());
  CHECK(cookie_value(";;; sb_console=v", "sb_console") == "v");
  CHECK(cookie_value("", "sb_console").empty());
}
