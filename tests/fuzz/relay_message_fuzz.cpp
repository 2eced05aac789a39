// libFuzzer target for the relay message decoder (backplane/relay_message.hpp): the bytes another
// gateway, or anything else that can PUBLISH on the fleet's Redis, sends to a gateway's inbox.
// Properties: never crashes or throws; bad input is an "invalid_relay_message" error with a message;
// the form is canonical, so what decodes re-encodes to exactly the input bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "backplane/relay_message.hpp"

using namespace sb::backplane;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_relay_message(input);
  if (!decoded) {
    if (decoded.error().code != "invalid_relay_message" || decoded.error().message.empty()) std::abort();
    return 0;
  }
  if (encode_relay_message(decoded.value()) != input) std::abort();
  return 0;
}
