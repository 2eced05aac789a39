// libFuzzer target for the JWT verifier (PROTOCOL.md part 2 §1.3).
// The input is tried twice: as a raw token, and as the payload of a token signed with the ring's
// key, so the fuzzer reaches the claim checks behind the signature. Properties: never crashes (nor
// trips UBSan); a raw token over the limit is refused; a verified token's audiences all passed the
// predicate; user_id_from_claims returns one of the claim values.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/jwt.hpp"

using namespace sb::auth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static const KeyRing keys{{"fuzz-primary-key", "fuzz-secondary-key"}};
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  JwtLimits limits;
  limits.max_token_bytes = 2048;

  auto audience_ok = [](std::string_view audience) { return !audience.empty() && audience.front() != 'x'; };
  auto check = [&](const sb::Result<VerifiedToken>& verified) {
    if (!verified.ok()) {
      const auto& code = verified.error().code;
      if (code != "invalid_token" && code != "invalid_audience") std::abort();
      return;
    }
    bool any_accepted = false;
    for (const auto& audience : verified->audiences) any_accepted = any_accepted || audience_ok(audience);
    if (!any_accepted) std::abort();
    auto user = user_id_from_claims(verified->claims);
    if (!user.empty()) {
      bool found = false;
      for (const auto& claim : verified->claims) found = found || claim.second == user;
      if (!found) std::abort();
    }
  };

  auto raw = verify_jwt(input, keys, now, audience_ok, limits);
  if (raw.ok() && input.size() > limits.max_token_bytes) std::abort();
  check(raw);

  check(verify_jwt(sign_jwt_hs256(input, "fuzz-secondary-key"), keys, now, audience_ok, {}));
  return 0;
}
