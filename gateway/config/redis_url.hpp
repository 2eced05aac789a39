#pragma once
// The --redis address: "redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB]" (PORT defaults to 6379, DB to
// 0; rediss:// is TLS). The user and password may be percent-encoded. Pure.
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sb::config {

struct RedisEndpoint {
  std::string host;  // a name or an IP literal (IPv6 without brackets)
  unsigned port = 6379;
  unsigned database = 0;
  bool tls = false;      // rediss://
  std::string username;  // an ACL user; empty: the default user
  std::string password;  // empty: no AUTH. Never logged.
};

// Errors name the part that is wrong ("port: expected 1 to 65535") and never repeat the credentials.
Result<RedisEndpoint> parse_redis_url(std::string_view url);

// "host:port" items, comma-separated (--redis-sentinel); IPv6 as [addr]:port. The port is required.
struct HostPort {
  std::string host;
  unsigned port = 0;
};
Result<std::vector<HostPort>> parse_host_ports(std::string_view list);

}  // namespace sb::config
