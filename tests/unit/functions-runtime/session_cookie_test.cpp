#include "switchboard/session_cookie.hpp"

#include <chrono>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

using switchboard::SessionCookie;
using switchboard::SessionCookieOptions;

namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";
const auto kIssuedAt = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
const SessionCookieOptions kOneHour{.name = "session", .lifetime = std::chrono::hours(1)};

// Computed with Python's hmac and base64 modules: user "alice", expiry 1700003600, secret kSecret.
constexpr const char* kAliceValue = "YWxpY2U.1700003600.9xv7Hjrs3Qvbhon705XnEHNnl8ZR7X-kKV4mq58_X3w";

}  // namespace

TEST_CASE("issues the value an independent implementation makes") {
  const SessionCookie cookie(kSecret, kOneHour);
  CHECK(cookie.issue("alice", kIssuedAt) == kAliceValue);
  CHECK(cookie.verify(kAliceValue, kIssuedAt) == "alice");
}

TEST_CASE("verifying what was issued gives the user back") {
  const SessionCookie cookie(kSecret, kOneHour);
  for (const std::string& user : std::initializer_list<std::string>{"alice", "Zoë Ødegård", "a.b.c", "x",
                                                                    std::string(300, 'n'), std::string("\0\xff", 2)}) {
    CHECK(cookie.verify(cookie.issue(user, kIssuedAt), kIssuedAt + std::chrono::minutes(59)) == user);
  }
}

TEST_CASE("refuses a value signed with another secret") {
  const SessionCookie other("fedcba9876543210fedcba9876543210", kOneHour);
  const SessionCookie cookie(kSecret, kOneHour);
  CHECK_FALSE(cookie.verify(other.issue("alice", kIssuedAt), kIssuedAt).has_value());
}

TEST_CASE("refuses a value from its expiry on") {
  const SessionCookie cookie(kSecret, kOneHour);
  CHECK(cookie.verify(kAliceValue, kIssuedAt + std::chrono::seconds(3599)) == "alice");
  CHECK_FALSE(cookie.verify(kAliceValue, kIssuedAt + std::chrono::seconds(3600)).has_value());
  CHECK_FALSE(cookie.verify(kAliceValue, kIssuedAt + std::chrono::hours(48)).has_value());
}

TEST_CASE("refuses a value expiring later than now plus the lifetime") {
  // The same secret with a longer lifetime, as before a restart that shortened it.
  const SessionCookie longer(kSecret, {.name = "session", .lifetime = std::chrono::hours(24)});
  const SessionCookie cookie(kSecret, kOneHour);
  CHECK_FALSE(cookie.verify(longer.issue("alice", kIssuedAt), kIssuedAt).has_value());
  CHECK(cookie.verify(longer.issue("alice", kIssuedAt), kIssuedAt + std::chrono::hours(23)) == "alice");
}

TEST_CASE("refuses a value with any one character changed") {
  const SessionCookie cookie(kSecret, kOneHour);
  const std::string value = kAliceValue;
  for (std::size_t i = 0; i < value.size(); ++i) {
    for (const char replacement : {'A', 'B', 'Q', 'g', '0', '1', '9', '-', '_', '.', '='}) {
      if (value[i] == replacement) continue;
      std::string changed = value;
      changed[i] = replacement;
      INFO("position ", i, ": ", changed);
      CHECK_FALSE(cookie.verify(changed, kIssuedAt).has_value());
    }
  }
}

TEST_CASE("refuses another spelling of the same signature bytes") {
  // The signature's last character carries 4 bits and 2 unused ones: 'w' (48) and 'x' (49) decode to
  // the same bytes, but only the spelling that was issued passes.
  const SessionCookie cookie(kSecret, kOneHour);
  std::string respelled = kAliceValue;
  REQUIRE(respelled.back() == 'w');
  respelled.back() = 'x';
  CHECK_FALSE(cookie.verify(respelled, kIssuedAt).has_value());
}

TEST_CASE("refuses malformed values, also when correctly signed") {
  const SessionCookie cookie(kSecret, kOneHour);
  SUBCASE("not three parts") {
    for (const char* value : {"", ".", "..", "...", "alice", "YWxpY2U.1700003600", "YWxpY2U", "%%%.1.x"}) {
      CHECK_FALSE(cookie.verify(value, kIssuedAt).has_value());
    }
  }
  SUBCASE("signed, but with an empty user, a signed or empty expiry, or 20 expiry digits") {
    // Signatures computed with Python, as for kAliceValue.
    for (const char* value : {".1700003600._fpVY0occk2dAnAhkA7MW0LTrKlr1dJ89uU4sH7ym5g",
                              "YWxpY2U.+1700003600.xEhLOVavJF5BWU7yJiLn4Huda_4MA91dvo-0gpiPAAc",
                              "YWxpY2U..96WWsmmOMIQ13W7Av0bbs3BrpTPozBfvlhZXgAoyQn4",
                              "YWxpY2U.99999999999999999999.6v6BTQvJ0lVdOd2kFXc4vL61WNid6mTh1Lm7qAZSR9o"}) {
      CHECK_FALSE(cookie.verify(value, kIssuedAt).has_value());
    }
  }
  SUBCASE("longer than a browser keeps") {
    const std::string value = cookie.issue(std::string(SessionCookie::max_value_bytes, 'n'), kIssuedAt);
    CHECK_FALSE(cookie.verify(value, kIssuedAt).has_value());
  }
}

TEST_CASE("finds the signed-in user among a request's cookies") {
  const SessionCookie cookie(kSecret, {.name = "chat_session", .lifetime = std::chrono::hours(1)});
  const std::string valid = cookie.issue("alice", std::chrono::system_clock::now());
  httplib::Request request;
  SUBCASE("no Cookie header") {
    CHECK_FALSE(cookie.user(request).has_value());
  }
  SUBCASE("among other cookies, with and without spaces") {
    request.headers.emplace("Cookie", "theme=dark;chat_session=" + valid + " ; lang=en");
    CHECK(cookie.user(request) == "alice");
  }
  SUBCASE("under another name only") {
    request.headers.emplace("Cookie", "session=" + valid + "; chat_session_old=" + valid);
    CHECK_FALSE(cookie.user(request).has_value());
  }
  SUBCASE("after an invalid value of the same name, in a second Cookie header") {
    request.headers.emplace("Cookie", "chat_session=forged.1.x; chat_session");
    request.headers.emplace("cookie", "chat_session=" + valid);
    CHECK(cookie.user(request) == "alice");
  }
  SUBCASE("only invalid values") {
    request.headers.emplace("Cookie", "chat_session=; chat_session==; =; ;;chat_session=" + valid + "x");
    CHECK_FALSE(cookie.user(request).has_value());
  }
}

TEST_CASE("Set-Cookie signs in with HttpOnly, SameSite=Strict, Path=/ and Max-Age, Secure over https") {
  const SessionCookie cookie(kSecret, {.name = "chat_session", .lifetime = std::chrono::hours(2)});
  const std::string plain = cookie.set_cookie("alice", false);
  REQUIRE(plain.starts_with("chat_session="));
  const std::string value = plain.substr(13, plain.find(';') - 13);
  CHECK(cookie.verify(value, std::chrono::system_clock::now()) == "alice");
  CHECK(plain.substr(plain.find(';')) == "; Max-Age=7200; Path=/; HttpOnly; SameSite=Strict");
  CHECK(cookie.set_cookie("alice", true).ends_with("; SameSite=Strict; Secure"));
  CHECK(cookie.clear_cookie(false) == "chat_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict");
  CHECK(cookie.clear_cookie(true) == "chat_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict; Secure");
}

TEST_CASE("refuses a short secret, a name that is not a token and a lifetime that is not positive") {
  CHECK_THROWS_WITH_AS(SessionCookie(std::string(31, 's')), "the session secret must be at least 32 bytes",
                       std::invalid_argument);
  for (const char* name : {"", "a b", "a;b", "a=b", "caf\xc3\xa9"}) {
    CHECK_THROWS_AS(SessionCookie(kSecret, {.name = name}), std::invalid_argument);
  }
  CHECK_THROWS_AS(SessionCookie(kSecret, {.name = "s", .lifetime = std::chrono::seconds(0)}), std::invalid_argument);
  CHECK_THROWS_AS(SessionCookie(kSecret).issue("", kIssuedAt), std::invalid_argument);
}

TEST_CASE("random secrets are long enough and differ") {
  const std::string first = SessionCookie::random_secret();
  CHECK(first.size() == SessionCookie::min_secret_bytes);
  CHECK(first != SessionCookie::random_secret());
  CHECK_NOTHROW(SessionCookie{first});
}
