// The HTTP routes: the page, the SignalR client script, /api/negotiate (a gateway of the fleet, in
// turn, and a token naming the user) and /api/notify (send a notification to a user).
#pragma once

#include <string>
#include <vector>

#include <switchboard/functions.hpp>

#include "notifier.hpp"

namespace notifications {

// Throws std::runtime_error when public_dir is not a directory. A missing signalr_js is only
// reported on stderr (the page then fails to load it), so /api/notify still works.
// `gateways` must not be empty; `notifier` must outlive the server.
void add_notifications_routes(switchboard::App& app, std::vector<switchboard::ServiceEndpoint> gateways,
                              Notifier& notifier, const std::string& public_dir, const std::string& signalr_js);

}  // namespace notifications
