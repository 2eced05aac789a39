// libFuzzer target for the handoff state decoder (backplane/handoff_state.hpp): what a draining gateway
// stored in Redis for a connection, or what anything else that can write to the fleet's Redis put there.
// Properties: never crashes or throws; bad input is an "invalid_handoff_state" error with a message;
// the form is canonical, so what decodes re-encodes to exactly the input bytes; and what decodes is a
// buffer MessageBuffer can continue: it exports the same state back and resumes at its first entry.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "backplane/handoff_state.hpp"
#include "connection/message_buffer.hpp"

using namespace sb::backplane;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_handoff_state(input);
  if (!decoded) {
    if (decoded.error().code != "invalid_handoff_state" || decoded.error().message.empty()) std::abort();
    return 0;
  }
  const auto& state = decoded.value();
  if (encode_handoff_state(state) != input) std::abort();

  const auto& buffer = state.buffer;
  sb::connection::MessageBuffer continued(100'000, buffer);
  if (!(continued.export_state() == buffer)) std::abort();
  auto resume_id = !buffer.unacked.empty() ? buffer.unacked.front().first_sequence_id : buffer.next_outbound_id;
  if (continued.resume_sequence_id() != resume_id) std::abort();
  if (continued.unacknowledged_frames().size() != buffer.unacked.size()) std::abort();
  if (continued.is_ack_due() != (buffer.latest_processed > 0)) std::abort();
  return 0;
}
