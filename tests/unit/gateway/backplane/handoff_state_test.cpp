#include "backplane/handoff_state.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>

using namespace sb::backplane;
using sb::connection::MessageBuffer;
using sb::connection::MessageBufferState;
using sb::protocol::HubProtocolKind;
namespace hub = sb::hub;
using namespace std::string_view_literals;

namespace {

HandoffState decoded(std::string_view bytes) {
  auto state = decode_handoff_state(bytes);
  // Not REQUIRE_MESSAGE: doctest evaluates its message for passing checks too under -s, and error()
  // on a value aborts.
  if (!state.ok()) FAIL(state.error().message);
  return state.value();
}

// The error's message, after checking that decoding failed with the codec's code.
std::string rejection(std::string_view bytes) {
  auto state = decode_handoff_state(bytes);
  REQUIRE_FALSE(state.ok());
  CHECK(state.error().code == "invalid_handoff_state");
  return state.error().message;
}

std::string rejection(const HandoffState& state) { return rejection(encode_handoff_state(state)); }

void check_same(const HandoffState& got, const HandoffState& want) {
  CHECK(got.identity.connection_id == want.identity.connection_id);
  CHECK(got.identity.hub == want.identity.hub);
  CHECK(got.identity.hub_key == want.identity.hub_key);
  CHECK(got.identity.user_id == want.identity.user_id);
  CHECK(got.identity.claims == want.identity.claims);
  CHECK(got.identity.client_query == want.identity.client_query);
  CHECK(got.identity.allows_stateful_reconnect == want.identity.allows_stateful_reconnect);
  CHECK(got.identity.initial_groups == want.identity.initial_groups);
  CHECK(got.protocol == want.protocol);
  CHECK(got.groups == want.groups);
  CHECK(got.buffer == want.buffer);
  CHECK(got.positions == want.positions);
}

const std::string binary_frame("\x95\x01\x80\xc0\x00\xa1x"sv);

// Every field set, binary bytes in the frames, ids far from 1.
HandoffState a_full_state() {
  HandoffState state;
  state.identity.connection_id = "conn-Zk3";
  state.identity.hub = "Chat";
  state.identity.hub_key = "chat";
  state.identity.user_id = "alice";
  state.identity.claims = {{"sub", "alice"}, {"role", "admin"}, {"role", "ops"}, {"empty", ""}};
  state.identity.client_query = "?room=1&lang=en";
  state.identity.allows_stateful_reconnect = true;
  state.identity.initial_groups = {"lobby", "room-1"};
  state.protocol = HubProtocolKind::messagepack;
  state.groups = {"lobby", "room-1", "room-2"};
  state.buffer.unacked = {{1000, 1, binary_frame}, {1001, 3, "three records"}};
  state.buffer.waiting = {{1004, 1, std::string(300, 'w')}, {1005, 2, "two"}};
  state.buffer.next_outbound_id = 1007;
  state.buffer.next_inbound_id = 43;
  state.buffer.latest_processed = 42;
  state.positions = {{"gw-a", 17}, {"gw-b", 0}, {"gw-c", UINT64_MAX}};
  return state;
}

// As small as a valid state gets with one of everything: the golden encoding's input.
HandoffState a_tiny_state() {
  HandoffState state;
  state.identity.connection_id = "c";
  state.identity.hub = "H";
  state.identity.hub_key = "h";
  state.identity.claims = {{"t", "v"}};
  state.identity.allows_stateful_reconnect = true;
  state.identity.initial_groups = {"g"};
  state.protocol = HubProtocolKind::messagepack;
  state.groups = {"k"};
  state.buffer.next_outbound_id = 3;
  state.buffer.unacked = {{1, 1, "x"}};
  state.buffer.waiting = {{2, 1, "y"}};
  state.buffer.next_inbound_id = 2;
  state.buffer.latest_processed = 1;
  state.positions = {{"gw", 5}};
  return state;
}

// Offsets into a_tiny_state()'s encoding: version, connection_id, hub and hub_key (4 + 1 each),
// user_id (4), claims (8 + 5 + 5), client_query (4), allows_stateful_reconnect, initial_groups (8 + 5).
constexpr std::size_t tiny_claims_at = 1 + 3 * 5 + 4;
constexpr std::size_t tiny_protocol_at = tiny_claims_at + 18 + 4 + 1 + 13;
// Then groups (8 + 5), next_outbound_id, and the unacked list's count.
constexpr std::size_t tiny_unacked_at = tiny_protocol_at + 1 + 13 + 8;

void set_u64(std::string& bytes, std::size_t at, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) bytes[at + i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

}  // namespace

TEST_CASE("a handed-off connection keeps its identity, groups, buffer and fan-out positions") {
  SUBCASE("every field set") {
    auto state = a_full_state();
    auto bytes = encode_handoff_state(state);
    check_same(decoded(bytes), state);
    CHECK(encode_handoff_state(decoded(bytes)) == bytes);
  }
  SUBCASE("a fresh connection: nothing buffered, no claims, groups or positions") {
    HandoffState state;
    state.identity.connection_id = "c";
    state.identity.hub = "hub";
    state.identity.hub_key = "hub";
    check_same(decoded(encode_handoff_state(state)), state);
  }
  SUBCASE("between a resume and the client's re-sent messages: next_inbound_id behind latest_processed") {
    auto state = a_full_state();
    state.buffer.next_inbound_id = 40;
    state.protocol = HubProtocolKind::json;
    check_same(decoded(encode_handoff_state(state)), state);
  }
}

TEST_CASE("a buffer exported, encoded, decoded and continued resumes where it stopped") {
  MessageBuffer buffer(100);
  buffer.add(sb::make_frame("a"));                // 1
  buffer.add(sb::make_frame(std::string(100, 'b')), 2);  // 2..3, waits: 101 bytes > 100
  buffer.on_inbound();
  HandoffState state = a_tiny_state();
  state.buffer = buffer.export_state();
  MessageBuffer continued(100, decoded(encode_handoff_state(state)).buffer);
  CHECK(continued.resume_sequence_id() == 1);
  REQUIRE(continued.unacknowledged_frames().size() == 1);
  CHECK(*continued.unacknowledged_frames()[0] == "a");
  CHECK(continued.take_ack() == 1);
  auto writable = continued.on_ack(1);
  REQUIRE(writable.size() == 1);
  CHECK(writable[0]->size() == 100);
  CHECK(continued.resume_sequence_id() == 2);
}

TEST_CASE("writes the handoff wire form every gateway of the fleet reads") {
  CHECK(encode_handoff_state(a_tiny_state()) ==
        "\x01"                              // version
        "\x01\x00\x00\x00" "c"              // connection_id
        "\x01\x00\x00\x00" "H"              // hub
        "\x01\x00\x00\x00" "h"              // hub_key
        "\x00\x00\x00\x00"                  // user_id
        "\x01\x00\x00\x00\x00\x00\x00\x00"  // claims
        "\x01\x00\x00\x00" "t"
        "\x01\x00\x00\x00" "v"
        "\x00\x00\x00\x00"                  // client_query
        "\x01"                              // allows_stateful_reconnect
        "\x01\x00\x00\x00\x00\x00\x00\x00"  // initial_groups
        "\x01\x00\x00\x00" "g"
        "\x02"                              // protocol: messagepack
        "\x01\x00\x00\x00\x00\x00\x00\x00"  // groups
        "\x01\x00\x00\x00" "k"
        "\x03\x00\x00\x00\x00\x00\x00\x00"  // next_outbound_id
        "\x01\x00\x00\x00\x00\x00\x00\x00"  // unacked
        "\x01\x00\x00\x00\x00\x00\x00\x00"  //   first_sequence_id
        "\x01\x00\x00\x00\x00\x00\x00\x00"  //   records
        "\x01\x00\x00\x00" "x"
        "\x01\x00\x00\x00\x00\x00\x00\x00"  // waiting
        "\x02\x00\x00\x00\x00\x00\x00\x00"
        "\x01\x00\x00\x00\x00\x00\x00\x00"
        "\x01\x00\x00\x00" "y"
        "\x02\x00\x00\x00\x00\x00\x00\x00"  // next_inbound_id
        "\x01\x00\x00\x00\x00\x00\x00\x00"  // latest_processed
        "\x01\x00\x00\x00\x00\x00\x00\x00"  // positions
        "\x02\x00\x00\x00" "gw"
        "\x05\x00\x00\x00\x00\x00\x00\x00"sv);
  auto bytes = encode_handoff_state(a_tiny_state());
  CHECK(bytes[tiny_protocol_at] == '\x02');
  CHECK(bytes[tiny_unacked_at] == '\x01');
}

TEST_CASE("rejects every truncation of a valid handoff state") {
  for (const auto& state : {a_tiny_state(), a_full_state()}) {
    auto bytes = encode_handoff_state(state);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      CAPTURE(n);
      // Cut inside a list, its count can outrun the bytes left before any item is read.
      auto why = rejection(std::string_view(bytes).substr(0, n));
      CHECK((why.find("truncated") != std::string::npos || why.find("count exceeds") != std::string::npos));
    }
  }
  auto bytes = encode_handoff_state(a_tiny_state());
  CHECK(rejection(std::string_view(bytes).substr(0, bytes.size() - 1)) == "positions.sequence: truncated");
  CHECK(rejection(""sv) == "version: truncated");
}

TEST_CASE("rejects a handoff state with trailing bytes, an unknown version or an unknown protocol") {
  CHECK(rejection(encode_handoff_state(a_tiny_state()) + '\0') == "state: trailing bytes");
  auto bytes = encode_handoff_state(a_tiny_state());
  for (char version : {'\x00', '\x03', '\xff'}) {
    bytes[0] = version;
    CHECK(rejection(bytes).find("version: expected 1 or 2") == 0);
  }
  // Version 2 carries a log position after the positions: a version 1 body is one short of it.
  bytes = encode_handoff_state(a_tiny_state());
  bytes[0] = '\x02';
  CHECK(rejection(bytes) == "log_position.ms: truncated");
  bytes = encode_handoff_state(a_tiny_state());
  for (char protocol : {'\x00', '\x03', '\xff'}) {
    bytes[tiny_protocol_at] = protocol;
    CHECK(rejection(bytes).find("protocol: unknown value") == 0);
  }
}

TEST_CASE("rejects a handoff state without a connection id, hub or hub key") {
  auto state = a_tiny_state();
  state.identity.connection_id.clear();
  CHECK(rejection(state) == "identity.connection_id: expected a non-empty string");
  state = a_tiny_state();
  state.identity.hub.clear();
  CHECK(rejection(state) == "identity.hub: expected a non-empty string");
  state = a_tiny_state();
  state.identity.hub_key.clear();
  CHECK(rejection(state) == "identity.hub_key: expected a non-empty string");
}

TEST_CASE("rejects buffered frames whose sequence ids don't follow on from each other") {
  SUBCASE("a gap between unacked entries") {
    auto state = a_full_state();
    state.buffer.unacked[1].first_sequence_id = 1002;
    CHECK(rejection(state) == "buffer.unacked.first_sequence_id: expected 1001, got 1002");
  }
  SUBCASE("an overlap") {
    auto state = a_full_state();
    state.buffer.unacked[1].first_sequence_id = 1000;
    CHECK(rejection(state) == "buffer.unacked.first_sequence_id: expected 1001, got 1000");
  }
  SUBCASE("a gap between the unacked and the waiting entries") {
    auto state = a_full_state();
    state.buffer.waiting[0].first_sequence_id = 1003;
    CHECK(rejection(state) == "buffer.waiting.first_sequence_id: expected 1004, got 1003");
  }
  SUBCASE("an entry of no records") {
    auto state = a_full_state();
    state.buffer.waiting[1].records = 0;
    CHECK(rejection(state) == "buffer.waiting.records: expected at least 1");
  }
  SUBCASE("an id of 0") {
    auto state = a_tiny_state();
    state.buffer.unacked[0].first_sequence_id = 0;
    CHECK(rejection(state) == "buffer.unacked.first_sequence_id: expected at least 1");
  }
  SUBCASE("records running past the largest id") {
    auto state = a_tiny_state();
    state.buffer.waiting[0].records = UINT64_MAX;
    CHECK(rejection(state) == "buffer.waiting.records: runs past the largest sequence id");
  }
  SUBCASE("next_outbound_id not one past the last entry") {
    auto state = a_full_state();
    for (std::uint64_t next : {1006, 1008, 0}) {
      state.buffer.next_outbound_id = next;
      CHECK(rejection(state) == "buffer.next_outbound_id: expected 1007 (one past the last entry), got " +
                                    std::to_string(next));
    }
  }
  SUBCASE("next_outbound_id of 0 with nothing buffered") {
    auto state = a_tiny_state();
    state.buffer.unacked.clear();
    state.buffer.waiting.clear();
    state.buffer.next_outbound_id = 0;
    CHECK(rejection(state) == "buffer.next_outbound_id: expected at least 1");
  }
  SUBCASE("frames waiting with none unacknowledged") {
    auto state = a_tiny_state();
    state.buffer.unacked.clear();
    CHECK(rejection(state) == "buffer.waiting: frames wait while none is unacknowledged");
  }
}

TEST_CASE("rejects inbound ids past the latest processed message") {
  auto state = a_tiny_state();
  state.buffer.latest_processed = 5;
  state.buffer.next_inbound_id = 7;
  CHECK(rejection(state) == "buffer.next_inbound_id: expected at most latest_processed + 1 (5 + 1), got 7");
  state.buffer.next_inbound_id = 6;
  CHECK(decode_handoff_state(encode_handoff_state(state)).ok());
  state.buffer.next_inbound_id = 0;  // MessageBuffer::on_sequence accepts a Sequence of 0
  CHECK(decode_handoff_state(encode_handoff_state(state)).ok());
}

TEST_CASE("rejects an empty or repeated fan-out publisher") {
  auto state = a_full_state();
  state.positions.push_back({"gw-b", 3});
  CHECK(rejection(state) == "positions.gateway_id: repeated publisher gw-b");
  state = a_full_state();
  state.positions[1].first.clear();
  CHECK(rejection(state) == "positions.gateway_id: expected a non-empty string");
}

TEST_CASE("rejects a forged count or length before allocating for it, and a state over the size limit") {
  SUBCASE("a list count no input could hold") {
    auto bytes = encode_handoff_state(a_tiny_state());
    set_u64(bytes, tiny_unacked_at, UINT64_MAX);
    CHECK(rejection(bytes) == "buffer.unacked: count exceeds what the input holds");
    bytes = encode_handoff_state(a_tiny_state());
    set_u64(bytes, tiny_claims_at, UINT64_MAX / 2);
    CHECK(rejection(bytes) == "identity.claims: count exceeds what the input holds");
  }
  SUBCASE("a frame length beyond the bytes left") {
    auto bytes = encode_handoff_state(a_tiny_state());
    auto frame_length_at = tiny_unacked_at + 8 + 16;
    for (int i = 0; i < 4; ++i) bytes[frame_length_at + i] = '\xff';
    CHECK(rejection(bytes) == "buffer.unacked.frame: truncated");
  }
  SUBCASE("more than max_handoff_state_bytes") {
    auto state = a_tiny_state();
    state.buffer.unacked[0].frame = std::string(max_handoff_state_bytes, 'x');
    CHECK(rejection(state).find("state: ") == 0);
    state.buffer.unacked[0].frame.resize(max_handoff_state_bytes - 1000);
    CHECK(decode_handoff_state(encode_handoff_state(state)).ok());
  }
}

TEST_CASE("a checkpoint carries its place in the fleet log, and writes version 2 only then") {
  auto state = a_full_state();
  CHECK(encode_handoff_state(state)[0] == '\x01');
  state.log_position = {1'700'000'000'123, 7};
  auto bytes = encode_handoff_state(state);
  CHECK(bytes[0] == '\x02');
  auto back = decoded(bytes);
  CHECK(back.log_position == hub::LogPosition{1'700'000'000'123, 7});
  CHECK(encode_handoff_state(back) == bytes);
  // A version 2 at 0-0 would re-encode as version 1: refused, so that one state has one form.
  auto zero = bytes;
  for (std::size_t i = zero.size() - 16; i < zero.size(); ++i) zero[i] = '\0';
  CHECK(rejection(zero) == "log_position: expected a position past 0-0 in version 2");
  CHECK(rejection(std::string_view(bytes).substr(0, bytes.size() - 1)) == "log_position.seq: truncated");
}

TEST_CASE("log positions parse as Redis writes stream ids, and order as the stream does") {
  CHECK(hub::LogPosition::parse("1700000000123-7") == hub::LogPosition{1'700'000'000'123, 7});
  CHECK(hub::LogPosition::parse("0-0") == hub::LogPosition{});
  for (auto bad : {"", "-", "1-", "-1", "1", "1-2-3", "a-1", "1-b", " 1-2", "1-2 ", "99999999999999999999-0"})
    CHECK_FALSE(hub::LogPosition::parse(bad).has_value());
  CHECK(hub::LogPosition{5, 9} < hub::LogPosition{6, 0});
  CHECK(hub::LogPosition{5, 1} < hub::LogPosition{5, 2});
  CHECK(hub::LogPosition{5, 2}.to_string() == "5-2");
}
