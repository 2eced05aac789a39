#include "server/descriptor_limit.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>

namespace sb::server {
namespace {

// Linux refuses a soft limit above fs.nr_open, also when the hard limit is "unlimited".
rlim_t kernel_ceiling() {
  std::ifstream file("/proc/sys/fs/nr_open");
  unsigned long long value = 0;
  if (file >> value && value > 0) return static_cast<rlim_t>(value);
  return 1 << 20;
}

}  // namespace

DescriptorLimit raise_descriptor_limit() {
  DescriptorLimit result;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return result;
  result.before = result.after = limit.rlim_cur;
  result.hard = limit.rlim_max;
  rlim_t target = limit.rlim_max == RLIM_INFINITY ? kernel_ceiling() : limit.rlim_max;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
    rlimit raised = limit;
    raised.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) result.after = target;
  }
  return result;
}

std::uint64_t automatic_max_connections(std::uint64_t descriptor_limit) {
  if (descriptor_limit == 0 || descriptor_limit == RLIM_INFINITY) descriptor_limit = kernel_ceiling();
  std::uint64_t reserve = std::max<std::uint64_t>(64, descriptor_limit / 10);
  return descriptor_limit > 2 * reserve ? descriptor_limit - reserve : descriptor_limit / 2;
}

}  // namespace sb::server
