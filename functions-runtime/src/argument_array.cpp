#include "switchboard/detail/argument_array.hpp"

#include <nlohmann/json.hpp>

namespace switchboard::detail {

nlohmann::json to_argument_array(nlohmann::json arguments) {
  if (arguments.is_array()) return arguments;
  nlohmann::json array = nlohmann::json::array();
  if (!arguments.is_null()) array.push_back(std::move(arguments));
  return array;
}

}  // namespace switchboard::detail
