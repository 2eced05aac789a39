#pragma once
// The data-plane REST API (PROTOCOL.md part 2 §4): every v1 operation under /api/v1/hubs/… and the
// 2022-06-01+ forms under /api/hubs/…?api-version=…, turned into actions for the backplane. Replies
// asynchronously through `respond`, on the session's thread. Only http/*.cpp includes this.
#include <boost/asio/any_io_executor.hpp>
#include <functional>

#include "http/gateway_context.hpp"
#include "http/responses.hpp"

namespace sb::http {

using Respond = std::function<void(Response)>;

// True when `request` is a REST path (/api/…); then `respond` is called exactly once.
bool handle_rest(const Request& request, GatewayContext& context, boost::asio::any_io_executor session_executor,
                 Respond respond);

}  // namespace sb::http
