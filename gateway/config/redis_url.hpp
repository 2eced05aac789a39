#pragma once
// The --redis address: "redis://HOST:PORT[/DB]" (PORT defaults to 6379, DB to 0). Pure.
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sb::config {

struct RedisEndpoint {
  std::string host;  // a name or an IP literal (IPv6 without brackets)
  unsigned port = 6379;
  unsigned database = 0;
};

// Errors name the part that is wrong ("port: expected 1 to 65535").
Result<RedisEndpoint> parse_redis_url(std::string_view url);

}  // namespace sb::config
