// libFuzzer target for functions-runtime's SessionCookie (switchboard/session_cookie.hpp), the cookie
// the samples sign users in with. The input is used three ways. Properties:
// - as a cookie value: never crashes; accepted only when it is exactly what issue() makes for that
//   user and expiry (the fuzzer cannot forge a signature, so in practice: never);
// - as a user id: issue() then verify() gives it back, and that value with any one byte changed is refused;
// - as the start of a Cookie header: a valid value after it, in its own pair, is still found.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <switchboard/functions.hpp>

using switchboard::SessionCookie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const SessionCookie cookie("fuzz-secret-fuzz-secret-fuzz-secret",
                                    {.name = "session", .lifetime = std::chrono::hours(1)});
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

  if (const auto user = cookie.verify(input, now)) {
    const std::size_t first_dot = input.find('.');
    const std::size_t second_dot = input.find('.', first_dot + 1);
    const std::string_view expiry_text = input.substr(first_dot + 1, second_dot - first_dot - 1);
    const auto issued_at =
        std::chrono::system_clock::time_point(std::chrono::seconds(std::stoll(std::string(expiry_text)) - 3600));
    if (cookie.issue(*user, issued_at) != input) std::abort();
  }

  if (!input.empty()) {
    const std::string value = cookie.issue(input, now);
    const auto back = cookie.verify(value, now);
    if (value.size() <= SessionCookie::max_value_bytes && back != input) std::abort();
    if (value.size() > SessionCookie::max_value_bytes && back.has_value()) std::abort();
    std::string changed = value;
    const std::size_t position = (static_cast<std::size_t>(data[0]) * 31 + size) % changed.size();
    changed[position] = static_cast<char>(changed[position] ^ (1 + data[size - 1] % 255));
    if (cookie.verify(changed, now).has_value()) std::abort();
  }

  // Without NULs: cpp-httplib's get_header_value returns a C string, so a header ends at the first one
  // (which can only hide a cookie, never forge one).
  std::string header(input);
  std::erase(header, '\0');
  httplib::Request request;
  request.headers.emplace("Cookie", header + ";session=" + cookie.issue("fuzz-user", std::chrono::system_clock::now()));
  if (cookie.user(request) != "fuzz-user") std::abort();
  return 0;
}
