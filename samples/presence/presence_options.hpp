// presence-sample's command line: flags, then the environment, then built-in defaults.
#pragma once

#include <string>

namespace presence {

struct PresenceOptions {
  std::string host = "127.0.0.1";  // where the page and the upstream route listen
  int port = 7071;                 // the Azure Functions host's port; 0 picks a free one
  std::string connection_string;   // required: --connection-string or SWITCHBOARD_CONNECTION_STRING
  std::string public_dir;          // index.html, presence.js, presence.css
  std::string signalr_js;          // @microsoft/signalr's browser bundle, served as /signalr.min.js
  std::string session_secret;      // signs session cookies; empty: random, so sessions end with the process
  bool is_help_requested = false;
};

// Throws std::invalid_argument naming the flag that is wrong.
PresenceOptions parse_presence_options(int argc, char** argv);

extern const char* const kPresenceUsage;

}  // namespace presence
