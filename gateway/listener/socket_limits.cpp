#include "listener/socket_limits.hpp"

#include <cstring>
#include <string_view>

#include "common/metrics.hpp"

namespace sb::listener {

SocketTicket& SocketTicket::operator=(SocketTicket&& other) noexcept {
  if (this != &other) {
    if (limits_) limits_->close_socket();
    limits_ = std::exchange(other.limits_, nullptr);
  }
  return *this;
}

SocketTicket::~SocketTicket() {
  if (limits_) limits_->close_socket();
}

AddressSlot& AddressSlot::operator=(AddressSlot&& other) noexcept {
  if (this != &other) {
    release();
    limits_ = std::exchange(other.limits_, nullptr);
    key_ = other.key_;
  }
  return *this;
}

void AddressSlot::release() {
  if (auto* limits = std::exchange(limits_, nullptr)) limits->release_slot(key_);
}

bool HeldBytes::resize(std::size_t bytes) {
  if (!limits_ || bytes == bytes_) return true;
  if (!limits_->change_held_bytes(bytes_, bytes)) return false;
  bytes_ = bytes;
  return true;
}

AddressSlot::Key SocketLimits::key_of(const boost::asio::ip::address& address) {
  AddressSlot::Key key{};
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    std::memcpy(key.data(), bytes.data(), bytes.size());
    key[15] = 4;  // apart from every IPv6 prefix, whose last 8 bytes are zero
    return key;
  }
  auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return key_of(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6));
  auto bytes = v6.to_bytes();
  std::memcpy(key.data(), bytes.data(), 8);  // the /64: one host or one home network
  return key;
}

std::size_t SocketLimits::KeyHash::operator()(const AddressSlot::Key& key) const noexcept {
  return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

void SocketLimits::close_socket() {
  open_.fetch_sub(1, std::memory_order_relaxed);
  metrics().open_sockets.add(-1);
}

SocketLimits::Admission SocketLimits::admit(const boost::asio::ip::address& address) {
  Admission admission;
  auto before = open_.fetch_add(1, std::memory_order_relaxed);
  metrics().open_sockets.add(1);
  admission.ticket = SocketTicket(this);
  admission.is_over_capacity = settings_.max_connections != 0 && before >= settings_.max_connections;
  auto key = key_of(address);
  if (settings_.max_unauthenticated_per_address == 0) {
    admission.slot.emplace();  // an empty slot: nothing to count
    return admission;
  }
  std::lock_guard lock(unauthenticated_mutex_);
  auto& count = unauthenticated_[key];
  if (count >= settings_.max_unauthenticated_per_address) return admission;
  ++count;
  admission.slot = AddressSlot(this, key);
  return admission;
}

void SocketLimits::release_slot(const AddressSlot::Key& key) {
  std::lock_guard lock(unauthenticated_mutex_);
  auto found = unauthenticated_.find(key);
  if (found == unauthenticated_.end()) return;
  if (--found->second == 0) unauthenticated_.erase(found);
}

bool SocketLimits::change_held_bytes(std::size_t from, std::size_t to) {
  if (to <= from) {
    held_bytes_.fetch_sub(from - to, std::memory_order_relaxed);
    metrics().unauthenticated_bytes.add(-static_cast<std::int64_t>(from - to));
    return true;
  }
  auto growth = to - from;
  auto total = held_bytes_.fetch_add(growth, std::memory_order_relaxed) + growth;
  if (settings_.max_unauthenticated_bytes == 0 || total <= settings_.max_unauthenticated_bytes) {
    metrics().unauthenticated_bytes.add(static_cast<std::int64_t>(growth));
    return true;
  }
  held_bytes_.fetch_sub(growth, std::memory_order_relaxed);
  return false;
}

}  // namespace sb::listener
