#pragma once
// The operator console's routes under /admin/ on the gateway's listener (--admin-key;
// docs/operations.md "Operator console"): the page and its files, sign-in and sign-out, the JSON API
// (console_api.hpp) and the live trace (trace_stream.hpp). Every route but the sign-in itself answers
// 401 without the admin key or a session cookie it signed; a POST must also carry
// `X-Switchboard-Console: 1`, which no cross-site form can send.
#include <memory>

#include "console/admin_auth.hpp"
#include "console/console_api.hpp"
#include "http/router.hpp"

namespace sb::console {

struct ConsoleRoutes {
  std::shared_ptr<const AdminAuth> auth;
  std::shared_ptr<ConsoleApi> api;
  bool is_tls = false;  // the session cookie is then Secure
};

void add_console_routes(http::Router& router, const ConsoleRoutes& console);

}  // namespace sb::console
