// The HTTP routes: the page, the SignalR client script, sign-in (/api/sign-in, /api/sign-out, /api/me:
// a session cookie naming the user), /api/negotiate (a gateway of the fleet, in turn, and a token naming
// the signed-in user), /api/notify (a backend with the notify key sends a notification to a user) and
// /api/notify-from-page (the same for a signed-in user, named as the sender).
#pragma once

#include <string>
#include <vector>

#include <switchboard/functions.hpp>

#include "notifier.hpp"

namespace notifications {

// Throws std::runtime_error when public_dir is not a directory. A missing signalr_js is only
// reported on stderr (the page then fails to load it), so /api/notify still works.
// `gateways` must not be empty; `notifier` and `sessions` must outlive the server. An empty
// `notify_key` turns /api/notify off (403).
void add_notifications_routes(switchboard::App& app, std::vector<switchboard::ServiceEndpoint> gateways,
                              Notifier& notifier, const switchboard::SessionCookie& sessions, std::string notify_key,
                              const std::string& public_dir, const std::string& signalr_js);

}  // namespace notifications
