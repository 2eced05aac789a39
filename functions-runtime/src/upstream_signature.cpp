#include "switchboard/detail/upstream_signature.hpp"

#include <algorithm>

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

std::string canonical_signed_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::vector<std::pair<std::string, std::string>> lines;
  for (const auto& [name, value] : headers) {
    std::string lower = to_ascii_lower(name);
    const bool is_signed = (lower.rfind("x-asrs-", 0) == 0 && lower != "x-asrs-signature") ||
                           lower == "x-switchboard-event-id" || lower == "content-type";
    if (is_signed) lines.emplace_back(std::move(lower), std::string(trim_blanks(value)));
  }
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [name, value] : lines) out.append(name).append(":").append(value).append("\n");
  return out;
}

std::string sign_request(std::string_view access_key, std::string_view timestamp, std::string_view method,
                         std::string_view path_and_query, std::string_view signed_headers, std::string_view body) {
  std::string message = "v2\n";
  message.reserve(timestamp.size() + method.size() + path_and_query.size() + signed_headers.size() + body.size() + 8);
  message.append(timestamp).append("\n").append(method).append("\n").append(path_and_query).append("\n");
  message.append(signed_headers).append("\n").append(body);
  return "v2=" + to_lower_hex(hmac_sha256(access_key, message));
}

std::string matching_request_signature(std::string_view signature_header, std::string_view timestamp,
                                       std::string_view method, std::string_view path_and_query,
                                       std::string_view signed_headers, std::string_view body,
                                       const std::vector<std::string>& access_keys, long long now_seconds,
                                       long long tolerance_seconds) {
  if (timestamp.empty() || timestamp.size() > 12 || timestamp.find_first_not_of("0123456789") != std::string_view::npos)
    return {};
  const long long sent = std::stoll(std::string(timestamp));
  if (sent < now_seconds - tolerance_seconds || sent > now_seconds + tolerance_seconds) return {};
  std::string matched;
  for (const std::string& key : access_keys) {
    const std::string expected = sign_request(key, timestamp, method, path_and_query, signed_headers, body);
    std::string_view rest = signature_header;
    while (true) {
      const std::size_t comma = rest.find(',');
      const std::string candidate = to_ascii_lower(trim_blanks(rest.substr(0, comma)));
      // Every entry against every key, even after a match: the time taken says nothing about which.
      if (equals_constant_time(candidate, expected)) matched = expected;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return matched;
}

}  // namespace switchboard::detail
