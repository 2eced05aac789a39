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

}  // namespace switchboard::detail
