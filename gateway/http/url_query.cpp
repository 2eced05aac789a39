#include "http/url_query.hpp"

#include "common/ascii.hpp"

namespace sb::http {
namespace {

template <typename F>
void for_each_pair(std::string_view query, F f) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      f(pair, pair.substr(0, eq), eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

}  // namespace

Target split_target(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

std::optional<QueryParams> parse_query(std::string_view query) {
  QueryParams params;
  bool ok = true;
  for_each_pair(query, [&](std::string_view, std::string_view key, std::string_view value) {
    auto k = percent_decode(key, true);
    auto v = percent_decode(value, true);
    if (!k || !v) ok = false;
    else params.emplace_back(std::move(*k), std::move(*v));
  });
  if (!ok) return std::nullopt;
  return params;
}

std::size_t count_query_parameters(std::string_view query) {
  std::size_t count = 0;
  for_each_pair(query, [&](std::string_view, std::string_view, std::string_view) { ++count; });
  return count;
}

std::vector<std::string> query_values(const QueryParams& params, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : params)
    if (iequals(k, name)) out.push_back(v);
  return out;
}

std::optional<std::string> query_value(const QueryParams& params, std::string_view name) {
  std::optional<std::string> out;
  for (const auto& [k, v] : params)
    if (iequals(k, name)) out = v;
  return out;
}

std::string redacted_target(std::string_view target) {
  static constexpr std::string_view secret_names[] = {"id", "access_token", "token", "code", "key", "sig", "signature"};
  auto is_token_char = [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~' || c == '%' || c == '+' || c == '/' || c == '=';
  };
  auto question = target.find('?');
  if (question == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, question + 1));
  std::string_view rest = target.substr(question + 1);
  bool first = true;
  while (true) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    if (!first) out += '&';
    first = false;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      out += pair;
    } else {
      auto name = pair.substr(0, eq);
      auto value = pair.substr(eq + 1);
      bool is_secret = false;
      for (auto secret : secret_names) is_secret = is_secret || iequals(name, secret);
      bool is_token_like = value.size() >= 24;
      for (unsigned char c : value) is_token_like = is_token_like && is_token_char(c);
      out += name;
      out += '=';
      out += is_secret || is_token_like ? std::string_view("***") : value;
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

std::string query_without(std::string_view raw_query, std::initializer_list<std::string_view> names) {
  std::string out;
  for_each_pair(raw_query, [&](std::string_view pair, std::string_view key, std::string_view) {
    // Compare decoded keys: "access%5Ftoken" is read as access_token, so it must be removed as one.
    auto decoded = percent_decode(key, true);
    for (auto n : names)
      if (!decoded || iequals(*decoded, n)) return;
    out += out.empty() ? '?' : '&';
    out += pair;
  });
  return out;
}

}  // namespace sb::http
