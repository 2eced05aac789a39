// libFuzzer target for the identity codec (backplane/identity_codec.hpp): the JSON any gateway of the
// fleet stored in Redis, read back by the gateway that reaps it.
// Properties: never crashes or throws; bad input is an "invalid_identity" error with a message; what
// decodes re-encodes to JSON that decodes to the same identity, and that encoding is stable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "backplane/identity_codec.hpp"

using namespace sb::backplane;
using sb::connection::ConnectionIdentity;

namespace {

bool same(const ConnectionIdentity& a, const ConnectionIdentity& b) {
  return a.connection_id == b.connection_id && a.hub == b.hub && a.hub_key == b.hub_key && a.user_id == b.user_id &&
         a.claims == b.claims && a.client_query == b.client_query;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_identity(input);
  if (!decoded) {
    if (decoded.error().code != "invalid_identity" || decoded.error().message.empty()) std::abort();
    return 0;
  }
  auto once = encode_identity(decoded.value());
  auto again = decode_identity(once);
  if (!again || !same(again.value(), decoded.value())) std::abort();
  if (encode_identity(again.value()) != once) std::abort();
  return 0;
}
