#pragma once
// Depth checks run before a document is parsed into a tree. nlohmann's MessagePack reader recurses per
// level, and dump() recurses for JSON too, so a body of 100,000 '[' could exhaust a thread's stack; these
// scans are iterative and reject such input first. Pure.
#include <cstddef>
#include <string_view>

namespace sb::protocol {

inline constexpr std::size_t max_document_depth = 128;

// False when arrays/objects nest deeper than max_depth (brackets inside strings don't count). Says
// nothing else about validity.
bool json_depth_within(std::string_view text, std::size_t max_depth = max_document_depth);

// False when containers nest deeper than max_depth or the bytes are not well-formed MessagePack
// (truncated values, reserved byte 0xc1, trailing bytes after one value).
bool msgpack_well_formed(std::string_view bytes, std::size_t max_depth = max_document_depth);

}  // namespace sb::protocol
