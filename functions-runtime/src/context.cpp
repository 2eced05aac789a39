#include "switchboard/functions.hpp"

#include "switchboard/detail/upstream_headers.hpp"

namespace switchboard {
namespace {

std::string first_value(const std::multimap<std::string, std::string>& values, std::string_view key) {
  const auto found = values.find(std::string(key));
  return found == values.end() ? std::string{} : found->second;
}

}  // namespace

std::string Context::claim(std::string_view type) const { return first_value(claims, type); }

std::string Context::query_value(std::string_view key) const { return first_value(query, key); }

std::string Context::header(std::string_view name) const {
  const std::string* value = detail::find_header(headers, name);
  return value == nullptr ? std::string{} : *value;
}

}  // namespace switchboard
