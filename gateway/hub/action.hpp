#pragma once
// The one vocabulary of actions (DESIGN.md, PROTOCOL.md part 3 §3.5), produced by upstream replies and
// the REST API and executed by the hub registry, locally or through the backplane. Plain aggregates,
// immutable once built, shared between threads as shared_ptr<const Action>.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

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

enum class QueryKind { connection_exists, user_exists, group_exists, user_in_group };

struct QueryAction {
  std::string hub_key;
  QueryKind kind = QueryKind::connection_exists;
  std::string id;     // connection or user
  std::string group;  // group_exists, user_in_group
};

using Action = std::variant<SendAction, MembershipAction, RemoveFromAllGroupsAction, CloseAction, QueryAction>;
using SharedAction = std::shared_ptr<const Action>;

// What executing an action found, summed over shards (and, later, gateways).
struct ActionOutcome {
  std::size_t matched = 0;  // connections reached, or 1+ when a query's answer is yes
  void merge(const ActionOutcome& other) { matched += other.matched; }
};

}  // namespace sb::hub
