#pragma once
// The MessagePack hub protocol's record framing (PROTOCOL.md part 1 §3): a VarInt length (7-bit groups,
// least significant first, at most 5 bytes, below 2^31) before each record. Pure.
#include <cstddef>
#include <string>
#include <string_view>

namespace sb::protocol {

enum class VarIntStatus { ok, incomplete, invalid };

struct VarIntRead {
  VarIntStatus status = VarIntStatus::incomplete;
  std::size_t value = 0;
  std::size_t header_bytes = 0;
};

VarIntRead read_varint(std::string_view input);
void append_varint(std::string& out, std::size_t value);
std::string frame_with_varint(std::string_view body);

}  // namespace sb::protocol
