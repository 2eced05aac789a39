#pragma once
// The process's descriptor limit (RLIMIT_NOFILE). Most systems start services with a soft limit of 1024
// and a far higher hard one; every connection is a descriptor, so the gateway raises its soft limit to
// the hard one at start-up (as nginx's worker_rlimit_nofile and Go's runtime do) rather than refuse
// connections at 1,000 with room to spare.
#include <cstdint>

namespace sb::server {

struct DescriptorLimit {
  std::uint64_t before = 0;  // the soft limit found
  std::uint64_t after = 0;   // the soft limit now
  std::uint64_t hard = 0;
};

// Raises the soft limit as far as the hard one (or the kernel's nr_open when that is unlimited).
DescriptorLimit raise_descriptor_limit();

// --max-connections when not given: the descriptor limit less a tenth (at least 64) kept for what else
// the gateway opens (Redis, function calls, files), so a flood is refused with a 503 at the limit
// instead of failing accept() with EMFILE below it.
std::uint64_t automatic_max_connections(std::uint64_t descriptor_limit);

}  // namespace sb::server
