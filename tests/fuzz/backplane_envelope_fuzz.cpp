// libFuzzer target for the backplane envelope decoder (backplane/envelope.hpp): the bytes another
// gateway, or anything else that can PUBLISH on the fleet's channel, sends us.
// Properties: never crashes or throws; what decodes re-encodes to bytes that decode again, and that
// second encoding is stable (encode(decode(encode(decode(x)))) == encode(decode(x))). The first
// re-encoding may differ from the input: a pre-framed message given only as MessagePack gains the
// JSON frame derived from it. The stamp (publisher and number, read alone) agrees with the full decode
// whenever that succeeds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "backplane/envelope.hpp"

using namespace sb::backplane;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto stamp = decode_envelope_stamp(input);
  auto decoded = decode_envelope(input);
  if (decoded) {
    if (!stamp) std::abort();
    const auto* action = std::get_if<ActionEnvelope>(&decoded.value());
    const auto& publisher = action ? action->publisher : std::get<HeartbeatEnvelope>(decoded.value()).publisher;
    const auto sequence = action ? action->sequence : std::get<HeartbeatEnvelope>(decoded.value()).last_sequence;
    if (stamp->is_heartbeat == (action != nullptr) || stamp->publisher != publisher || stamp->sequence != sequence)
      std::abort();
  }
  if (!decoded) {
    if (decoded.error().code != "invalid_envelope" || decoded.error().message.empty()) std::abort();
    return 0;
  }
  auto once = encode_envelope(decoded.value());
  auto again = decode_envelope(once);
  if (!again) std::abort();
  if (encode_envelope(again.value()) != once) std::abort();
  return 0;
}
