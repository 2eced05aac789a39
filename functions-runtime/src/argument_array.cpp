#include "switchboard/detail/argument_array.hpp"

#include <nlohmann/json.hpp>

namespace switchboard::detail {

nlohmann::ordered_json to_argument_array(nlohmann::ordered_json arguments) {
  if (arguments.is_array()) return arguments;
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  if (!arguments.is_null()) array.push_back(std::move(arguments));
  return array;
}

}  // namespace switchboard::detail
