#include "common/ids.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <cstdint>
#include <stdexcept>

namespace sb {

namespace {

// getrandom(2) output taken 1 KiB at a time per thread: one system call per 64 ids instead of one per
// id (a connection costs three ids and an upstream event one). The bytes are the kernel CSPRNG's all the
// same; the process never forks, so no two processes share a buffer.
class RandomBytes {
 public:
  void take(std::uint8_t* out, std::size_t count) {
    if (used_ + count > buffer_.size()) refill();
    std::memcpy(out, buffer_.data() + used_, count);
    std::memset(buffer_.data() + used_, 0, count);  // handed-out secrets don't linger here
    used_ += count;
  }

 private:
  void refill() {
    std::size_t filled = 0;
    while (filled < buffer_.size()) {
      ssize_t n = getrandom(buffer_.data() + filled, buffer_.size() - filled, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error("getrandom failed");  // only before the pool is ready; a bug here
      }
      filled += static_cast<std::size_t>(n);
    }
    used_ = 0;
  }

  std::array<std::uint8_t, 1024> buffer_{};
  std::size_t used_ = buffer_.size();
};

}  // namespace

std::string random_id() {
  thread_local RandomBytes random;
  std::array<std::uint8_t, 16> bytes{};
  random.take(bytes.data(), bytes.size());
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve(22);
  std::uint32_t acc = 0;
  int bits = 0;
  for (auto b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 63];
  return out;
}

}  // namespace sb
