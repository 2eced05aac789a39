// libFuzzer target for the iterative depth checks that guard nlohmann's recursive readers.
// Properties: neither check ever crashes. MessagePack: whatever msgpack_well_formed accepts, nlohmann's
// strict from_msgpack (no exceptions) reads without crashing, and what it reads re-encodes to
// well-formed MessagePack; on small inputs (where nlohmann's recursion is safe), bytes that aren't
// well-formed at any depth are rejected by nlohmann too. JSON: when nlohmann parses the text,
// json_depth_within agrees exactly with the depth nlohmann saw.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/nesting.hpp"

using namespace sb::protocol;
using nlohmann::json;

namespace {

constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

void check_msgpack(std::string_view input) {
  if (msgpack_well_formed(input)) {
    if (!msgpack_well_formed(input, unlimited)) std::abort();
    json value = json::from_msgpack(input, /*strict=*/true, /*allow_exceptions=*/false);
    if (!value.is_discarded()) {
      auto again = json::to_msgpack(value);
      std::string_view bytes(reinterpret_cast<const char*>(again.data()), again.size());
      if (!msgpack_well_formed(bytes)) std::abort();
    }
  } else if (input.size() <= 256 && !msgpack_well_formed(input, unlimited)) {
    json value = json::from_msgpack(input, /*strict=*/true, /*allow_exceptions=*/false);
    if (!value.is_discarded()) std::abort();  // nlohmann read something we call malformed
  }
}

void check_json(std::string_view input) {
  bool within = json_depth_within(input);
  // nlohmann's parser is iterative, so it is safe on any input; the callback sees every container.
  int max_depth = 0;
  json::parser_callback_t measure = [&](int depth, json::parse_event_t event, json&) {
    if (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start)
      max_depth = std::max(max_depth, depth + 1);
    return true;
  };
  json value = json::parse(input, measure, /*allow_exceptions=*/false);
  if (value.is_discarded()) return;
  // nlohmann's lexer takes a NUL outside a string as the end of input (inside one it is an error), so
  // compare on the text it actually read. A longer text only counts deeper, so json_depth_within on
  // the whole input is at least as strict.
  auto read = input.substr(0, input.find('\0'));
  auto depth = static_cast<std::size_t>(max_depth);
  if (!json_depth_within(read, depth)) std::abort();
  if (depth > 0 && json_depth_within(read, depth - 1)) std::abort();
  if (within && !json_depth_within(read)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_msgpack(input);
  check_json(input);
  return 0;
}
