#include "hub/hub_name.hpp"
#include "hub/hub_registry.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "connection/connection_set.hpp"
#include "hub/message_encoding.hpp"
#include "hub/upstream_reply.hpp"

using namespace sb::hub;
using sb::connection::Connection;
using sb::connection::ConnectionIdentity;
using Clock = HubRegistry::Clock;

namespace {

// Records what the connection sends; calls back only when the test delivers data (the real transport
// is covered end to end).
class FakeTransport : public sb::transport::Transport {
 public:
  void start(std::shared_ptr<sb::transport::TransportHandler> handler) override { handler_ = handler; }
  void deliver(std::string_view data) { handler_->on_transport_data(data, sb::transport::FrameFormat::text); }
  // The handler holds the connection, which holds this transport: break the cycle when done.
  void release() { handler_.reset(); }
  bool send(sb::Frame frame, sb::transport::FrameFormat) override {
    frames.push_back(std::move(frame));
    return true;
  }
  void close() override { ++close_calls; }
  void abort() override { ++abort_calls; }
  bool supports_binary() const override { return true; }

  std::vector<sb::Frame> frames;
  int close_calls = 0;
  int abort_calls = 0;

 private:
  std::shared_ptr<sb::transport::TransportHandler> handler_;
};

class NoopObserver : public sb::connection::ConnectionObserver {
 public:
  void on_open(Connection&) override {}
  void on_closed(Connection&) override {}
  void deliver(std::shared_ptr<Connection>, sb::connection::UpstreamEvent, std::function<void()>) override {}
};

struct Client {
  std::shared_ptr<FakeTransport> transport;
  std::shared_ptr<Connection> connection;

  // Frames sent after the handshake response.
  std::vector<sb::Frame> sent() const { return {transport->frames.begin() + 1, transport->frames.end()}; }
};

// A registry with open connections on an io_context that never runs.
class Fixture {
 public:
  Fixture() : connections_(io_.get_executor()) { sb::log::set_level(sb::log::Level::off); }
  ~Fixture() {
    for (auto& t : transports_) t->release();
  }

  Client open(const std::string& id, const std::string& user = "", const std::string& hub = "chat") {
    ConnectionIdentity identity;
    identity.connection_id = id;
    identity.hub = hub;
    identity.hub_key = hub_key_of(hub);
    identity.user_id = user;
    Client client;
    client.transport = std::make_shared<FakeTransport>();
    client.connection = std::make_shared<Connection>(
        identity, client.transport, sb::connection::ConnectionContext{config_, connections_, observer_});
    client.connection->start();
    client.transport->deliver(std::string(R"({"protocol":"json","version":1})") + '\x1e');
    transports_.push_back(client.transport);
    REQUIRE(client.connection->is_open());
    REQUIRE(client.transport->frames.size() == 1);  // the handshake response
    registry.add(*client.connection, now);
    return client;
  }

  HubRegistry registry;
  Clock::time_point now = Clock::time_point(std::chrono::seconds(1'700'000'000));

 private:
  boost::asio::io_context io_;
  sb::connection::ConnectionSet connections_;
  sb::config::ConnectionConfig config_;
  NoopObserver observer_;
  std::vector<std::shared_ptr<FakeTransport>> transports_;
};

SendAction send_to(Scope scope, std::string id, std::vector<std::string> excluded = {}, std::string hub = "chat") {
  SendAction a;
  a.hub_key = std::move(hub);
  a.scope = scope;
  a.id = std::move(id);
  a.excluded = std::move(excluded);
  a.message = encode_invocation("news", "[1]");
  return a;
}

MembershipAction membership(MembershipOp op, Scope subject, std::string id, std::string group,
                            std::optional<std::chrono::seconds> ttl = std::nullopt) {
  MembershipAction a;
  a.hub_key = "chat";
  a.op = op;
  a.subject = subject;
  a.id = std::move(id);
  a.group = std::move(group);
  a.ttl = ttl;
  return a;
}

QueryAction query(QueryKind kind, std::string id, std::string group = "") {
  QueryAction a;
  a.hub_key = "chat";
  a.kind = kind;
  a.id = std::move(id);
  a.group = std::move(group);
  return a;
}

bool received(const Client& client, const SendAction& action) {
  for (const auto& frame : client.sent())
    if (frame.get() == action.message->for_protocol(sb::protocol::HubProtocolKind::json).get()) return true;
  return false;
}

std::size_t group_size(Fixture& f, const std::string& group) {
  // Counts the group's members by sending to it: every member gets exactly one frame.
  return f.registry.execute(send_to(Scope::group, group), f.now).matched;
}

}  // namespace

TEST_CASE("adds and removes connections") {
  Fixture f;
  auto a = f.open("a");
  auto b = f.open("b", "bob");
  CHECK(f.registry.connection_count() == 2);
  CHECK(f.registry.execute(query(QueryKind::connection_exists, "a"), f.now).matched == 1);
  CHECK(f.registry.execute(query(QueryKind::user_exists, "bob"), f.now).matched == 1);
  f.registry.remove(*b.connection);
  CHECK(f.registry.connection_count() == 1);
  CHECK(f.registry.execute(query(QueryKind::connection_exists, "b"), f.now).matched == 0);
  CHECK(f.registry.execute(query(QueryKind::user_exists, "bob"), f.now).matched == 0);
  f.registry.remove(*b.connection);  // twice is harmless
  CHECK(f.registry.connection_count() == 1);
}

TEST_CASE("sends to everyone in the hub, encoded once") {
  Fixture f;
  auto a = f.open("a");
  auto b = f.open("b", "bob");
  auto other = f.open("c", "", "lobby");
  auto action = send_to(Scope::all, "");
  CHECK(f.registry.execute(action, f.now).matched == 2);
  REQUIRE(a.sent().size() == 1);
  REQUIRE(b.sent().size() == 1);
  CHECK(a.sent()[0].get() == b.sent()[0].get());  // one shared frame for every recipient
  CHECK(a.sent()[0].get() == action.message->for_protocol(sb::protocol::HubProtocolKind::json).get());
  CHECK(*a.sent()[0] == std::string(R"({"type":1,"target":"news","arguments":[1]})") + '\x1e');
  CHECK(other.sent().empty());
}

TEST_CASE("sends to everyone except the excluded connections") {
  Fixture f;
  auto a = f.open("a");
  auto b = f.open("b");
  auto c = f.open("c");
  auto action = send_to(Scope::all, "", {"b", "nonexistent"});
  CHECK(f.registry.execute(action, f.now).matched == 2);
  CHECK(received(a, action));
  CHECK_FALSE(received(b, action));
  CHECK(received(c, action));
}

TEST_CASE("sends to one connection") {
  Fixture f;
  auto a = f.open("a");
  auto b = f.open("b");
  auto action = send_to(Scope::connection, "b");
  CHECK(f.registry.execute(action, f.now).matched == 1);
  CHECK_FALSE(received(a, action));
  CHECK(received(b, action));
  SUBCASE("not across hubs") {
    auto elsewhere = send_to(Scope::connection, "b", {}, "lobby");
    CHECK(f.registry.execute(elsewhere, f.now).matched == 0);
  }
  SUBCASE("unknown id") {
    CHECK(f.registry.execute(send_to(Scope::connection, "zzz"), f.now).matched == 0);
  }
}

TEST_CASE("sends to every connection of a user") {
  Fixture f;
  auto bob1 = f.open("b1", "bob");
  auto bob2 = f.open("b2", "bob");
  auto alice = f.open("a1", "alice");
  auto action = send_to(Scope::user, "bob");
  CHECK(f.registry.execute(action, f.now).matched == 2);
  CHECK(received(bob1, action));
  CHECK(received(bob2, action));
  CHECK_FALSE(received(alice, action));
  SUBCASE("with an excluded connection") {
    auto excluding = send_to(Scope::user, "bob", {"b2"});
    CHECK(f.registry.execute(excluding, f.now).matched == 1);
    CHECK(received(bob1, excluding));
    CHECK_FALSE(received(bob2, excluding));
  }
}

TEST_CASE("sends to a group's members except the excluded ones") {
  Fixture f;
  auto a = f.open("a");
  auto b = f.open("b");
  auto c = f.open("c");
  CHECK(f.registry.execute(membership(MembershipOp::add, Scope::connection, "a", "room"), f.now).matched == 1);
  CHECK(f.registry.execute(membership(MembershipOp::add, Scope::connection, "b", "room"), f.now).matched == 1);
  auto action = send_to(Scope::group, "room", {"a"});
  CHECK(f.registry.execute(action, f.now).matched == 1);
  CHECK_FALSE(received(a, action));
  CHECK(received(b, action));
  CHECK_FALSE(received(c, action));
  CHECK(f.registry.execute(send_to(Scope::group, "nobody-here"), f.now).matched == 0);
}

TEST_CASE("adds and removes a connection to and from a group") {
  Fixture f;
  auto a = f.open("a");
  CHECK(f.registry.execute(query(QueryKind::group_exists, "", "room"), f.now).matched == 0);
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "a", "room"), f.now);
  CHECK(a.connection->groups().count("room") == 1);
  CHECK(f.registry.execute(query(QueryKind::group_exists, "", "room"), f.now).matched == 1);
  CHECK(group_size(f, "room") == 1);
  f.registry.execute(membership(MembershipOp::remove, Scope::connection, "a", "room"), f.now);
  CHECK(a.connection->groups().empty());
  CHECK(f.registry.execute(query(QueryKind::group_exists, "", "room"), f.now).matched == 0);
  CHECK(f.registry.execute(membership(MembershipOp::add, Scope::connection, "unknown", "room"), f.now).matched == 0);
}

TEST_CASE("removing a connection takes it out of its groups") {
  Fixture f;
  auto a = f.open("a");
  auto b = f.open("b");
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "a", "room"), f.now);
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "b", "room"), f.now);
  f.registry.remove(*a.connection);
  CHECK(group_size(f, "room") == 1);
  f.registry.remove(*b.connection);
  CHECK(f.registry.execute(query(QueryKind::group_exists, "", "room"), f.now).matched == 0);
}

TEST_CASE("adds and removes a user's connections to and from a group") {
  Fixture f;
  auto bob1 = f.open("b1", "bob");
  auto bob2 = f.open("b2", "bob");
  auto alice = f.open("a1", "alice");
  CHECK(f.registry.execute(membership(MembershipOp::add, Scope::user, "bob", "room"), f.now).matched == 2);
  CHECK(bob1.connection->groups().count("room") == 1);
  CHECK(bob2.connection->groups().count("room") == 1);
  CHECK(alice.connection->groups().empty());
  CHECK(f.registry.execute(query(QueryKind::user_in_group, "bob", "room"), f.now).matched == 1);
  CHECK(f.registry.execute(query(QueryKind::user_in_group, "alice", "room"), f.now).matched == 0);
  CHECK(f.registry.execute(membership(MembershipOp::remove, Scope::user, "bob", "room"), f.now).matched == 2);
  CHECK(bob1.connection->groups().empty());
  CHECK(bob2.connection->groups().empty());
  CHECK(f.registry.execute(query(QueryKind::user_in_group, "bob", "room"), f.now).matched == 0);
}

TEST_CASE("applies a user's group membership to the user's future connections") {
  Fixture f;
  CHECK(f.registry.execute(membership(MembershipOp::add, Scope::user, "bob", "room"), f.now).matched == 0);
  CHECK(f.registry.execute(query(QueryKind::user_in_group, "bob", "room"), f.now).matched == 1);
  auto bob = f.open("b1", "bob");
  auto alice = f.open("a1", "alice");
  CHECK(bob.connection->groups().count("room") == 1);
  CHECK(alice.connection->groups().empty());
  auto action = send_to(Scope::group, "room");
  CHECK(f.registry.execute(action, f.now).matched == 1);
  CHECK(received(bob, action));
}

TEST_CASE("expires a user's group membership after its ttl") {
  Fixture f;
  auto bob = f.open("b1", "bob");
  f.registry.execute(membership(MembershipOp::add, Scope::user, "bob", "room", std::chrono::seconds(60)), f.now);
  CHECK(bob.connection->groups().count("room") == 1);

  f.registry.expire_memberships(f.now + std::chrono::seconds(59));
  CHECK(bob.connection->groups().count("room") == 1);
  CHECK(f.registry.execute(query(QueryKind::user_in_group, "bob", "room"), f.now + std::chrono::seconds(59)).matched ==
        1);

  f.registry.expire_memberships(f.now + std::chrono::seconds(60));
  CHECK(bob.connection->groups().empty());
  CHECK(group_size(f, "room") == 0);
  CHECK(f.registry.execute(query(QueryKind::user_in_group, "bob", "room"), f.now + std::chrono::seconds(60)).matched ==
        0);

  SUBCASE("and later connections do not join") {
    auto later = f.open("b2", "bob");
    CHECK(later.connection->groups().empty());
  }
}

TEST_CASE("a new connection does not join a membership whose ttl already passed") {
  Fixture f;
  f.registry.execute(membership(MembershipOp::add, Scope::user, "bob", "room", std::chrono::seconds(10)), f.now);
  f.now += std::chrono::seconds(11);  // not yet swept by expire_memberships
  auto bob = f.open("b1", "bob");
  CHECK(bob.connection->groups().empty());
}

TEST_CASE("a zero ttl applies only to the user's current connections") {
  Fixture f;
  auto bob1 = f.open("b1", "bob");
  CHECK(f.registry.execute(membership(MembershipOp::add, Scope::user, "bob", "room", std::chrono::seconds(0)), f.now)
            .matched == 1);
  CHECK(bob1.connection->groups().count("room") == 1);
  auto bob2 = f.open("b2", "bob");
  CHECK(bob2.connection->groups().empty());
  CHECK(group_size(f, "room") == 1);
}

TEST_CASE("removes a user from all groups, now and for later connections") {
  Fixture f;
  auto bob = f.open("b1", "bob");
  auto alice = f.open("a1", "alice");
  f.registry.execute(membership(MembershipOp::add, Scope::user, "bob", "room1"), f.now);
  f.registry.execute(membership(MembershipOp::add, Scope::user, "bob", "room2"), f.now);
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "a1", "room1"), f.now);
  RemoveFromAllGroupsAction remove_all{"chat", Scope::user, "bob"};
  CHECK(f.registry.execute(remove_all, f.now).matched == 1);
  CHECK(bob.connection->groups().empty());
  CHECK(alice.connection->groups().count("room1") == 1);
  CHECK(f.registry.execute(query(QueryKind::user_in_group, "bob", "room1"), f.now).matched == 0);
  auto later = f.open("b2", "bob");
  CHECK(later.connection->groups().empty());
}

TEST_CASE("removes a connection from all groups") {
  Fixture f;
  auto a = f.open("a");
  auto b = f.open("b");
  for (const char* group : {"g1", "g2"}) {
    f.registry.execute(membership(MembershipOp::add, Scope::connection, "a", group), f.now);
    f.registry.execute(membership(MembershipOp::add, Scope::connection, "b", group), f.now);
  }
  RemoveFromAllGroupsAction remove_all{"chat", Scope::connection, "a"};
  CHECK(f.registry.execute(remove_all, f.now).matched == 1);
  CHECK(a.connection->groups().empty());
  CHECK(b.connection->groups().size() == 2);
  CHECK(group_size(f, "g1") == 1);
  CHECK(group_size(f, "g2") == 1);
}

TEST_CASE("answers existence queries") {
  Fixture f;
  auto bob = f.open("b1", "bob");
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "b1", "room"), f.now);
  CHECK(f.registry.execute(query(QueryKind::connection_exists, "b1"), f.now).matched == 1);
  CHECK(f.registry.execute(query(QueryKind::connection_exists, "nope"), f.now).matched == 0);
  CHECK(f.registry.execute(query(QueryKind::user_exists, "bob"), f.now).matched == 1);
  CHECK(f.registry.execute(query(QueryKind::user_exists, "alice"), f.now).matched == 0);
  CHECK(f.registry.execute(query(QueryKind::group_exists, "", "room"), f.now).matched == 1);
  CHECK(f.registry.execute(query(QueryKind::group_exists, "", "hall"), f.now).matched == 0);
  // A connection-level membership counts for "is the user in the group".
  CHECK(f.registry.execute(query(QueryKind::user_in_group, "bob", "room"), f.now).matched == 1);
  QueryAction elsewhere = query(QueryKind::connection_exists, "b1");
  elsewhere.hub_key = "lobby";
  CHECK(f.registry.execute(elsewhere, f.now).matched == 0);
}

TEST_CASE("closes the connections of each scope") {
  Fixture f;
  auto a = f.open("a", "alice");
  auto b1 = f.open("b1", "bob");
  auto b2 = f.open("b2", "bob");
  auto c = f.open("c");
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "c", "room"), f.now);
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "a", "room"), f.now);
  CloseAction close;
  close.hub_key = "chat";
  close.reason = "bye";
  close.allow_reconnect = true;

  SUBCASE("one connection") {
    close.scope = Scope::connection;
    close.id = "a";
    CHECK(f.registry.execute(close, f.now).matched == 1);
    CHECK(a.transport->close_calls == 1);
    REQUIRE_FALSE(a.sent().empty());
    CHECK(*a.sent().back() == std::string(R"({"type":7,"error":"bye","allowReconnect":true})") + '\x1e');
    CHECK(b1.transport->close_calls == 0);
  }
  SUBCASE("a user's connections") {
    close.scope = Scope::user;
    close.id = "bob";
    CHECK(f.registry.execute(close, f.now).matched == 2);
    CHECK(b1.transport->close_calls == 1);
    CHECK(b2.transport->close_calls == 1);
    CHECK(a.transport->close_calls == 0);
  }
  SUBCASE("a group's connections except the excluded") {
    close.scope = Scope::group;
    close.id = "room";
    close.excluded = {"a"};
    close.allow_reconnect = false;
    CHECK(f.registry.execute(close, f.now).matched == 1);
    CHECK(c.transport->close_calls == 1);
    CHECK(*c.sent().back() == std::string(R"({"type":7,"error":"bye"})") + '\x1e');
    CHECK(a.transport->close_calls == 0);
  }
  SUBCASE("everyone") {
    close.scope = Scope::all;
    CHECK(f.registry.execute(close, f.now).matched == 4);
    for (const auto* client : {&a, &b1, &b2, &c}) CHECK(client->transport->close_calls == 1);
  }
}

namespace {

QueryAction listing(QueryKind kind, Scope scope, std::string after, std::size_t limit, std::string id = "",
                    std::string group = "") {
  QueryAction a = query(kind, std::move(id), std::move(group));
  a.scope = scope;
  a.after = std::move(after);
  a.page_limit = limit;
  a.wants_distinct_users = kind == QueryKind::list_users;
  return a;
}

std::vector<std::string> ids_of(const std::vector<PresenceEntry>& page) {
  std::vector<std::string> ids;
  for (const auto& entry : page) ids.push_back(entry.id);
  return ids;
}

// What the in-process backplane does with a query: run it on every shard and merge the outcomes.
ActionOutcome run_on_shards(std::initializer_list<Fixture*> shards, const QueryAction& a) {
  ActionOutcome merged;
  for (auto* shard : shards) merged.merge(shard->registry.execute(a, shard->now));
  return merged;
}

}  // namespace

TEST_CASE("lists a hub's connections sorted by id, at most the limit after the given id") {
  Fixture f;
  auto d = f.open("d", "dan");
  auto b = f.open("b");
  auto a = f.open("a", "alice");
  auto c = f.open("c", "alice");
  auto outcome = f.registry.execute(listing(QueryKind::list_connections, Scope::all, "", 3), f.now);
  CHECK(outcome.matched == 4);
  CHECK(ids_of(outcome.page) == std::vector<std::string>{"a", "b", "c"});
  CHECK(outcome.page[0] == PresenceEntry{"a", "alice", 1});
  CHECK(outcome.page[1].user_id.empty());
  outcome = f.registry.execute(listing(QueryKind::list_connections, Scope::all, "c", 3), f.now);
  CHECK(ids_of(outcome.page) == std::vector<std::string>{"d"});
  SUBCASE("a limit of zero counts without listing") {
    outcome = f.registry.execute(listing(QueryKind::list_connections, Scope::all, "", 0), f.now);
    CHECK(outcome.matched == 4);
    CHECK(outcome.page.empty());
  }
}

TEST_CASE("lists a group's and a user's connections") {
  Fixture f;
  auto a1 = f.open("a1", "alice");
  auto a2 = f.open("a2", "alice");
  auto b1 = f.open("b1", "bob");
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "b1", "room"), f.now);
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "a2", "room"), f.now);
  auto group = f.registry.execute(listing(QueryKind::list_connections, Scope::group, "", 10, "", "room"), f.now);
  CHECK(group.matched == 2);
  CHECK(ids_of(group.page) == std::vector<std::string>{"a2", "b1"});
  auto user = f.registry.execute(listing(QueryKind::list_connections, Scope::user, "", 10, "alice"), f.now);
  CHECK(user.matched == 2);
  CHECK(ids_of(user.page) == std::vector<std::string>{"a1", "a2"});
  auto nobody = f.registry.execute(listing(QueryKind::list_connections, Scope::user, "", 10, "carol"), f.now);
  CHECK(nobody.matched == 0);
  CHECK(nobody.page.empty());
}

TEST_CASE("lists each user once with the number of their connections in scope") {
  Fixture f;
  auto a1 = f.open("a1", "alice");
  auto a2 = f.open("a2", "alice");
  auto b1 = f.open("b1", "bob");
  auto anonymous = f.open("x");
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "a1", "room"), f.now);
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "a2", "room"), f.now);
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "x", "room"), f.now);

  auto hub = f.registry.execute(listing(QueryKind::list_users, Scope::all, "", 10), f.now);
  CHECK(hub.page == std::vector<PresenceEntry>{{"alice", "", 2}, {"bob", "", 1}});
  CHECK(hub.distinct_user_keys.size() == 2);

  // Anonymous connections are in the group but are nobody's.
  auto room = f.registry.execute(listing(QueryKind::list_users, Scope::group, "", 10, "", "room"), f.now);
  CHECK(room.matched == 3);
  CHECK(room.page == std::vector<PresenceEntry>{{"alice", "", 2}});
  CHECK(room.distinct_user_keys.size() == 1);

  auto after_alice = f.registry.execute(listing(QueryKind::list_users, Scope::all, "alice", 10), f.now);
  CHECK(ids_of(after_alice.page) == std::vector<std::string>{"bob"});
}

TEST_CASE("merges shard pages sorted and unique, summing a user's counts, truncated to the limit") {
  std::vector<PresenceEntry> into{{"a", "", 1}, {"c", "", 2}, {"e", "", 1}};
  SUBCASE("interleaved with a shared id") {
    merge_pages(into, {{"b", "", 1}, {"c", "", 3}}, 10);
    CHECK(into == std::vector<PresenceEntry>{{"a", "", 1}, {"b", "", 1}, {"c", "", 5}, {"e", "", 1}});
  }
  SUBCASE("truncated") {
    merge_pages(into, {{"b", "", 1}, {"d", "", 1}}, 3);
    CHECK(ids_of(into) == std::vector<std::string>{"a", "b", "c"});
  }
  SUBCASE("into an empty page") {
    std::vector<PresenceEntry> empty;
    merge_pages(empty, into, 2);
    CHECK(ids_of(empty) == std::vector<std::string>{"a", "c"});
  }
}

TEST_CASE("pages through users spread over shards, each exactly once, counted once") {
  // Two shards (threads); some users have connections on both, as round-robin accepting makes likely.
  Fixture shard0, shard1;
  std::vector<Client> clients;
  std::size_t connections = 0;
  for (int u = 0; u < 25; ++u) {
    std::string user = "user" + std::to_string(100 + u);
    clients.push_back(shard0.open(user + "-0", user));
    ++connections;
    if (u % 3 == 0) {
      clients.push_back(shard1.open(user + "-1", user));
      ++connections;
    }
  }
  clients.push_back(shard1.open("solo-1", "zed"));
  ++connections;

  const std::size_t page_size = 4;
  std::vector<std::string> seen;
  std::string after;
  std::size_t pages = 0;
  for (;;) {
    auto a = listing(QueryKind::list_users, Scope::all, after, page_size + 1);
    auto outcome = run_on_shards({&shard0, &shard1}, a);
    CHECK(outcome.distinct_user_keys.size() == 26);
    CHECK(outcome.matched == connections);
    bool has_more = outcome.page.size() > page_size;
    if (has_more) outcome.page.resize(page_size);
    for (const auto& entry : outcome.page) {
      seen.push_back(entry.id);
      CHECK(entry.connection_count == (entry.id != "zed" && (std::stoi(entry.id.substr(4)) - 100) % 3 == 0 ? 2u : 1u));
    }
    ++pages;
    if (!has_more) break;
    after = outcome.page.back().id;
  }
  CHECK(pages == 7);  // 26 users, 4 a page
  REQUIRE(seen.size() == 26);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());

  // Connections too: every one exactly once.
  std::vector<std::string> connection_ids;
  after.clear();
  for (;;) {
    auto outcome = run_on_shards({&shard0, &shard1}, listing(QueryKind::list_connections, Scope::all, after, 8));
    bool has_more = outcome.page.size() > 7;
    if (has_more) outcome.page.resize(7);
    for (const auto& entry : outcome.page) connection_ids.push_back(entry.id);
    if (!has_more) break;
    after = outcome.page.back().id;
  }
  CHECK(connection_ids.size() == connections);
  CHECK(std::adjacent_find(connection_ids.begin(), connection_ids.end()) == connection_ids.end());
}

// --- Handoff arrivals (hub/arrival_log.hpp, HubRegistry::replay) ------------------------------------

namespace {

ActionOrigin origin(const char* publisher, std::uint64_t sequence) {
  return {std::make_shared<const std::string>(publisher), sequence, {}};
}

SharedAction shared(Action action) { return std::make_shared<const Action>(std::move(action)); }

bool received(const Client& client, const SharedAction& action) { return received(client, std::get<SendAction>(*action)); }

}  // namespace

TEST_CASE("the arrival log records only while an arrival is open, and fails an arrival it overflowed") {
  ArrivalLog log(3);
  auto action = shared(send_to(Scope::all, ""));
  log.record(origin("a", 1), action);
  CHECK_FALSE(log.is_recording());
  auto first = log.begin();
  log.record(origin("a", 2), action);
  log.record(origin("a", 3), action);
  auto second = log.begin();
  log.record(origin("a", 4), action);
  log.record(origin("a", 5), action);  // four held, bound three: the first arrival's oldest goes
  CHECK_FALSE(log.end(first).has_value());
  auto entries = log.end(second);
  REQUIRE(entries.has_value());
  REQUIRE(entries->size() == 2);
  CHECK((*entries)[0].origin.sequence == 4);
  CHECK((*entries)[1].origin.sequence == 5);
  CHECK_FALSE(log.is_recording());
  auto third = log.begin();  // starts empty again
  auto none = log.end(third);
  REQUIRE(none.has_value());
  CHECK(none->empty());
}

TEST_CASE("an arrived connection runs on itself alone what its old gateway had not run, in order") {
  Fixture f;
  auto other = f.open("other");
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "other", "g"), f.now);
  auto ticket = f.registry.arrivals().begin();

  // What ran on this shard between the ask and the answer. gw-a's state reflects gw-a up to 5, gw-b up to 2.
  auto ran_there = shared(send_to(Scope::group, "g"));
  auto joins = shared(membership(MembershipOp::add, Scope::connection, "arriving", "g2"));
  auto to_new_group = shared(send_to(Scope::group, "g2"));
  auto to_all = shared(send_to(Scope::all, ""));
  auto excluding_it = shared(send_to(Scope::all, "", {"arriving"}));
  auto to_its_user = shared(send_to(Scope::user, "ann"));
  f.registry.execute(ran_there, origin("gw-a", 5), f.now);
  f.registry.execute(joins, origin("gw-b", 3), f.now);
  f.registry.execute(to_new_group, origin("gw-b", 4), f.now);
  f.registry.execute(to_all, origin("gw-a", 6), f.now);
  f.registry.execute(excluding_it, origin("gw-a", 7), f.now);
  f.registry.execute(to_its_user, origin("gw-c", 1), f.now);
  auto entries = f.registry.arrivals().end(ticket);
  REQUIRE(entries.has_value());
  CHECK(entries->size() == 6);
  const auto other_frames = other.transport->frames.size();

  auto arriving = f.open("arriving", "ann");
  f.registry.execute(membership(MembershipOp::add, Scope::connection, "arriving", "g"), f.now);  // its state's group
  f.registry.replay(*arriving.connection, *entries, {{"gw-a", 5}, {"gw-b", 2}});

  CHECK_FALSE(received(arriving, ran_there));  // in the state it brought
  CHECK(arriving.connection->groups().count("g2") == 1);
  CHECK(received(arriving, to_new_group));  // after the join, in order
  CHECK(received(arriving, to_all));
  CHECK_FALSE(received(arriving, excluding_it));
  CHECK(received(arriving, to_its_user));  // a publisher its old gateway never heard of
  CHECK(arriving.sent().size() == 3);
  CHECK(other.transport->frames.size() == other_frames);  // nobody else gets anything twice
}
