// The HTTP routes the browser uses: the page, the SignalR client script, sign-in (/api/sign-in,
// /api/sign-out, /api/me: a session cookie naming the user), /api/negotiate (where the gateway is, and a
// token naming the signed-in user) and /api/online (who is online now, from the gateway; signed-in only).
#pragma once

#include <string>

#include <switchboard/functions.hpp>

namespace presence {

// Throws std::runtime_error when public_dir is not a directory. A missing signalr_js is only
// reported on stderr (the page then fails to load it), so the upstream side still runs.
// `rest` and `sessions` must outlive the server.
void add_presence_routes(switchboard::App& app, const switchboard::ServiceEndpoint& endpoint,
                         switchboard::RestClient& rest, const switchboard::SessionCookie& sessions,
                         const std::string& public_dir, const std::string& signalr_js);

}  // namespace presence
