#include "notifications_options.hpp"

#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace notifications {

const char* const kNotificationsUsage =
    "usage: notifications-sample --access-key KEY --gateway URL [--gateway URL ...]\n"
    "                            [--listen HOST:PORT] [--notify-key KEY] [--session-secret SECRET]\n"
    "                            [--demo-every SECONDS] [--public-dir DIR] [--signalr-js FILE]\n"
    "\n"
    "  --access-key   the fleet's access key, the gateways' --access-key (env SWITCHBOARD_ACCESS_KEY)\n"
    "  --gateway      a gateway of the fleet, e.g. http://127.0.0.1:8080; repeatable. Pages are handed\n"
    "                 the gateways in turn; notifications are always sent through the first one\n"
    "  --listen       where to serve the page, /api/negotiate and /api/notify (default 127.0.0.1:7071;\n"
    "                 port 0 picks a free port, printed in the ready line)\n"
    "  --notify-key   the key backends send to POST /api/notify as \"Authorization: Bearer KEY\", at least\n"
    "                 32 characters (env SWITCHBOARD_NOTIFY_KEY; default none: /api/notify answers 403)\n"
    "  --session-secret\n"
    "                 signs the session cookies, at least 32 bytes (env SWITCHBOARD_SESSION_SECRET;\n"
    "                 default: random, so everyone is signed out when the program restarts)\n"
    "  --demo-every   also notify every online user every SECONDS (default 0: off)\n"
    "  --public-dir   the page's files (default: samples/notifications/public of the source tree)\n"
    "  --signalr-js   @microsoft/signalr's dist/browser/signalr.min.js (default: node_modules of the\n"
    "                 source tree)\n"
    "\n"
    "The gateways need no --upstream for this sample, and --redis to act as one fleet.\n";

namespace {

int parse_number(std::string_view flag, std::string_view text, int lowest, int highest) {
  int number = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc{} || end != text.data() + text.size() || number < lowest || number > highest) {
    throw std::invalid_argument(std::string(flag) + " must be a number from " + std::to_string(lowest) + " to " +
                                std::to_string(highest));
  }
  return number;
}

void parse_listen(std::string_view value, NotificationsOptions& options) {
  const std::size_t colon = value.rfind(':');
  if (colon == std::string_view::npos) throw std::invalid_argument("--listen must be HOST:PORT");
  std::string_view host = value.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  options.host = host.empty() ? "0.0.0.0" : std::string(host);
  options.port = parse_number("--listen's port", value.substr(colon + 1), 0, 65535);
}

}  // namespace

NotificationsOptions parse_notifications_options(int argc, char** argv) {
  NotificationsOptions options;
  options.public_dir = SB_NOTIFICATIONS_PUBLIC_DIR;
  options.signalr_js = SB_SIGNALR_JS;
  // The environment keeps the key out of `ps` output.
  if (const char* from_environment = std::getenv("SWITCHBOARD_ACCESS_KEY")) options.access_key = from_environment;
  if (const char* from_environment = std::getenv("SWITCHBOARD_NOTIFY_KEY")) options.notify_key = from_environment;
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
    } else if (flag == "--access-key") {
      options.access_key = value;
    } else if (flag == "--gateway") {
      options.gateways.push_back(value);
    } else if (flag == "--notify-key") {
      options.notify_key = value;
    } else if (flag == "--session-secret") {
      options.session_secret = value;
    } else if (flag == "--demo-every") {
      options.demo_every = std::chrono::seconds(parse_number("--demo-every", value, 0, 86400));
    } else if (flag == "--public-dir") {
      options.public_dir = value;
    } else if (flag == "--signalr-js") {
      options.signalr_js = value;
    } else {
      throw std::invalid_argument("unknown flag " + std::string(flag));
    }
  }

  if (options.access_key.empty()) throw std::invalid_argument("--access-key (or SWITCHBOARD_ACCESS_KEY) is required");
  if (options.gateways.empty()) throw std::invalid_argument("at least one --gateway is required");
  // A short key could be guessed by trying; 32 characters is what `head -c 24 /dev/urandom | base64` makes.
  if (!options.notify_key.empty() && options.notify_key.size() < 32) {
    throw std::invalid_argument("--notify-key (or SWITCHBOARD_NOTIFY_KEY) must be at least 32 characters");
  }
  return options;
}

}  // namespace notifications
