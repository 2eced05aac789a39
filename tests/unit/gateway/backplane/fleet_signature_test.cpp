#include "backplane/fleet_signature.hpp"

#include <doctest/doctest.h>

using sb::backplane::FleetSignature;

TEST_CASE("a signed payload opens with the same keys, and with any configured key") {
  FleetSignature current({"key-2", "key-1"});
  auto message = current.sign("payload");
  CHECK(message.size() == FleetSignature::overhead + 7);
  CHECK(message.find("key-") == std::string::npos);
  auto opened = current.open(message);
  REQUIRE(opened.ok());
  CHECK(*opened == "payload");

  // Rotation: a gateway still signing with the old key is read by one that has both.
  FleetSignature old({"key-1"});
  CHECK(current.open(old.sign("from the old one")).ok());
  // Not the other way round: the new key must reach every gateway before it signs.
  CHECK(old.open(current.sign("x")).error().code == "bad_signature");
}

TEST_CASE("unsigned, forged, truncated and altered messages are refused with the reason") {
  FleetSignature signature({"secret"});
  CHECK(signature.open("\x01\x02plain envelope").error().code == "unsigned");
  CHECK(signature.open("").error().code == "unsigned");
  CHECK(FleetSignature({"other"}).open(signature.sign("p")).error().code == "bad_signature");
  auto message = signature.sign("amount=1");
  auto altered = message;
  altered.back() = '2';
  CHECK(signature.open(altered).error().code == "bad_signature");
  CHECK(signature.open(message.substr(0, 20)).error().code == "unsigned");
  auto retagged = message;
  retagged[5] ^= 1;
  CHECK(signature.open(retagged).error().code == "bad_signature");
}

TEST_CASE("signing off sends payloads bare and reads them as they come") {
  FleetSignature off({"secret"}, /*enabled=*/false);
  CHECK_FALSE(off.is_enabled());
  CHECK(off.sign("p") == "p");
  CHECK(*off.open("anything") == "anything");
}
