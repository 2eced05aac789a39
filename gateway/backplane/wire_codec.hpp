#pragma once
// The byte writer and reader of the backplane's binary messages (envelope.hpp, relay_message.hpp):
// integers little-endian, a string as a u32 length and its bytes. The reader checks every length
// against the bytes left before it builds anything, so a forged length allocates nothing; its first
// failure sticks, names its field, and later reads return zeros. Internal to backplane/*.cpp.
#include <cassert>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sb::backplane::wire {

class Writer {
 public:
  void byte(std::uint8_t value) { out_ += static_cast<char>(value); }
  void u16(std::uint16_t value) { little_endian(value, 2); }
  void u64(std::uint64_t value) { little_endian(value, 8); }
  void text(std::string_view value) {
    assert(value.size() <= std::numeric_limits<std::uint32_t>::max());
    little_endian(value.size(), 4);
    out_ += value;
  }
  void texts(const std::vector<std::string>& values) {
    u64(values.size());
    for (const auto& v : values) text(v);
  }
  std::string take() { return std::move(out_); }

 private:
  void little_endian(std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out_ += static_cast<char>((value >> (8 * i)) & 0xff);
  }
  std::string out_;
};

class Reader {
 public:
  // `error_code`: the code of the error() it reports ("invalid_envelope", …).
  Reader(std::string_view bytes, const char* error_code) : in_(bytes), error_code_(error_code) {}

  std::uint8_t byte(const char* field) { return static_cast<std::uint8_t>(little_endian(field, 1)); }
  std::uint16_t u16(const char* field) { return static_cast<std::uint16_t>(little_endian(field, 2)); }
  std::uint64_t u64(const char* field) { return little_endian(field, 8); }
  std::string text(const char* field) {
    auto size = little_endian(field, 4);
    if (!need(size, field)) return {};
    std::string value(in_.substr(0, size));
    in_.remove_prefix(size);
    return value;
  }
  std::vector<std::string> texts(const char* field) {
    auto count = u64(field);
    std::vector<std::string> values;
    // Each entry takes at least 4 bytes: a count beyond that is a lie, not a reason to allocate.
    if (count > in_.size() / 4) {
      fail(field, "count exceeds the bytes left");
      return values;
    }
    for (std::uint64_t i = 0; i < count && ok(); ++i) values.push_back(text(field));
    return values;
  }
  bool boolean(const char* field) {
    auto value = byte(field);
    if (value > 1) fail(field, "expected 0 or 1");
    return value == 1;
  }
  template <typename Enum>
  Enum choice(const char* field, std::uint8_t first, std::uint8_t last) {
    auto value = byte(field);
    if (ok() && (value < first || value > last)) fail(field, "unknown value " + std::to_string(value));
    return static_cast<Enum>(value);
  }

  bool ok() const { return !error_; }
  bool at_end() const { return in_.empty(); }
  void fail(const char* field, const std::string& rule) {
    if (!error_) error_ = std::string(field) + ": " + rule;
  }
  Error error() const { return make_error(error_code_, error_.value_or("malformed")); }

 private:
  std::uint64_t little_endian(const char* field, std::size_t bytes) {
    if (!need(bytes, field)) return 0;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i)
      value |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(bytes);
    return value;
  }
  bool need(std::uint64_t size, const char* field) {
    if (error_) return false;
    if (in_.size() < size) {
      fail(field, "truncated");
      return false;
    }
    return true;
  }

  std::string_view in_;
  const char* error_code_;
  std::optional<std::string> error_;
};

}  // namespace sb::backplane::wire
