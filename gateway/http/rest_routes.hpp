#pragma once
// The REST API's route table (PROTOCOL.md part 2 §4, docs/rest-api.md): which operation a method and
// the path after /hubs/{hub}/ ask for, and the names in it. Pure: no I/O, no state; rest_api.cpp runs
// what it resolves.
#include <ostream>  // Boost 1.81's string_view.hpp (under verb.hpp) uses it without including it

#include <boost/beast/http/verb.hpp>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace sb::http {

enum class RestOperation {
  send_to_all, close_all, list_connections, list_users,
  send_to_connection, connection_exists, close_connection, remove_connection_from_all_groups, connection_membership,
  invoke_connection, generate_token, execute, stream_send, stream_complete,
  send_to_group, group_exists, list_group_connections, list_group_users, close_group,
  send_to_user, user_exists, list_user_connections, close_user, remove_user_from_all_groups, user_membership,
  method_not_allowed,  // a path the API has, with a method it doesn't take there: 405
};

struct RestRoute {
  RestOperation operation{};
  // The names the path holds, whichever order it wrote them in (Azure takes both
  // groups/{g}/connections/{c} and connections/{c}/groups/{g}).
  std::string connection_id, group, user_id, stream_id;
};

// Errors: 400 InvalidName (a name of 0 or over 1024 characters, or all whitespace; checked first, so
// even on a path the API lacks) and 404 NotFound (no such operation).
Result<RestRoute> resolve_rest_route(boost::beast::http::verb method, const std::vector<std::string>& segments);

// 1 to 1024 characters, not all whitespace.
bool is_valid_rest_name(std::string_view name);

}  // namespace sb::http
