#include "protocol/nesting.hpp"

#include <cstdint>
#include <vector>

namespace sb::protocol {

bool json_depth_within(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

namespace {

std::uint64_t read_be(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

bool msgpack_well_formed(std::string_view bytes, std::size_t max_depth) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t size = bytes.size(), pos = 0;
  // Values still expected at each open container level; the bottom entry is the one top-level value.
  std::vector<std::uint64_t> remaining{1};
  auto need = [&](std::uint64_t n) { return n <= size - pos; };
  while (!remaining.empty()) {
    if (remaining.back() == 0) {
      remaining.pop_back();
      continue;
    }
    --remaining.back();
    if (!need(1)) return false;
    unsigned char b = p[pos++];
    std::uint64_t skip = 0, children = 0;
    bool is_container = false;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
      // fixint, negative fixint, nil, false, true
    } else if (b >= 0xa0 && b <= 0xbf) {
      skip = b & 0x1f;
    } else if (b >= 0x90 && b <= 0x9f) {
      children = b & 0x0f;
      is_container = true;
    } else if (b >= 0x80 && b <= 0x8f) {
      children = 2ull * (b & 0x0f);
      is_container = true;
    } else {
      switch (b) {
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xca: case 0xce: case 0xd2: skip = 4; break;
        case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
        case 0xd4: skip = 2; break;   // fixext 1: type + 1
        case 0xd5: skip = 3; break;
        case 0xd6: skip = 5; break;
        case 0xd7: skip = 9; break;
        case 0xd8: skip = 17; break;
        case 0xc4: case 0xd9: if (!need(1)) return false; skip = p[pos]; pos += 1; break;
        case 0xc5: case 0xda: if (!need(2)) return false; skip = read_be(p + pos, 2); pos += 2; break;
        case 0xc6: case 0xdb: if (!need(4)) return false; skip = read_be(p + pos, 4); pos += 4; break;
        case 0xc7: if (!need(1)) return false; skip = p[pos] + 1ull; pos += 1; break;
        case 0xc8: if (!need(2)) return false; skip = read_be(p + pos, 2) + 1; pos += 2; break;
        case 0xc9: if (!need(4)) return false; skip = read_be(p + pos, 4) + 1; pos += 4; break;
        case 0xdc: if (!need(2)) return false; children = read_be(p + pos, 2); pos += 2; is_container = true; break;
        case 0xdd: if (!need(4)) return false; children = read_be(p + pos, 4); pos += 4; is_container = true; break;
        case 0xde: if (!need(2)) return false; children = 2 * read_be(p + pos, 2); pos += 2; is_container = true; break;
        case 0xdf: if (!need(4)) return false; children = 2 * read_be(p + pos, 4); pos += 4; is_container = true; break;
        default: return false;  // 0xc1 is never used
      }
    }
    if (!need(skip)) return false;
    pos += skip;
    if (is_container) {
      if (remaining.size() > max_depth) return false;  // an empty container still counts as a level
      if (children > size - pos) return false;          // each child takes at least one byte
      if (children > 0) remaining.push_back(children);
    }
  }
  return pos == size;
}

}  // namespace sb::protocol
