#pragma once
// The one vocabulary of actions (DESIGN.md, PROTOCOL.md part 3 §3.5), produced by upstream replies and
// the REST API and executed by the hub registry, locally or through the backplane. Plain aggregates,
// immutable once built, shared between threads as shared_ptr<const Action>.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "filter/odata_filter.hpp"
#include "protocol/encoded_message.hpp"

namespace sb::hub {

enum class Scope { all, connection, user, group };

struct SendAction {
  std::string hub_key;
  Scope scope = Scope::all;
  std::string id;                     // connection id, user id or group name; empty for all
  std::vector<std::string> excluded;  // connection ids
  protocol::SharedEncodedMessage message;
};

enum class MembershipOp { add, remove };

struct MembershipAction {
  std::string hub_key;
  MembershipOp op = MembershipOp::add;
  std::string group;
  Scope subject = Scope::connection;   // connection or user
  std::string id;
  std::optional<std::chrono::seconds> ttl;  // user memberships: none = 1 year (Azure); 0 = current connections only
};

struct RemoveFromAllGroupsAction {
  std::string hub_key;
  Scope subject = Scope::user;  // user or connection
  std::string id;
};

struct CloseAction {
  std::string hub_key;
  Scope scope = Scope::connection;
  std::string id;
  std::vector<std::string> excluded;
  std::string reason;
  bool allow_reconnect = false;
};

// REST :execute (Azure 2023-07+, docs/rest-api.md "Commands"): commands run in order on every
// connection of the hub that the filter selects, each connection in turn. The filter sees a
// connection as it was before the commands ran.
enum class CommandKind { send, join_group, leave_group, close };
struct ExecuteCommand {
  CommandKind kind = CommandKind::send;
  protocol::SharedEncodedMessage message;  // send
  std::string group;                       // join_group, leave_group
  std::string reason;                      // close
  bool allow_reconnect = false;            // close
};
struct ExecuteAction {
  std::string hub_key;
  std::shared_ptr<const filter::ODataFilter> filter;  // null: every connection of the hub
  std::vector<ExecuteCommand> commands;
};

// A client result asked for in a function's reply (docs/upstream.md "Client results from a reply"): the
// connection's client is invoked, and its answer comes back to the function as a message event, as if
// the client had called `result_target(correlation, result, error)`.
struct InvokeClientAction {
  std::string hub_key;
  std::string connection_id;
  std::string target;
  std::string arguments_json;  // a JSON array text
  std::string result_target;   // the event the function gets the answer as
  std::string correlation_json;  // any JSON value the function chose, given back first
};

// Existence questions (Azure's GET/HEAD checks) and presence listings (a Switchboard extension,
// PROTOCOL.md part 3 §3.7). A listing walks one scope: the hub (Scope::all), a group (`group`) or a
// user's connections (Scope::user, `id`).
enum class QueryKind { connection_exists, user_exists, group_exists, user_in_group, list_connections, list_users };

struct QueryAction {
  std::string hub_key;
  QueryKind kind = QueryKind::connection_exists;
  std::string id;     // connection or user
  std::string group;  // group_exists, user_in_group; the listed group
  // Listings only.
  Scope scope = Scope::all;           // all, group or (list_connections) user
  std::string after;                  // list ids greater than this (bytewise); empty: from the start
  std::size_t page_limit = 0;         // at most this many entries per shard; 0: count only
  bool wants_distinct_users = false;  // list_users: also return distinct_user_keys, to count users once
};

using Action = std::variant<SendAction, MembershipAction, RemoveFromAllGroupsAction, CloseAction, QueryAction, ExecuteAction,
                            InvokeClientAction>;
using SharedAction = std::shared_ptr<const Action>;

// One row of a presence listing: a connection (id = connection id, with its user) or a user
// (id = user id, with how many of the user's connections are in the listed scope).
struct PresenceEntry {
  std::string id;
  std::string user_id;               // connections: empty when anonymous; users: unused
  std::size_t connection_count = 0;  // users: connections in scope; connections: 1
  bool operator==(const PresenceEntry&) const = default;
};

// What executing an action found, merged over shards (and, later, gateways). Merging is
// associative and commutative, so shards may finish in any order.
struct ActionOutcome {
  std::size_t matched = 0;  // connections reached or in scope, or 1+ when a query's answer is yes
  // Listings: the smallest ids greater than QueryAction::after, sorted bytewise, unique, at most
  // page_limit. A user present on several shards appears once, with the counts summed.
  std::vector<PresenceEntry> page;
  std::size_t page_limit = 0;
  // list_users with wants_distinct_users: sorted, unique 64-bit hashes of the user ids in scope. A user
  // with connections on several shards is one user; hashes let the merge see that without copying
  // every id (exact unless two ids collide in 64 bits).
  std::vector<std::uint64_t> distinct_user_keys;
  // list_users counted by a backplane that sees the whole fleet at once (Redis): added to the keys'
  // count. Zero from shards.
  std::size_t distinct_user_count = 0;
  std::size_t user_count() const { return distinct_user_keys.size() + distinct_user_count; }

  void merge(const ActionOutcome& other);
};

// Merges two sorted, unique pages into `into`: ids compared bytewise, equal ids become one entry with
// their connection counts summed, the result truncated to `limit` entries. Each shard's page holds
// its `limit` smallest ids, so the merged page holds the fleet's `limit` smallest, with exact counts.
void merge_pages(std::vector<PresenceEntry>& into, const std::vector<PresenceEntry>& other, std::size_t limit);

}  // namespace sb::hub
