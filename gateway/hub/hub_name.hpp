#pragma once
// Hub names: what the gateway accepts as a hub, and the key it indexes hubs by (they are
// case-insensitive, as in Azure).
#include <string>
#include <string_view>

namespace sb::hub {

// A letter, then letters, digits and _`,.[] — at most 128 (PROTOCOL.md part 2 §5).
bool is_valid_hub_name(std::string_view hub);
std::string hub_key_of(std::string_view hub);  // lower-cased

}  // namespace sb::hub
