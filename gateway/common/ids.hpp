#pragma once
// Random identifiers: connection ids, connection tokens, event ids. URL-safe (base64url, no padding)
// because the JS client appends the token to the URL without encoding it (PROTOCOL.md part 1 §1).
#include <string>

namespace sb {

// 16 random bytes from the OS CSPRNG as 22 base64url characters.
std::string random_id();

}  // namespace sb
