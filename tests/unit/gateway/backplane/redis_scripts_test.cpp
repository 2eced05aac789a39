#include "backplane/redis_scripts.hpp"

#include <doctest/doctest.h>

#include <cstdlib>

using namespace sb::backplane;
namespace hub = sb::hub;
using Strings = std::vector<std::string>;

namespace {

// An EVAL command taken apart: KEYS, then ARGV after RedisKeys::name_parts().
struct Eval {
  Strings keys, parts, args;
};

Eval split(const scripts::EvalCommand& command, const RedisKeys& names) {
  REQUIRE(command.size() >= 3);
  REQUIRE(command[0] == "EVAL");
  const auto key_count = static_cast<std::size_t>(std::atoi(command[2].c_str()));
  const auto part_count = names.name_parts().size();
  REQUIRE(command.size() >= 3 + key_count + part_count);
  Eval eval;
  auto at = command.begin() + 3;
  eval.keys.assign(at, at + static_cast<long>(key_count));
  at += static_cast<long>(key_count);
  eval.parts.assign(at, at + static_cast<long>(part_count));
  eval.args.assign(at + static_cast<long>(part_count), command.end());
  return eval;
}

FanoutAppend publish(std::string envelope) {
  return {{}, {"PUBLISH", "sb:actions", std::move(envelope)}};
}

}  // namespace

TEST_CASE("a connection's registration declares every key it writes, its groups' among them") {
  RedisKeys keys("sb");
  auto eval = split(scripts::register_connection(keys, "gw1", "c1", "chat", "alice", "{}", {"g1", "g2"}), keys);
  CHECK(eval.keys == Strings{keys.connection("c1"), keys.gateway_connections("gw1"), keys.hub_connections("chat"),
                             keys.connection_groups("c1"), keys.user("chat", "alice"), keys.hub_users("chat"),
                             keys.user_groups("chat", "alice"), keys.group("chat", "g1"), keys.group("chat", "g2")});
  CHECK(eval.parts == keys.name_parts());
  CHECK(eval.args == Strings{"gw1", "c1", "chat", "alice", "{}", "g1", "g2"});
}

TEST_CASE("a membership change declares the keys of its subject and ends with the fan-out's append") {
  RedisKeys keys("sb");
  hub::MembershipAction m{"chat", hub::MembershipOp::add, "room", hub::Scope::connection, "c1", std::nullopt};
  SUBCASE("a connection's") {
    auto eval = split(scripts::membership(keys, m, 5000, publish("E")), keys);
    CHECK(eval.keys == Strings{keys.connection("c1"), keys.connection_groups("c1"), keys.group("chat", "room")});
    CHECK(eval.args == Strings{"chat", "add", "connection", "c1", "room", "5000", "PUBLISH", "sb:actions", "E"});
  }
  SUBCASE("a user's") {
    m.subject = hub::Scope::user;
    m.id = "alice";
    m.op = hub::MembershipOp::remove;
    auto eval = split(scripts::membership(keys, m, 0, publish("E")), keys);
    CHECK(eval.keys ==
          Strings{keys.user_groups("chat", "alice"), keys.user("chat", "alice"), keys.group("chat", "room")});
    CHECK(eval.args == Strings{"chat", "remove", "user", "alice", "room", "0", "PUBLISH", "sb:actions", "E"});
  }
  SUBCASE("the fan-out's own keys are declared after the script's") {
    auto eval = split(scripts::membership(keys, m, 0, {{"sb:stream"}, {"XADD", "sb:stream", "*", "e", "E"}}), keys);
    CHECK(eval.keys.back() == "sb:stream");
    CHECK(eval.args.back() == "E");
  }
}

TEST_CASE("removing from all groups declares the keys of its subject") {
  RedisKeys keys("sb");
  hub::RemoveFromAllGroupsAction connection{"chat", hub::Scope::connection, "c1"};
  auto eval = split(scripts::remove_from_all_groups(keys, connection, publish("E")), keys);
  CHECK(eval.keys == Strings{keys.connection("c1"), keys.connection_groups("c1")});
  CHECK(eval.args == Strings{"chat", "connection", "c1", "PUBLISH", "sb:actions", "E"});
  hub::RemoveFromAllGroupsAction user{"chat", hub::Scope::user, "alice"};
  eval = split(scripts::remove_from_all_groups(keys, user, publish("E")), keys);
  CHECK(eval.keys == Strings{keys.user_groups("chat", "alice"), keys.user("chat", "alice")});
}

TEST_CASE("the lease scripts declare the leases and this gateway's keys") {
  RedisKeys keys("sb");
  auto renew = split(scripts::renew_lease(keys, "gw1", std::chrono::milliseconds(15000)), keys);
  CHECK(renew.keys == Strings{keys.gateways(), keys.reaped("gw1")});
  CHECK(renew.args == Strings{"gw1", "15000"});
  auto reap = split(scripts::reap_one(keys, std::chrono::milliseconds(30000)), keys);
  CHECK(reap.keys == Strings{keys.gateways(), keys.parked()});
  CHECK(reap.args == Strings{"30000"});
  CHECK(split(scripts::reap_parked(keys, 1000), keys).keys == Strings{keys.parked()});
  auto claim = split(scripts::claim_checkpoint(keys, "gw2", "c:1"), keys);
  CHECK(claim.keys == Strings{keys.connection("c:1"), keys.claim("c:1"), keys.parked()});
  CHECK(claim.args == Strings{"gw2", "c:1", keys.inbox_prefix()});
  auto read = split(scripts::read_log_after(keys, "5-1", 10), keys);
  CHECK(read.keys == Strings{keys.log()});
  CHECK(read.args == Strings{"5-1", "10"});
  auto leave = split(scripts::leave(keys, "gw1"), keys);
  CHECK(leave.keys == Strings{keys.gateway_connections("gw1"), keys.gateways()});
  CHECK(leave.args == Strings{"gw1"});
}

TEST_CASE("a query declares the key it reads first") {
  RedisKeys keys("sb");
  hub::QueryAction q;
  q.hub_key = "chat";
  q.id = "alice";
  q.group = "room";
  SUBCASE("existence") {
    q.kind = hub::QueryKind::user_in_group;
    auto eval = split(scripts::exists(keys, q), keys);
    CHECK(eval.keys == Strings{keys.user_groups("chat", "alice"), keys.user("chat", "alice")});
    CHECK(eval.args == Strings{"user_in_group", "chat", "room"});
    q.kind = hub::QueryKind::group_exists;
    CHECK(split(scripts::exists(keys, q), keys).keys == Strings{keys.group("chat", "room")});
  }
  SUBCASE("a listing") {
    q.kind = hub::QueryKind::list_users;
    q.scope = hub::Scope::all;
    q.after = "a";
    q.page_limit = 10;
    auto eval = split(scripts::list(keys, q), keys);
    CHECK(eval.keys == Strings{keys.hub_users("chat")});
    CHECK(eval.args == Strings{"users", "all", "chat", "a", "10"});
    q.kind = hub::QueryKind::list_connections;
    q.scope = hub::Scope::group;
    CHECK(split(scripts::list(keys, q), keys).keys == Strings{keys.group("chat", "room")});
    q.scope = hub::Scope::user;
    CHECK(split(scripts::list(keys, q), keys).keys == Strings{keys.user("chat", "alice")});
  }
}
