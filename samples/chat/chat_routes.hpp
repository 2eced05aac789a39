// The HTTP routes the browser uses: the page, the SignalR client script, sign-in (/api/sign-in,
// /api/sign-out, /api/me: a session cookie naming the user) and /api/negotiate, which tells the page
// where the gateway is and gives it a token naming the signed-in user.
#pragma once

#include <string>

#include <switchboard/functions.hpp>

namespace chat {

// Throws std::runtime_error when public_dir is not a directory. A missing signalr_js is only
// reported on stderr (the page then fails to load it), so the upstream side still runs.
// `sessions` must outlive the server.
void add_chat_routes(switchboard::App& app, const switchboard::ServiceEndpoint& endpoint,
                     const switchboard::SessionCookie& sessions, const std::string& public_dir,
                     const std::string& signalr_js);

}  // namespace chat
