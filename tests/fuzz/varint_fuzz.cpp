// libFuzzer target for the MessagePack framing VarInt (PROTOCOL.md part 1 §3: 7-bit groups, least
// significant first, at most 5 bytes, below 2^31).
// Properties: never crashes; ok means value < 2^31 and a header of 1..5 bytes, and append_varint(value)
// reproduces the header bytes when they are in shortest form (senders may pad with 0x80 groups, e.g.
// `80 00` for 0, which we accept as .NET's reader does; then our encoding is shorter) and reads back to
// the same value; incomplete means every byte so far (fewer than 5) has its continuation bit set;
// invalid means a length of 2^31 or more, or five continuation bytes. Also: any 31-bit value taken
// from the input survives append_varint -> read_varint.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/varint.hpp"

using namespace sb::protocol;

namespace {

constexpr std::size_t limit = std::size_t{1} << 31;

void check_round_trip(std::size_t value) {
  std::string encoded;
  append_varint(encoded, value);
  if (encoded.empty() || encoded.size() > 5) std::abort();
  auto read = read_varint(encoded);
  if (read.status != VarIntStatus::ok || read.value != value || read.header_bytes != encoded.size()) std::abort();
  if (frame_with_varint(std::string(value % 300, 'x')).size() != value % 300 + (value % 300 < 128 ? 1 : 2))
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto read = read_varint(input);
  switch (read.status) {
    case VarIntStatus::ok: {
      if (read.value >= limit || read.header_bytes < 1 || read.header_bytes > 5 || read.header_bytes > size)
        std::abort();
      for (std::size_t i = 0; i + 1 < read.header_bytes; ++i)
        if ((data[i] & 0x80) == 0) std::abort();             // stopped late
      if (data[read.header_bytes - 1] & 0x80) std::abort();  // stopped early
      std::string encoded;
      append_varint(encoded, read.value);
      bool shortest = read.header_bytes == 1 || data[read.header_bytes - 1] != 0;
      if (shortest && encoded != input.substr(0, read.header_bytes)) std::abort();
      if (!shortest && encoded.size() >= read.header_bytes) std::abort();
      check_round_trip(read.value);
      break;
    }
    case VarIntStatus::incomplete:
      if (size >= 5) std::abort();
      for (std::size_t i = 0; i < size; ++i)
        if ((data[i] & 0x80) == 0) std::abort();
      break;
    case VarIntStatus::invalid: {
      if (size == 0) std::abort();
      // Recompute what the bytes say, up to five of them.
      std::uint64_t value = 0;
      std::size_t i = 0;
      bool ended = false;
      for (; i < 5 && i < size; ++i) {
        value |= static_cast<std::uint64_t>(data[i] & 0x7f) << (7 * i);
        if ((data[i] & 0x80) == 0) {
          ended = true;
          break;
        }
      }
      if (ended ? value < limit : i < 5) std::abort();
      break;
    }
  }

  if (size >= 4) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) value = (value << 8) | data[i];
    check_round_trip(value & 0x7fffffffu);
  }
  return 0;
}
