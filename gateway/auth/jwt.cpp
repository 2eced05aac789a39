#include "auth/jwt.hpp"

#include <nlohmann/json.hpp>

#include "auth/crypto.hpp"

namespace sb::auth {
namespace {

// ordered_json keeps the token's claim order, which X-ASRS-User-Claims forwards.
using json = nlohmann::ordered_json;

Error invalid(std::string message) { return make_error("invalid_token", std::move(message)); }

std::string claim_value_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::optional<json> parse_object(std::string_view base64) {
  auto text = base64url_decode(base64);
  if (!text) return std::nullopt;
  json value = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return std::nullopt;
  return value;
}

}  // namespace

Result<VerifiedToken> verify_jwt(std::string_view token, const KeyRing& keys, std::chrono::system_clock::time_point now,
                                 const std::function<bool(std::string_view)>& audience_ok, const JwtLimits& limits) {
  if (token.empty()) return invalid("The access token is missing.");
  if (token.size() > limits.max_token_bytes) return invalid("The access token is too long.");
  auto first_dot = token.find('.');
  auto second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos)
    return invalid("The access token is malformed.");
  auto header_part = token.substr(0, first_dot);
  auto payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  auto signature_part = token.substr(second_dot + 1);

  auto header = parse_object(header_part);
  if (!header) return invalid("The access token is malformed.");
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) return invalid("The access token has no algorithm.");
  HashAlgorithm algorithm;
  if (*alg == "HS256") algorithm = HashAlgorithm::sha256;
  else if (*alg == "HS512") algorithm = HashAlgorithm::sha512;
  else return invalid("The access token algorithm is not supported.");  // none, RS*, ES*…

  auto signature = base64url_decode(signature_part);
  if (!signature) return invalid("The access token is malformed.");
  std::string_view signed_part = token.substr(0, second_dot);
  bool signature_ok = false;
  for (const auto& key : keys.keys) {  // no early exit: every key costs the same
    std::string expected = hmac(algorithm, key, signed_part);
    signature_ok |= !expected.empty() && constant_time_equals(expected, *signature);  // empty: OpenSSL failed
  }
  if (!signature_ok) return invalid("The signature key was not found.");

  auto payload = parse_object(payload_part);
  if (!payload) return invalid("The access token is malformed.");

  using std::chrono::seconds;
  auto exp = payload->find("exp");
  if (exp == payload->end() || !exp->is_number()) return invalid("The access token has no expiry.");
  auto now_seconds = std::chrono::duration_cast<seconds>(now.time_since_epoch()).count();
  double exp_seconds = exp->get<double>();
  if (exp_seconds + static_cast<double>(limits.clock_skew.count()) < static_cast<double>(now_seconds))
    return invalid("The access token is expired.");
  // A token that outlives any sensible session is a leaked key's favourite: refuse it (--max-token-lifetime).
  if (limits.max_lifetime.count() > 0 &&
      exp_seconds > static_cast<double>(now_seconds + limits.max_lifetime.count() + limits.clock_skew.count()))
    return invalid("The access token lives longer than this gateway accepts.");
  auto nbf = payload->find("nbf");
  if (nbf != payload->end()) {
    if (!nbf->is_number()) return invalid("The access token is malformed.");
    if (nbf->get<double>() > static_cast<double>(now_seconds + limits.clock_skew.count()))
      return invalid("The access token is not valid yet.");
  }

  VerifiedToken verified;
  // Clamp before converting: a year-3000 or 1e300 exp must not overflow the nanosecond time_point.
  constexpr double max_exp_seconds = 9e9;  // year 2255: system_clock (ns) ends in 2262
  double clamped = exp_seconds > max_exp_seconds ? max_exp_seconds : exp_seconds;
  verified.expires_at = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(seconds(static_cast<long long>(clamped))));
  auto aud = payload->find("aud");
  if (aud != payload->end()) {
    if (aud->is_string()) verified.audiences.push_back(aud->get<std::string>());
    else if (aud->is_array())
      for (const auto& a : *aud)
        if (a.is_string()) verified.audiences.push_back(a.get<std::string>());
  }
  bool audience_matched = false;
  for (const auto& a : verified.audiences) audience_matched = audience_matched || audience_ok(a);
  if (!audience_matched) {
    // The signature held, so the audience is the key holder's: the log names it, to tell a wrong host
    // or hub from a wrong token at a glance.
    Error error = make_error("invalid_audience", "The audience is invalid.");
    for (const auto& a : verified.audiences) error.detail += (error.detail.empty() ? "" : " ") + a;
    if (error.detail.empty()) error.detail = "(none)";
    return error;
  }

  for (const auto& [type, value] : payload->items()) {
    if (value.is_array()) {
      for (const auto& element : value) verified.claims.emplace_back(type, claim_value_text(element));
    } else {
      verified.claims.emplace_back(type, claim_value_text(value));
    }
  }
  return verified;
}

std::string user_id_from_claims(const Claims& claims) {
  // PROTOCOL.md part 3 §3.2: asrs.s.uid, then nameid, sub, the long NameIdentifier URI; the first
  // non-empty value of the first type present wins.
  static constexpr std::string_view precedence[] = {
      "asrs.s.uid", "nameid", "sub", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"};
  for (auto type : precedence)
    for (const auto& [claim_type, value] : claims)
      if (claim_type == type && !value.empty()) return value;
  return {};
}

std::string sign_jwt_hs256(std::string_view payload_json, std::string_view key) {
  std::string signed_part = base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url_encode(payload_json);
  return signed_part + "." + base64url_encode(hmac(HashAlgorithm::sha256, key, signed_part));
}

}  // namespace sb::auth
