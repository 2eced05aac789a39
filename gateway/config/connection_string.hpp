#pragma once
// Azure SignalR connection strings (PROTOCOL.md part 2 §3.3): "Endpoint=…;AccessKey=…;Version=1.0;[Port=…]".
// Keys are case-insensitive. Pure.
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sb::config {

struct ConnectionString {
  std::string endpoint;  // as written, without a trailing slash
  std::string access_key;
  std::string port;      // empty when absent
};

Result<ConnectionString> parse_connection_string(std::string_view text);

// What the ready block prints for apps: the emulator's shape, "Endpoint=http://HOST;Port=P;AccessKey=K;Version=1.0;".
std::string format_connection_string(std::string_view host, unsigned port, std::string_view access_key,
                                     std::string_view scheme = "http");

}  // namespace sb::config
