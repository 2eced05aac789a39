// libFuzzer target for protocol/raw_json, which copies payloads through as their senders wrote them.
// Properties: never crashes or reads out of bounds, on any bytes. When nlohmann parses the input as an
// object or array (the only way callers use it), the raw scan succeeds too, finds the same members or
// elements in the same order, and each raw value parses to the value nlohmann read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "protocol/nesting.hpp"
#include "protocol/raw_json.hpp"

using namespace sb::protocol;
using nlohmann::ordered_json;

namespace {

bool same(std::string_view raw, const ordered_json& expected) {
  auto value = ordered_json::parse(raw, nullptr, /*allow_exceptions=*/false);
  return !value.is_discarded() && value == expected;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto members = raw_object_members(input);
  auto elements = raw_array_elements(input);
  if (members && elements) std::abort();  // one text is never both
  // Callers parse with nlohmann first; nlohmann stops at a NUL, and deep documents are refused before.
  if (input.find('\0') != std::string_view::npos || !json_depth_within(input)) return 0;
  auto document = ordered_json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (document.is_object()) {
    if (!members) std::abort();
    // ordered_json keeps the first position and the last value of a duplicate key.
    for (const auto& member : *members) {
      auto last = raw_member(input, member.key);
      if (!last || !same(*last, document[member.key])) std::abort();
    }
  } else if (document.is_array()) {
    if (!elements || elements->size() != document.size()) std::abort();
    for (std::size_t i = 0; i < elements->size(); ++i)
      if (!same((*elements)[i], document[i])) std::abort();
  }
  return 0;
}
