// libFuzzer target for the REST API's untrusted input (http/rest_input.hpp): the request target and
// the JSON send body. The first byte picks which. Properties: never crashes; a parsed target's hub and
// segments never hold a NUL the input did not hold literally, and no raw segment after /hubs/ is "." or ".."; a
// resolved hub is non-empty; a parsed body has a non-empty target and arguments that parse back as a
// JSON array (the gateway forwards that text to every client verbatim). With the second bit, the body
// of :execute: 1 to 100 commands, each send with arguments that parse as an array, each group named.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "http/rest_input.hpp"

using namespace sb::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool has_literal_nul = input.find('\0') != std::string_view::npos;

  if (data[0] & 2) {
    auto commands = parse_execute_body(input);
    if (!commands) {
      if (commands.error().code != "InvalidBody" || commands.error().message.empty()) std::abort();
      return 0;
    }
    if (commands->empty() || commands->size() > max_execute_commands) std::abort();
    for (const auto& command : *commands) {
      if (command.kind == sb::hub::CommandKind::send) {
        auto arguments = nlohmann::json::parse(command.message->arguments_json(), nullptr, /*allow_exceptions=*/false);
        if (!arguments.is_array() || command.message->target().empty()) std::abort();
      } else if (command.kind != sb::hub::CommandKind::close && command.group.empty()) {
        std::abort();
      }
    }
    return 0;
  }

  if (data[0] & 1) {
    auto body = parse_rest_send_body(input);
    if (!body) {
      if (body.error().code != "InvalidBody" || body.error().message.empty()) std::abort();
      return 0;
    }
    if (body->target.empty()) std::abort();
    auto arguments = nlohmann::json::parse(body->arguments_json, nullptr, /*allow_exceptions=*/false);
    if (!arguments.is_array()) std::abort();
    return 0;
  }

  auto target = parse_rest_target(input);
  if (!target) {
    const auto& code = target.error().code;
    if (code != "NotFound" && code != "InvalidPath" && code != "InvalidQuery") std::abort();
    return 0;
  }
  if (!has_literal_nul) {
    if (target->hub.find('\0') != std::string::npos) std::abort();
    for (const auto& segment : target->segments)
      if (segment.find('\0') != std::string::npos) std::abort();
  }
  // Every raw segment after the hub was checked: "." and ".." never get through.
  std::string_view path = target->raw_path;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto segment = path.substr(0, slash);
    if ((segment == "." || segment == "..") && target->raw_path.find("/hubs/") < target->raw_path.size() - path.size())
      std::abort();
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  auto hub = resolve_rest_hub(*target);
  if (hub && hub->empty()) std::abort();
  return 0;
}
