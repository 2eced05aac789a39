#include "presence_options.hpp"

#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace presence {

const char* const kPresenceUsage =
    "usage: presence-sample --connection-string \"Endpoint=http://127.0.0.1;Port=8080;AccessKey=...;Version=1.0;\"\n"
    "                       [--listen HOST:PORT] [--session-secret SECRET] [--public-dir DIR]\n"
    "                       [--signalr-js FILE]\n"
    "\n"
    "  --connection-string  the gateway's connection string (env SWITCHBOARD_CONNECTION_STRING)\n"
    "  --listen             where to serve the page, /api/negotiate, /api/online and /upstream\n"
    "                       (default 127.0.0.1:7071;\n"
    "                       port 0 picks a free port, printed in the ready line)\n"
    "  --session-secret     signs the session cookies, at least 32 bytes (env SWITCHBOARD_SESSION_SECRET;\n"
    "                       default: random, so everyone is signed out when the program restarts)\n"
    "  --public-dir         the page's files (default: samples/presence/public of the source tree)\n"
    "  --signalr-js         @microsoft/signalr's dist/browser/signalr.min.js (default: node_modules of the\n"
    "                       source tree)\n"
    "\n"
    "Point the gateway at it: switchboard --access-key KEY --upstream http://HOST:PORT/upstream\n";

namespace {

void parse_listen(std::string_view value, PresenceOptions& options) {
  const std::size_t colon = value.rfind(':');
  if (colon == std::string_view::npos) throw std::invalid_argument("--listen must be HOST:PORT");
  std::string_view host = value.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view port = value.substr(colon + 1);
  int number = -1;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (error != std::errc{} || end != port.data() + port.size() || number < 0 || number > 65535) {
    throw std::invalid_argument("--listen: the port must be a number from 0 to 65535");
  }
  options.host = host.empty() ? "0.0.0.0" : std::string(host);
  options.port = number;
}

}  // namespace

PresenceOptions parse_presence_options(int argc, char** argv) {
  PresenceOptions options;
  options.public_dir = SB_PRESENCE_PUBLIC_DIR;
  options.signalr_js = SB_SIGNALR_JS;
  if (const char* from_environment = std::getenv("SWITCHBOARD_CONNECTION_STRING")) {
    options.connection_string = from_environment;
  }
  // The environment keeps the secret out of `ps` output.
  if (const char* from_environment = std::getenv("SWITCHBOARD_SESSION_SECRET")) {
    options.session_secret = from_environment;
  }

  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      options.is_help_requested = true;
      return options;
    }
    // Both "--flag value" and "--flag=value".
    std::string value;
    const std::size_t equals = flag.find('=');
    if (equals != std::string_view::npos) {
      value = flag.substr(equals + 1);
      flag = flag.substr(0, equals);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw std::invalid_argument(std::string(flag) + " needs a value");
    }

    if (flag == "--listen") {
      parse_listen(value, options);
    } else if (flag == "--connection-string") {
      options.connection_string = value;
    } else if (flag == "--session-secret") {
      options.session_secret = value;
    } else if (flag == "--public-dir") {
      options.public_dir = value;
    } else if (flag == "--signalr-js") {
      options.signalr_js = value;
    } else {
      throw std::invalid_argument("unknown flag " + std::string(flag));
    }
  }

  if (options.connection_string.empty()) {
    throw std::invalid_argument("--connection-string (or SWITCHBOARD_CONNECTION_STRING) is required");
  }
  return options;
}

}  // namespace presence
