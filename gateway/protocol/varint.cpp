#include "protocol/varint.hpp"

namespace sb::protocol {

VarIntRead read_varint(std::string_view input) {
  VarIntRead read;
  std::size_t value = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    if (i >= input.size()) return read;  // incomplete
    auto byte = static_cast<unsigned char>(input[i]);
    value |= static_cast<std::size_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (value >= (std::size_t{1} << 31)) break;
      read.status = VarIntStatus::ok;
      read.value = value;
      read.header_bytes = i + 1;
      return read;
    }
  }
  read.status = VarIntStatus::invalid;  // a sixth byte, or a length of 2^31 or more
  return read;
}

void append_varint(std::string& out, std::size_t value) {
  do {
    unsigned char byte = value & 0x7f;
    value >>= 7;
    if (value) byte |= 0x80;
    out += static_cast<char>(byte);
  } while (value);
}

std::string frame_with_varint(std::string_view body) {
  std::string out;
  out.reserve(body.size() + 5);
  append_varint(out, body.size());
  out += body;
  return out;
}

}  // namespace sb::protocol
