#pragma once
// A Redis reply (RESP2): what the parser builds and the backplane reads. Pure.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sb::redis {

struct Reply {
  enum class Type : std::uint8_t { string, status, error, integer, nil, array };

  Type type = Type::nil;
  std::string text;  // string, status and error replies
  long long integer = 0;
  std::vector<Reply> elements;  // array replies

  bool is_array() const { return type == Type::array; }
  bool is_error() const { return type == Type::error; }
  std::size_t size() const { return elements.size(); }
  // The i-th element of an array (i < size()).
  const Reply* element(std::size_t i) const { return &elements[i]; }
};

}  // namespace sb::redis
