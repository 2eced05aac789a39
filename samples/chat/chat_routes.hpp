// The HTTP routes the browser uses: the page, the SignalR client script, and /api/negotiate, which
// tells the page where the gateway is and gives it a token naming its user.
#pragma once

#include <string>

#include <switchboard/functions.hpp>

namespace chat {

// Throws std::runtime_error when public_dir is not a directory. A missing signalr_js is only
// reported on stderr (the page then fails to load it), so the upstream side still runs.
void add_chat_routes(switchboard::App& app, const switchboard::ServiceEndpoint& endpoint,
                     const std::string& public_dir, const std::string& signalr_js);

}  // namespace chat
