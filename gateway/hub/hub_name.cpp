#include "hub/hub_name.hpp"

namespace sb::hub {

bool is_valid_hub_name(std::string_view hub) {
  if (hub.empty() || hub.size() > 128) return false;
  auto is_letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (!is_letter(hub[0])) return false;
  for (char c : hub)
    if (!is_letter(c) && !(c >= '0' && c <= '9') && c != '_' && c != '`' && c != ',' && c != '.' && c != '[' && c != ']')
      return false;
  return true;
}

std::string hub_key_of(std::string_view hub) {
  std::string key(hub);
  for (auto& c : key)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return key;
}

}  // namespace sb::hub
