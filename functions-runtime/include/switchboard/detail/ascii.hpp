// ASCII text helpers for protocol tokens (header names, hub names, media types, connection-string
// keys). Deliberately locale-free: std::tolower would follow the process locale.
#pragma once

#include <string>
#include <string_view>

namespace switchboard::detail {

std::string to_ascii_lower(std::string_view text);
bool equals_ignoring_ascii_case(std::string_view a, std::string_view b);
std::string_view trim_blanks(std::string_view text);  // strips spaces and tabs at both ends

}  // namespace switchboard::detail
