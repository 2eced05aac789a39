#include "http/rest_routes.hpp"

#include <algorithm>
#include <string_view>

namespace sb::http {
namespace {

using boost::beast::http::verb;
using Op = RestOperation;

// One row: the path as segments ("{connection}", "{group}", "{user}" and "{stream}" stand for names), the methods
// it takes (none: any), and the operation. Rows are tried in order and the first whose path and method
// match wins, so a row with no methods after the specific ones of its path answers 405; a path no row
// has answers 404.
struct Row {
  std::vector<std::string_view> path;
  std::vector<verb> methods;
  Op operation;
};

const std::vector<Row>& rows() {
  const std::vector<verb> any, post{verb::post}, read{verb::get, verb::head}, del{verb::delete_},
      put_or_delete{verb::put, verb::delete_}, user_membership{verb::get, verb::head, verb::put, verb::delete_};
  static const std::vector<Row> table{
      // The hub. The presence listings (a Switchboard extension) take any method and answer 405 themselves.
      {{}, post, Op::send_to_all},
      {{}, any, Op::method_not_allowed},
      {{":send"}, post, Op::send_to_all},
      {{":send"}, any, Op::method_not_allowed},
      {{":execute"}, post, Op::execute},
      {{":execute"}, any, Op::method_not_allowed},
      {{":generateToken"}, post, Op::generate_token},
      {{":generateToken"}, any, Op::method_not_allowed},
      {{":closeConnections"}, post, Op::close_all},
      {{":closeConnections"}, any, Op::method_not_allowed},
      {{"connections"}, any, Op::list_connections},
      {{"users"}, any, Op::list_users},
      // A connection
      {{"connections", "{connection}"}, post, Op::send_to_connection},
      {{"connections", "{connection}"}, read, Op::connection_exists},
      {{"connections", "{connection}"}, del, Op::close_connection},
      {{"connections", "{connection}"}, any, Op::method_not_allowed},
      {{"connections", "{connection}", ":send"}, post, Op::send_to_connection},
      {{"connections", "{connection}", ":invoke"}, post, Op::invoke_connection},
      {{"connections", "{connection}", ":invoke"}, any, Op::method_not_allowed},
      {{"connections", "{connection}", "streams", "{stream}", ":send"}, post, Op::stream_send},
      {{"connections", "{connection}", "streams", "{stream}", ":send"}, any, Op::method_not_allowed},
      {{"connections", "{connection}", "streams", "{stream}", ":complete"}, post, Op::stream_complete},
      {{"connections", "{connection}", "streams", "{stream}", ":complete"}, any, Op::method_not_allowed},
      {{"connections", "{connection}", "groups"}, del, Op::remove_connection_from_all_groups},
      {{"connections", "{connection}", "groups", "{group}"}, put_or_delete, Op::connection_membership},
      {{"connections", "{connection}", "groups", "{group}"}, any, Op::method_not_allowed},
      // A group
      {{"groups", "{group}"}, post, Op::send_to_group},
      {{"groups", "{group}"}, read, Op::group_exists},
      {{"groups", "{group}"}, any, Op::method_not_allowed},
      {{"groups", "{group}", ":send"}, post, Op::send_to_group},
      {{"groups", "{group}", "connections"}, any, Op::list_group_connections},
      {{"groups", "{group}", "users"}, any, Op::list_group_users},
      {{"groups", "{group}", ":closeConnections"}, post, Op::close_group},
      {{"groups", "{group}", "connections", "{connection}"}, put_or_delete, Op::connection_membership},
      {{"groups", "{group}", "connections", "{connection}"}, any, Op::method_not_allowed},
      {{"groups", "{group}", "users", "{user}"}, user_membership, Op::user_membership},
      {{"groups", "{group}", "users", "{user}"}, any, Op::method_not_allowed},
      // A user
      {{"users", "{user}"}, post, Op::send_to_user},
      {{"users", "{user}"}, read, Op::user_exists},
      {{"users", "{user}"}, any, Op::method_not_allowed},
      {{"users", "{user}", ":send"}, post, Op::send_to_user},
      {{"users", "{user}", "connections"}, any, Op::list_user_connections},
      {{"users", "{user}", ":closeConnections"}, post, Op::close_user},
      {{"users", "{user}", "groups"}, del, Op::remove_user_from_all_groups},
      {{"users", "{user}", "groups", "{group}"}, user_membership, Op::user_membership},
      {{"users", "{user}", "groups", "{group}"}, any, Op::method_not_allowed},
  };
  return table;
}

bool is_placeholder(std::string_view segment) { return segment.size() > 2 && segment.front() == '{'; }

bool matches(const Row& row, const std::vector<std::string>& segments) {
  if (row.path.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i)
    if (!is_placeholder(row.path[i]) && row.path[i] != segments[i]) return false;
  return true;
}

Error invalid_name() { return make_error("InvalidName", "Names must have 1 to 1024 characters, not all whitespace."); }

}  // namespace

bool is_valid_rest_name(std::string_view name) {
  if (name.empty() || name.size() > 1024) return false;
  return name.find_first_not_of(" \t\r\n") != std::string_view::npos;
}

Result<RestRoute> resolve_rest_route(verb method, const std::vector<std::string>& segments) {
  // A resource's name is checked before anything under it: a bad one is a 400 even on a path no row has.
  if (segments.size() >= 2 && (segments[0] == "connections" || segments[0] == "groups" || segments[0] == "users") &&
      !is_valid_rest_name(segments[1]))
    return invalid_name();
  bool are_names_checked = false;
  for (const auto& row : rows()) {
    if (!matches(row, segments)) continue;
    if (!are_names_checked) {
      for (std::size_t i = 0; i < segments.size(); ++i)
        if (is_placeholder(row.path[i]) && !is_valid_rest_name(segments[i])) return invalid_name();
      are_names_checked = true;
    }
    if (!row.methods.empty() && std::find(row.methods.begin(), row.methods.end(), method) == row.methods.end()) continue;
    RestRoute route{row.operation, {}, {}, {}, {}};
    for (std::size_t i = 0; i < segments.size(); ++i) {
      if (row.path[i] == "{connection}") route.connection_id = segments[i];
      else if (row.path[i] == "{group}") route.group = segments[i];
      else if (row.path[i] == "{user}") route.user_id = segments[i];
      else if (row.path[i] == "{stream}") route.stream_id = segments[i];
    }
    return route;
  }
  return make_error("NotFound", "No such REST operation.");
}

}  // namespace sb::http
