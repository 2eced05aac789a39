#pragma once
// The text of JSON values as their sender wrote it, so payloads pass through untouched: nlohmann's
// `json` keeps objects in a sorted map, and dumping a parsed value re-sorts keys and rewrites numbers.
// Callers parse with nlohmann first (validity, depth, UTF-8) and then copy the value's bytes from the
// source text with these. Pure; bounds-checked however the text looks, and iterative (no recursion).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::protocol {

struct RawMember {
  std::string key;         // unescaped
  std::string_view value;  // the value's text, without the whitespace around it
};

// An object's members in the order written; nullopt when `text` is not one well-formed object.
std::optional<std::vector<RawMember>> raw_object_members(std::string_view text);

// An array's elements in the order written; nullopt when `text` is not one well-formed array.
std::optional<std::vector<std::string_view>> raw_array_elements(std::string_view text);

// The value of the last member named `key` (nlohmann keeps the last of duplicate keys), compared
// ASCII case-insensitively when `ignore_case`; nullopt when there is none.
std::optional<std::string_view> raw_member(std::string_view object_text, std::string_view key, bool ignore_case = false);

}  // namespace sb::protocol
