#include "backplane/handoff_state.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include "backplane/wire_codec.hpp"

namespace sb::backplane {
namespace {

// Wire form (all integers little-endian; str = u32 length, then that many bytes; list = u64 count,
// then that many items):
//   u8 version (1, or 2 when the state carries a log position)
//   identity: str connection_id, str hub, str hub_key, str user_id, list of (str type, str value)
//             claims, str client_query, u8 allows_stateful_reconnect (0 or 1), list of str
//             initial_groups
//   u8 protocol (1 json, 2 messagepack), list of str groups
//   buffer:   u64 next_outbound_id, list of unacked entries, list of waiting entries (entry = u64
//             first_sequence_id, u64 records, str frame), u64 next_inbound_id, u64 latest_processed
//   list of (str gateway_id, u64 sequence) positions
//   version 2 only: u64 log_position.ms, u64 log_position.seq (not both zero)
// Version 1 is what gateways without the fleet log write: a fleet upgrading still hands over.
constexpr std::uint8_t format_version = 1;
constexpr std::uint8_t format_version_with_log = 2;
// Spelled out rather than cast from HubProtocolKind, so reordering that enum can't change the wire.
enum class WireProtocol : std::uint8_t { json = 1, messagepack = 2 };
constexpr const char* error_code = "invalid_handoff_state";

// The fewest bytes one item of a list takes, to refuse a count the input can't hold.
constexpr std::size_t claim_min_bytes = 4 + 4;
constexpr std::size_t entry_min_bytes = 8 + 8 + 4;
constexpr std::size_t position_min_bytes = 4 + 8;

using connection::MessageBufferState;
using wire::Reader;
using wire::Writer;

// The names an entry list's errors carry (Reader keeps the field as a const char*).
struct EntryFields {
  const char* list;
  const char* first_sequence_id;
  const char* records;
  const char* frame;
};
constexpr EntryFields unacked_fields{"buffer.unacked", "buffer.unacked.first_sequence_id", "buffer.unacked.records",
                                     "buffer.unacked.frame"};
constexpr EntryFields waiting_fields{"buffer.waiting", "buffer.waiting.first_sequence_id", "buffer.waiting.records",
                                     "buffer.waiting.frame"};

void write_entries(Writer& w, const std::vector<MessageBufferState::Entry>& entries) {
  w.u64(entries.size());
  for (const auto& e : entries) {
    w.u64(e.first_sequence_id);
    w.u64(e.records);
    w.text(e.frame);
  }
}

// A list's count, refused when the whole input couldn't hold that many items. Nothing is reserved
// from it: the vectors grow only with items actually read.
std::uint64_t read_count(Reader& r, const char* field, std::size_t input_bytes, std::size_t item_min_bytes) {
  auto count = r.u64(field);
  if (r.ok() && count > input_bytes / item_min_bytes) r.fail(field, "count exceeds what the input holds");
  return r.ok() ? count : 0;
}

// `next_id`: the id the next entry must start at (none before the first entry); afterwards, one past
// the last entry's ids.
std::vector<MessageBufferState::Entry> read_entries(Reader& r, const EntryFields& fields, std::size_t input_bytes,
                                                    std::optional<std::uint64_t>& next_id) {
  std::vector<MessageBufferState::Entry> entries;
  auto count = read_count(r, fields.list, input_bytes, entry_min_bytes);
  for (std::uint64_t i = 0; i < count && r.ok(); ++i) {
    MessageBufferState::Entry e;
    e.first_sequence_id = r.u64(fields.first_sequence_id);
    e.records = r.u64(fields.records);
    e.frame = r.text(fields.frame);
    if (!r.ok()) break;
    if (e.first_sequence_id == 0) r.fail(fields.first_sequence_id, "expected at least 1");
    if (next_id && e.first_sequence_id != *next_id)
      r.fail(fields.first_sequence_id,
             "expected " + std::to_string(*next_id) + ", got " + std::to_string(e.first_sequence_id));
    if (e.records == 0) r.fail(fields.records, "expected at least 1");
    if (e.records > std::numeric_limits<std::uint64_t>::max() - e.first_sequence_id)
      r.fail(fields.records, "runs past the largest sequence id");
    next_id = e.first_sequence_id + e.records;
    entries.push_back(std::move(e));
  }
  return entries;
}

void read_identity(Reader& r, std::size_t input_bytes, connection::ConnectionIdentity& identity) {
  identity.connection_id = r.text("identity.connection_id");
  if (r.ok() && identity.connection_id.empty()) r.fail("identity.connection_id", "expected a non-empty string");
  identity.hub = r.text("identity.hub");
  if (r.ok() && identity.hub.empty()) r.fail("identity.hub", "expected a non-empty string");
  identity.hub_key = r.text("identity.hub_key");
  if (r.ok() && identity.hub_key.empty()) r.fail("identity.hub_key", "expected a non-empty string");
  identity.user_id = r.text("identity.user_id");
  auto claims = read_count(r, "identity.claims", input_bytes, claim_min_bytes);
  for (std::uint64_t i = 0; i < claims && r.ok(); ++i) {
    auto type = r.text("identity.claims.type");
    auto value = r.text("identity.claims.value");
    identity.claims.emplace_back(std::move(type), std::move(value));
  }
  identity.client_query = r.text("identity.client_query");
  identity.allows_stateful_reconnect = r.boolean("identity.allows_stateful_reconnect");
  identity.initial_groups = r.texts("identity.initial_groups");
}

void read_buffer(Reader& r, std::size_t input_bytes, MessageBufferState& buffer) {
  buffer.next_outbound_id = r.u64("buffer.next_outbound_id");
  std::optional<std::uint64_t> next_id;
  buffer.unacked = read_entries(r, unacked_fields, input_bytes, next_id);
  buffer.waiting = read_entries(r, waiting_fields, input_bytes, next_id);
  if (r.ok() && buffer.unacked.empty() && !buffer.waiting.empty())
    r.fail("buffer.waiting", "frames wait while none is unacknowledged");
  if (r.ok() && next_id && buffer.next_outbound_id != *next_id)
    r.fail("buffer.next_outbound_id", "expected " + std::to_string(*next_id) + " (one past the last entry), got " +
                                          std::to_string(buffer.next_outbound_id));
  if (r.ok() && buffer.next_outbound_id == 0) r.fail("buffer.next_outbound_id", "expected at least 1");
  buffer.next_inbound_id = r.u64("buffer.next_inbound_id");
  buffer.latest_processed = r.u64("buffer.latest_processed");
  // Not "latest_processed < next_inbound_id": after a resume, the ids of the messages the client
  // re-sends start at or below latest_processed until the duplicates are dropped. What the buffer
  // never allows (MessageBuffer::on_sequence) is a gap past latest_processed + 1.
  if (r.ok() && buffer.next_inbound_id > 0 && buffer.next_inbound_id - 1 > buffer.latest_processed)
    r.fail("buffer.next_inbound_id", "expected at most latest_processed + 1 (" +
                                         std::to_string(buffer.latest_processed) + " + 1), got " +
                                         std::to_string(buffer.next_inbound_id));
}

void read_positions(Reader& r, std::size_t input_bytes, HandoffState& state) {
  auto count = read_count(r, "positions", input_bytes, position_min_bytes);
  for (std::uint64_t i = 0; i < count && r.ok(); ++i) {
    auto gateway_id = r.text("positions.gateway_id");
    auto sequence = r.u64("positions.sequence");
    if (r.ok() && gateway_id.empty()) r.fail("positions.gateway_id", "expected a non-empty string");
    state.positions.emplace_back(std::move(gateway_id), sequence);
  }
  if (!r.ok()) return;
  // Views taken once the vector stops growing (a short string's bytes move with it).
  std::vector<std::string_view> gateway_ids;
  gateway_ids.reserve(state.positions.size());
  for (const auto& [gateway_id, sequence] : state.positions) gateway_ids.push_back(gateway_id);
  std::sort(gateway_ids.begin(), gateway_ids.end());
  if (auto repeated = std::adjacent_find(gateway_ids.begin(), gateway_ids.end()); repeated != gateway_ids.end())
    r.fail("positions.gateway_id", "repeated publisher " + std::string(*repeated));
}

}  // namespace

std::string encode_handoff_state(const HandoffState& state) {
  Writer w;
  w.byte(state.log_position.is_zero() ? format_version : format_version_with_log);
  const auto& identity = state.identity;
  w.text(identity.connection_id);
  w.text(identity.hub);
  w.text(identity.hub_key);
  w.text(identity.user_id);
  w.u64(identity.claims.size());
  for (const auto& [type, value] : identity.claims) {
    w.text(type);
    w.text(value);
  }
  w.text(identity.client_query);
  w.byte(identity.allows_stateful_reconnect ? 1 : 0);
  w.texts(identity.initial_groups);
  w.byte(static_cast<std::uint8_t>(state.protocol == protocol::HubProtocolKind::messagepack ? WireProtocol::messagepack
                                                                                            : WireProtocol::json));
  w.texts(state.groups);
  const auto& buffer = state.buffer;
  w.u64(buffer.next_outbound_id);
  write_entries(w, buffer.unacked);
  write_entries(w, buffer.waiting);
  w.u64(buffer.next_inbound_id);
  w.u64(buffer.latest_processed);
  w.u64(state.positions.size());
  for (const auto& [gateway_id, sequence] : state.positions) {
    w.text(gateway_id);
    w.u64(sequence);
  }
  if (!state.log_position.is_zero()) {
    w.u64(state.log_position.ms);
    w.u64(state.log_position.seq);
  }
  return w.take();
}

Result<HandoffState> decode_handoff_state(std::string_view bytes) {
  if (bytes.size() > max_handoff_state_bytes)
    return make_error(error_code, "state: " + std::to_string(bytes.size()) + " bytes, more than the limit of " +
                                      std::to_string(max_handoff_state_bytes));
  Reader r(bytes, error_code);
  auto version = r.byte("version");
  if (r.ok() && version != format_version && version != format_version_with_log)
    r.fail("version", "expected 1 or 2, got " + std::to_string(version));
  HandoffState state;
  read_identity(r, bytes.size(), state.identity);
  auto wire_protocol = r.choice<WireProtocol>("protocol", 1, 2);
  state.protocol =
      wire_protocol == WireProtocol::messagepack ? protocol::HubProtocolKind::messagepack : protocol::HubProtocolKind::json;
  state.groups = r.texts("groups");
  read_buffer(r, bytes.size(), state.buffer);
  read_positions(r, bytes.size(), state);
  if (r.ok() && version == format_version_with_log) {
    state.log_position.ms = r.u64("log_position.ms");
    state.log_position.seq = r.u64("log_position.seq");
    if (r.ok() && state.log_position.is_zero()) r.fail("log_position", "expected a position past 0-0 in version 2");
  }
  if (r.ok() && !r.at_end()) r.fail("state", "trailing bytes");
  if (!r.ok()) return r.error();
  return state;
}

}  // namespace sb::backplane
