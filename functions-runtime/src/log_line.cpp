#include "switchboard/detail/log_line.hpp"

#include <cstdio>

namespace switchboard::detail {
namespace {

constexpr std::size_t max_logged_value_bytes = 200;

}  // namespace

std::string log_value(std::string_view value) {
  std::string escaped = "\"";
  for (const char c : value.substr(0, max_logged_value_bytes)) {
    if (c == '"' || c == '\\') {
      escaped += '\\';
      escaped += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      escaped += '?';
    } else {
      escaped += c;
    }
  }
  if (value.size() > max_logged_value_bytes) escaped += "...";
  return escaped += '"';
}

void write_log_line(std::string_view line) {
  std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

}  // namespace switchboard::detail
