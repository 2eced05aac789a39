#include "listener/socket_limits.hpp"

#include <doctest/doctest.h>

#include <vector>

using boost::asio::ip::make_address;
using sb::listener::HeldBytes;
using sb::listener::SocketLimits;
using sb::listener::SocketLimitSettings;

TEST_CASE("every admitted socket counts until its ticket is gone; past max_connections it is flagged") {
  SocketLimits limits(SocketLimitSettings{2, 0, 0});
  auto a = limits.admit(make_address("10.0.0.1"));
  auto b = limits.admit(make_address("10.0.0.1"));
  CHECK_FALSE(a.is_over_capacity);
  CHECK_FALSE(b.is_over_capacity);
  CHECK(a.slot.has_value());  // no per-address cap: always a slot
  {
    auto c = limits.admit(make_address("10.0.0.2"));
    CHECK(c.is_over_capacity);
    CHECK(limits.open_sockets() == 3);
  }
  CHECK(limits.open_sockets() == 2);
  sb::listener::SocketTicket moved = std::move(a.ticket);
  CHECK(limits.open_sockets() == 2);  // a move neither adds nor gives back
  moved = {};
  CHECK(limits.open_sockets() == 1);
}

TEST_CASE("the per-address cap counts unauthenticated sockets per IPv4 address and per IPv6 /64") {
  SocketLimits limits(SocketLimitSettings{0, 2, 0});
  std::vector<SocketLimits::Admission> held;
  held.push_back(limits.admit(make_address("192.0.2.7")));
  held.push_back(limits.admit(make_address("192.0.2.7")));
  auto third = limits.admit(make_address("192.0.2.7"));
  CHECK_FALSE(third.slot.has_value());
  CHECK(limits.admit(make_address("192.0.2.8")).slot.has_value());  // another address
  // An IPv4-mapped IPv6 address is the IPv4 address.
  CHECK_FALSE(limits.admit(make_address("::ffff:192.0.2.7")).slot.has_value());

  held.push_back(limits.admit(make_address("2001:db8:1:2::1")));
  held.push_back(limits.admit(make_address("2001:db8:1:2:ffff::9")));  // same /64
  CHECK_FALSE(limits.admit(make_address("2001:db8:1:2::42")).slot.has_value());
  CHECK(limits.admit(make_address("2001:db8:1:3::1")).slot.has_value());  // the next /64

  held[0].slot->release();  // authenticated: the address gets its slot back
  CHECK(limits.admit(make_address("192.0.2.7")).slot.has_value());
  held[1].slot->release();
  held[1].slot->release();  // twice: once
  auto fourth = limits.admit(make_address("192.0.2.7"));
  auto fifth = limits.admit(make_address("192.0.2.7"));
  CHECK(fourth.slot.has_value());
  CHECK(fifth.slot.has_value());
  CHECK_FALSE(limits.admit(make_address("192.0.2.7")).slot.has_value());
}

TEST_CASE("IPv4 keys and IPv6 /64 keys never collide") {
  CHECK(SocketLimits::key_of(make_address("1.2.3.4")) != SocketLimits::key_of(make_address("102:304::")));
  CHECK(SocketLimits::key_of(make_address("::ffff:1.2.3.4")) == SocketLimits::key_of(make_address("1.2.3.4")));
}

TEST_CASE("held bytes share one budget; a resize that doesn't fit changes nothing") {
  SocketLimits limits(SocketLimitSettings{0, 0, 1000});
  HeldBytes a(limits), b(limits);
  CHECK(a.resize(600));
  CHECK_FALSE(b.resize(500));
  CHECK(limits.unauthenticated_bytes() == 600);
  CHECK(b.resize(400));
  CHECK(limits.unauthenticated_bytes() == 1000);
  CHECK(a.resize(100));  // shrinking always fits
  CHECK(b.resize(900));
  {
    HeldBytes c(std::move(b));  // the move carries the bytes
    CHECK(limits.unauthenticated_bytes() == 1000);
  }
  CHECK(limits.unauthenticated_bytes() == 100);
  a.release();
  CHECK(limits.unauthenticated_bytes() == 0);
}

TEST_CASE("a budget of 0 is no limit") {
  SocketLimits limits(SocketLimitSettings{0, 0, 0});
  HeldBytes a(limits);
  CHECK(a.resize(std::size_t{1} << 40));
}
