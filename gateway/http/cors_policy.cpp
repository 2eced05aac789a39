#include "http/cors_policy.hpp"

#include <algorithm>
#include <cctype>

namespace sb::http {
namespace {

std::vector<std::string>& allowed() {
  static std::vector<std::string> origins;
  return origins;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_listed(std::string_view origin) {
  auto key = lowered(origin);
  const auto& list = allowed();
  return std::find(list.begin(), list.end(), key) != list.end();
}

}  // namespace

void set_allowed_origins(const std::vector<std::string>& origins) {
  auto& list = allowed();
  list.clear();
  for (const auto& origin : origins) list.push_back(lowered(origin));
}

bool is_origin_allowed(std::string_view origin) {
  if (origin.empty() || origin.find_first_of("\r\n") != std::string_view::npos) return false;
  if (allowed().empty()) return origin != "null";
  return is_listed(origin);
}

bool is_websocket_origin_allowed(std::string_view origin) {
  if (origin.empty() || allowed().empty()) return true;
  return is_listed(origin);
}

}  // namespace sb::http
