#pragma once
// The gateway-wide limits on sockets (docs/security.md "Limits"), counted where sockets are accepted and
// released wherever they end, on any thread:
// - every open socket counts against --max-connections, HTTP and WebSocket alike, until it closes;
// - a socket that has not yet carried a request with a valid token counts against its address
//   (--max-unauthenticated-per-address: IPv4 addresses, IPv6 /64 prefixes, since one host holds a whole
//   /64);
// - the bytes such sockets hold while their request headers arrive count against
//   --max-unauthenticated-bytes, so slow anonymous headers can't fill memory.
// Each count is held by a move-only handle and given back by its destructor.
#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace sb::listener {

struct SocketLimitSettings {
  std::size_t max_connections = 0;                  // 0: none
  std::size_t max_unauthenticated_per_address = 0;  // 0: none
  std::size_t max_unauthenticated_bytes = 0;        // 0: none
};

class SocketLimits;

// One open socket. Moves with the socket (transport::ClientStream holds it).
class SocketTicket {
 public:
  SocketTicket() = default;
  SocketTicket(SocketTicket&& other) noexcept : limits_(std::exchange(other.limits_, nullptr)) {}
  SocketTicket& operator=(SocketTicket&& other) noexcept;
  ~SocketTicket();

 private:
  friend class SocketLimits;
  explicit SocketTicket(SocketLimits* limits) : limits_(limits) {}
  SocketLimits* limits_ = nullptr;
};

// One socket that has not authenticated, counted against its address until released.
class AddressSlot {
 public:
  using Key = std::array<std::uint8_t, 16>;
  AddressSlot() = default;
  AddressSlot(AddressSlot&& other) noexcept : limits_(std::exchange(other.limits_, nullptr)), key_(other.key_) {}
  AddressSlot& operator=(AddressSlot&& other) noexcept;
  ~AddressSlot() { release(); }
  void release();

 private:
  friend class SocketLimits;
  AddressSlot(SocketLimits* limits, Key key) : limits_(limits), key_(key) {}
  SocketLimits* limits_ = nullptr;
  Key key_{};
};

// The bytes one unauthenticated request holds. resize() fails, changing nothing, when the gateway's
// budget can't take the growth.
class HeldBytes {
 public:
  HeldBytes() = default;
  explicit HeldBytes(SocketLimits& limits) : limits_(&limits) {}
  HeldBytes(HeldBytes&& other) noexcept : limits_(other.limits_), bytes_(std::exchange(other.bytes_, 0)) {}
  HeldBytes& operator=(HeldBytes&&) = delete;
  ~HeldBytes() { release(); }
  bool resize(std::size_t bytes);
  void release() { resize(0); }

 private:
  SocketLimits* limits_ = nullptr;
  std::size_t bytes_ = 0;
};

class SocketLimits {
 public:
  explicit SocketLimits(SocketLimitSettings settings) : settings_(settings) {}
  SocketLimits(const SocketLimits&) = delete;
  SocketLimits& operator=(const SocketLimits&) = delete;

  // What an accepted socket gets: its ticket, always; its address slot, unless the address is at its
  // cap (nullopt); and whether the gateway was already at --max-connections before it.
  struct Admission {
    SocketTicket ticket;
    std::optional<AddressSlot> slot;
    bool is_over_capacity = false;
  };
  Admission admit(const boost::asio::ip::address& address);

  std::size_t open_sockets() const { return open_.load(std::memory_order_relaxed); }
  std::size_t unauthenticated_bytes() const { return held_bytes_.load(std::memory_order_relaxed); }
  const SocketLimitSettings& settings() const { return settings_; }

  static AddressSlot::Key key_of(const boost::asio::ip::address& address);

 private:
  friend class SocketTicket;
  friend class AddressSlot;
  friend class HeldBytes;
  struct KeyHash {
    std::size_t operator()(const AddressSlot::Key& key) const noexcept;
  };

  void close_socket();
  void release_slot(const AddressSlot::Key& key);
  bool change_held_bytes(std::size_t from, std::size_t to);

  const SocketLimitSettings settings_;
  std::atomic<std::size_t> open_{0};
  std::atomic<std::size_t> held_bytes_{0};
  std::mutex unauthenticated_mutex_;  // accepts (one thread) and authentications (any thread) take it once each
  std::unordered_map<AddressSlot::Key, std::size_t, KeyHash> unauthenticated_;
};

}  // namespace sb::listener
