// The one rule for the `arguments` a user hands Reply and RestClient: the hub message needs an array
// (docs/upstream.md "Action envelope", docs/rest-api.md).
#pragma once

#include <nlohmann/json_fwd.hpp>

namespace switchboard::detail {

// An array stays as it is; null (what `{}` converts to) means no arguments; any other value is the
// single argument.
nlohmann::ordered_json to_argument_array(nlohmann::ordered_json arguments);

}  // namespace switchboard::detail
