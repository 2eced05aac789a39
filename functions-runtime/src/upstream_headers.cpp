#include "switchboard/detail/upstream_headers.hpp"

#include "switchboard/detail/ascii.hpp"
#include "switchboard/detail/percent_encoding.hpp"

namespace switchboard::detail {

const std::string* find_header(const HeaderMap& headers, std::string_view name) {
  for (const auto& [header_name, value] : headers) {
    if (equals_ignoring_ascii_case(header_name, name)) return &value;
  }
  return nullptr;
}

std::multimap<std::string, std::string> parse_user_claims(std::string_view header_value) {
  static constexpr std::string_view kClaimSeparator = ", ";
  static constexpr std::string_view kTypeSeparator = ": ";

  std::multimap<std::string, std::string> claims;
  auto last_claim = claims.end();
  std::string_view rest = header_value;
  while (!rest.empty()) {
    const std::size_t end = rest.find(kClaimSeparator);
    const std::string_view piece = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + kClaimSeparator.size());

    const std::size_t colon = piece.find(kTypeSeparator);
    if (colon != std::string_view::npos && !trim_blanks(piece.substr(0, colon)).empty()) {
      last_claim = claims.emplace(std::string(trim_blanks(piece.substr(0, colon))),
                                  std::string(piece.substr(colon + kTypeSeparator.size())));
    } else if (last_claim != claims.end()) {
      last_claim->second.append(kClaimSeparator).append(piece);
    }
  }
  return claims;
}

std::multimap<std::string, std::string> parse_client_query(std::string_view header_value) {
  std::multimap<std::string, std::string> query;
  if (!header_value.empty() && header_value.front() == '?') header_value.remove_prefix(1);
  while (!header_value.empty()) {
    const std::size_t end = header_value.find('&');
    const std::string_view pair = header_value.substr(0, end);
    header_value = end == std::string_view::npos ? std::string_view{} : header_value.substr(end + 1);
    if (pair.empty()) continue;

    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos) {
      query.emplace(percent_decode(pair, true), std::string{});
    } else {
      query.emplace(percent_decode(pair.substr(0, equals), true), percent_decode(pair.substr(equals + 1), true));
    }
  }
  return query;
}

}  // namespace switchboard::detail
