// The functions of hub "presence": who is online, kept by the gateway, not here. A user is online
// while they have at least one connection; the gateway counts them (RestClient::count_user_connections,
// a Switchboard presence extension), so several tabs of one user are one presence.
#pragma once

#include <switchboard/functions.hpp>

namespace presence {

inline constexpr const char* kPresenceHub = "presence";

// Server-to-client targets:
//   online(user, connectionCount)  the user has connectionCount connections (at least 1)
//   offline(user)                  the user's last connection closed
// Clients call no methods; the page asks GET /api/online for the list when it loads.
void add_presence_hub(switchboard::App& app, switchboard::RestClient& rest);

}  // namespace presence
