// notifications-sample's command line: flags, then the environment, then built-in defaults.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace notifications {

struct NotificationsOptions {
  std::string host = "127.0.0.1";      // where the page and the API listen
  int port = 7071;                     // the Azure Functions host's port; 0 picks a free one
  std::string access_key;              // required: the fleet's key (--access-key or SWITCHBOARD_ACCESS_KEY)
  std::vector<std::string> gateways;   // required: one or more; the first is where notifications are sent
  std::string public_dir;              // index.html, notifications.js, notifications.css
  std::string signalr_js;              // @microsoft/signalr's browser bundle, served as /signalr.min.js
  std::chrono::seconds demo_every{0};  // 0: no demo notifications (tests and real use want silence)
  std::string session_secret;          // signs session cookies; empty: random, so sessions end with the process
  std::string notify_key;              // what backends show to POST /api/notify; empty: /api/notify is off
  bool is_help_requested = false;
};

// Throws std::invalid_argument naming the flag that is wrong.
NotificationsOptions parse_notifications_options(int argc, char** argv);

extern const char* const kNotificationsUsage;

}  // namespace notifications
