// Base64url (RFC 4648 §5) without padding, the alphabet JWTs use (RFC 7515 §2).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::detail {

std::string base64url_encode(std::string_view bytes);

// Standard base64 (RFC 4648 §4) with padding: how .NET's JSON writes byte[].
std::string base64_encode(std::string_view bytes);

// Accepts input with or without '=' padding; nullopt on a character outside the alphabet or an
// impossible length (one leftover character).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace switchboard::detail
