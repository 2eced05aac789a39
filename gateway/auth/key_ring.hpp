#pragma once
// The access keys: the first signs, every one verifies (rotation: add the new key second, move it
// first, drop the old). Immutable once built; shared as shared_ptr<const KeyRing> between threads.
#include <string>
#include <vector>

namespace sb::auth {

struct KeyRing {
  std::vector<std::string> keys;
  const std::string& signing_key() const { return keys.front(); }
};

}  // namespace sb::auth
