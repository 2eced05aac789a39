#include "switchboard/detail/upstream_signature.hpp"

#include "switchboard/detail/ascii.hpp"
#include "switchboard/detail/crypto.hpp"

namespace switchboard::detail {

std::string sign_connection_id(std::string_view access_key, std::string_view connection_id) {
  return "sha256=" + to_lower_hex(hmac_sha256(access_key, connection_id));
}

bool is_upstream_signature_valid(std::string_view signature_header, std::string_view connection_id,
                                 const std::vector<std::string>& access_keys) {
  std::vector<std::string> expected;
  expected.reserve(access_keys.size());
  for (const std::string& key : access_keys) expected.push_back(sign_connection_id(key, connection_id));

  bool is_valid = false;
  std::string_view rest = signature_header;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string candidate = to_ascii_lower(trim_blanks(rest.substr(0, comma)));
    // Compare against every key even after a match, so the time taken says nothing about which.
    for (const std::string& signature : expected) is_valid |= equals_constant_time(candidate, signature);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return is_valid;
}

std::string sign_request(std::string_view access_key, std::string_view timestamp, std::string_view method,
                         std::string_view path_and_query, std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + method.size() + path_and_query.size() + body.size() + 3);
  message.append(timestamp).append("\n").append(method).append("\n").append(path_and_query).append("\n").append(body);
  return "v1=" + to_lower_hex(hmac_sha256(access_key, message));
}

bool is_request_signature_valid(std::string_view signature_header, std::string_view timestamp,
                                std::string_view method, std::string_view path_and_query, std::string_view body,
                                const std::vector<std::string>& access_keys, long long now_seconds,
                                long long tolerance_seconds) {
  if (timestamp.empty() || timestamp.size() > 12 || timestamp.find_first_not_of("0123456789") != std::string_view::npos)
    return false;
  const long long sent = std::stoll(std::string(timestamp));
  if (sent < now_seconds - tolerance_seconds || sent > now_seconds + tolerance_seconds) return false;
  bool is_valid = false;
  for (const std::string& key : access_keys) {
    const std::string expected = sign_request(key, timestamp, method, path_and_query, body);
    std::string_view rest = signature_header;
    while (true) {
      const std::size_t comma = rest.find(',');
      const std::string candidate = to_ascii_lower(trim_blanks(rest.substr(0, comma)));
      is_valid |= equals_constant_time(candidate, expected);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return is_valid;
}

}  // namespace switchboard::detail
