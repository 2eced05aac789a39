// The HTTP routes the browser uses: the page, the SignalR client script, /api/negotiate (where the
// gateway is, and a token naming the user) and /api/online (who is online now, from the gateway).
#pragma once

#include <string>

#include <switchboard/functions.hpp>

namespace presence {

// Throws std::runtime_error when public_dir is not a directory. A missing signalr_js is only
// reported on stderr (the page then fails to load it), so the upstream side still runs.
void add_presence_routes(switchboard::App& app, const switchboard::ServiceEndpoint& endpoint,
                         switchboard::RestClient& rest, const std::string& public_dir, const std::string& signalr_js);

}  // namespace presence
