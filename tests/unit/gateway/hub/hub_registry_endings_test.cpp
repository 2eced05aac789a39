// Connections that end while the registry walks its sets. The observer here really indexes, as the hub
// dispatcher does (on_open adds, on_closed removes), so a connection that ended synchronously inside a
// send or a close would erase the set element under the walk's iterator: ASan reports that, and debug
// builds assert it (HubRegistry::check_not_walking). Ending is posted, so each test runs the loop after
// the action and then checks that the indexes agree with the connections.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "connection/connection_set.hpp"
#include "hub/hub_registry.hpp"
#include "hub/message_encoding.hpp"
#include "hub/upstream_reply.hpp"

using namespace sb::hub;
using sb::connection::Connection;
using sb::connection::ConnectionIdentity;
using sb::connection::ConnectionState;
using Clock = HubRegistry::Clock;

namespace {

// A WebSocket-like transport that can be dropped (the client's network went away) and ends, as every
// real transport does, from a posted handler.
class DroppableTransport : public sb::transport::Transport, public std::enable_shared_from_this<DroppableTransport> {
 public:
  explicit DroppableTransport(boost::asio::io_context& io) : io_(io) {}
  void start(std::shared_ptr<sb::transport::TransportHandler> handler) override { handler_ = std::move(handler); }
  void deliver(std::string_view data) {
    if (handler_) handler_->on_transport_data(data, sb::transport::FrameFormat::text);
  }
  // The socket is lost without a close handshake: a stateful connection detaches.
  void drop() { end(sb::transport::TransportEnd::network_error); }
  bool send(sb::Frame, sb::transport::FrameFormat) override {
    ++frames;
    return true;
  }
  void close() override {
    boost::asio::post(io_, [self = shared_from_this()] { self->end(sb::transport::TransportEnd::closed_by_server); });
  }
  void abort() override { handler_.reset(); }
  bool supports_binary() const override { return true; }
  bool supports_reconnect() const override { return true; }

  std::size_t frames = 0;

 private:
  void end(sb::transport::TransportEnd why) {
    if (auto handler = std::move(handler_)) handler->on_transport_closed(why, "test");
  }
  boost::asio::io_context& io_;
  std::shared_ptr<sb::transport::TransportHandler> handler_;
};

// Indexes like the hub dispatcher; counts `disconnected` events per connection.
class IndexingObserver : public sb::connection::ConnectionObserver {
 public:
  IndexingObserver(HubRegistry& registry, Clock::time_point now) : registry_(registry), now_(now) {}
  void on_open(Connection& c) override { registry_.add(c, now_); }
  void on_closed(Connection& c) override { registry_.remove(c); }
  void deliver(std::shared_ptr<Connection> c, sb::connection::UpstreamEvent event, std::function<void()> done) override {
    if (event.kind == sb::connection::UpstreamEventKind::disconnected) ++disconnected[c->id()];
    done();
  }
  std::map<std::string, int> disconnected;

 private:
  HubRegistry& registry_;
  Clock::time_point now_;
};

struct Client {
  std::string id;
  std::string user;
  std::shared_ptr<DroppableTransport> transport;
  std::weak_ptr<Connection> connection;
  bool has_ended() const {
    auto c = connection.lock();
    return !c || c->state() == ConnectionState::closed;
  }
};

class Fixture {
 public:
  explicit Fixture(std::size_t max_send_queue_bytes = 1'000)
      : connections_(io_.get_executor()), observer_(registry, now) {
    sb::log::set_level(sb::log::Level::off);
    config_.max_send_queue_bytes = max_send_queue_bytes;
    config_.stateful_reconnect_buffer_bytes = max_send_queue_bytes;
  }
  ~Fixture() {
    for (auto& c : clients_)
      if (auto connection = c.connection.lock(); connection && connection->state() != ConnectionState::closed)
        connection->close({"test_over", "", false});
    run_loop();
  }

  // An open, indexed connection. Stateful: it keeps unacknowledged messages (this test never acks) and
  // detaches when dropped; otherwise it writes straight to its transport and ends when dropped.
  Client& open(const std::string& id, const std::string& user = "", bool is_stateful = true) {
    ConnectionIdentity identity;
    identity.connection_id = id;
    identity.hub = identity.hub_key = "chat";
    identity.user_id = user;
    identity.allows_stateful_reconnect = true;
    Client client{id, user, std::make_shared<DroppableTransport>(io_), {}};
    auto connection = std::make_shared<Connection>(
        identity, client.transport, sb::connection::ConnectionContext{config_, connections_, observer_});
    client.connection = connection;
    connection->start();
    // Stateful reconnect needs handshake version 2 (version 1 turns it off).
    client.transport->deliver(std::string(is_stateful ? R"({"protocol":"json","version":2})" : R"({"protocol":"json","version":1})") + '\x1e');
    REQUIRE(connection->is_open());
    clients_.push_back(std::move(client));
    return clients_.back();
  }

  void run_loop() {
    io_.restart();
    io_.poll();
  }

  ActionOutcome execute(const Action& action) { return registry.execute(action, now); }

  // The registry's view (existence, groups, users) matches what each connection says about itself.
  void check_indexes() {
    std::map<std::string, std::set<std::string>> group_members;
    std::map<std::string, std::set<std::string>> user_connections;
    std::size_t live = 0;
    for (auto& client : clients_) {
      auto c = client.connection.lock();
      bool is_indexed = c && c->state() != ConnectionState::closed;
      CHECK(query(QueryKind::connection_exists, client.id).matched == (is_indexed ? 1u : 0u));
      if (!is_indexed) continue;
      ++live;
      for (const auto& g : c->groups()) group_members[g].insert(client.id);
      if (!client.user.empty()) user_connections[client.user].insert(client.id);
    }
    CHECK(registry.connection_count() == live);
    for (const auto& [group, members] : group_members) CHECK(listing(Scope::group, "", group) == members);
    for (const auto& [user, ids] : user_connections) CHECK(listing(Scope::user, user, "") == ids);
    for (const char* group : {"g0", "g1", "g2"})
      if (!group_members.count(group)) CHECK(query(QueryKind::group_exists, "", group).matched == 0);
  }

  HubRegistry registry;
  Clock::time_point now = Clock::time_point(std::chrono::seconds(1'700'000'000));
  std::deque<Client>& clients() { return clients_; }
  IndexingObserver& observer() { return observer_; }

 private:
  ActionOutcome query(QueryKind kind, std::string id, std::string group = "") {
    QueryAction a;
    a.hub_key = "chat";
    a.kind = kind;
    a.id = std::move(id);
    a.group = std::move(group);
    return execute(a);
  }
  std::set<std::string> listing(Scope scope, std::string id, std::string group) {
    QueryAction a;
    a.hub_key = "chat";
    a.kind = QueryKind::list_connections;
    a.scope = scope;
    a.id = std::move(id);
    a.group = std::move(group);
    a.page_limit = 1'000;
    std::set<std::string> ids;
    for (const auto& entry : execute(a).page) ids.insert(entry.id);
    return ids;
  }

  boost::asio::io_context io_;
  sb::connection::ConnectionSet connections_;
  sb::config::ConnectionConfig config_;
  IndexingObserver observer_;
  std::deque<Client> clients_;  // a deque: open() hands out references
};

SendAction send(Scope scope, std::string id, std::size_t payload_bytes = 400) {
  SendAction a;
  a.hub_key = "chat";
  a.scope = scope;
  a.id = std::move(id);
  a.message = encode_invocation("news", "[\"" + std::string(payload_bytes, 'x') + "\"]");
  return a;
}

MembershipAction join(Scope subject, std::string id, std::string group) {
  MembershipAction a;
  a.hub_key = "chat";
  a.op = MembershipOp::add;
  a.subject = subject;
  a.id = std::move(id);
  a.group = std::move(group);
  return a;
}

CloseAction close_scope(Scope scope, std::string id) {
  CloseAction a;
  a.hub_key = "chat";
  a.scope = scope;
  a.id = std::move(id);
  a.reason = "bye";
  return a;
}

}  // namespace

TEST_CASE("a detached member whose buffer overflows during a group send ends after the walk, once") {
  Fixture f;
  // Detached members first and last in the walk's order are as likely as any: use several.
  for (std::string id : {"v1", "v2", "v3", "bystander", "v4"}) {
    f.open(id, "u", id != "bystander");
    f.execute(join(Scope::connection, id, "room"));
  }
  for (auto& c : f.clients())
    if (c.id != "bystander") c.transport->drop();
  f.run_loop();
  f.check_indexes();

  std::size_t bystander_frames_before = f.clients()[3].transport->frames;
  // Each send is 400+ bytes; the third passes the 1,000-byte limit of every detached member.
  for (int i = 0; i < 5; ++i) {
    auto outcome = f.execute(send(Scope::group, "room"));
    CHECK(outcome.matched >= 1);
  }
  f.run_loop();
  for (auto& c : f.clients()) {
    if (c.id == "bystander") continue;
    CHECK(c.has_ended());
    CHECK(f.observer().disconnected[c.id] == 1);
  }
  CHECK(f.clients()[3].transport->frames == bystander_frames_before + 5);  // the bystander got every send
  CHECK(f.observer().disconnected.count("bystander") == 0);
  f.check_indexes();
}

TEST_CASE("detached connections overflowing in sends to a user and to the whole hub end after the walk") {
  for (Scope scope : {Scope::user, Scope::all}) {
    CAPTURE(static_cast<int>(scope));
    Fixture f;
    f.open("a", "bob");
    f.open("b", "bob", false);
    f.open("c", "bob");
    f.clients()[0].transport->drop();
    f.clients()[2].transport->drop();
    f.run_loop();
    for (int i = 0; i < 4; ++i) f.execute(send(scope, scope == Scope::user ? "bob" : ""));
    f.run_loop();
    CHECK(f.clients()[0].has_ended());
    CHECK_FALSE(f.clients()[1].has_ended());
    CHECK(f.clients()[2].has_ended());
    CHECK(f.observer().disconnected["a"] == 1);
    CHECK(f.observer().disconnected["c"] == 1);
    f.check_indexes();
  }
}

TEST_CASE("closing detached connections by group, user, hub and id ends them after the walk") {
  for (Scope scope : {Scope::group, Scope::user, Scope::all, Scope::connection}) {
    CAPTURE(static_cast<int>(scope));
    Fixture f;
    for (const char* id : {"a", "b", "c", "d"}) {
      f.open(id, "bob");
      f.execute(join(Scope::connection, id, "room"));
    }
    f.clients()[1].transport->drop();
    f.clients()[3].transport->drop();
    f.run_loop();
    auto outcome = f.execute(close_scope(scope, scope == Scope::group ? "room" : scope == Scope::user ? "bob" : scope == Scope::connection ? "b" : ""));
    CHECK(outcome.matched == (scope == Scope::connection ? 1u : 4u));
    f.check_indexes();  // nothing has ended yet: still indexed, as the walk left it
    f.run_loop();
    CHECK(f.clients()[1].has_ended());
    CHECK(f.observer().disconnected["b"] == 1);
    if (scope != Scope::connection) {
      for (auto& c : f.clients()) CHECK(c.has_ended());
      CHECK(f.registry.connection_count() == 0);
    }
    f.check_indexes();
  }
}

TEST_CASE("closing every connection of the shard (a backplane gap) ends detached ones after the walk") {
  Fixture f;
  for (const char* id : {"a", "b", "c"}) f.open(id);
  f.clients()[0].transport->drop();
  f.run_loop();
  CHECK(f.registry.close_every_connection({"backplane_gap", "", true}) == 3);
  f.run_loop();
  for (auto& c : f.clients()) CHECK(c.has_ended());
  CHECK(f.registry.connection_count() == 0);
  f.check_indexes();
}

TEST_CASE("membership actions and expiry over users with ended and detached connections keep the indexes") {
  Fixture f;
  f.open("a", "bob", false);
  f.open("b", "bob");
  f.open("c", "bob", false);
  MembershipAction timed = join(Scope::user, "bob", "g1");
  timed.ttl = std::chrono::seconds(10);
  f.execute(timed);
  f.clients()[1].transport->drop();
  f.run_loop();
  for (int i = 0; i < 4; ++i) f.execute(send(Scope::group, "g1"));  // b overflows
  f.execute(join(Scope::user, "bob", "g2"));                        // b still indexed: walked, not ended
  f.run_loop();
  CHECK(f.clients()[1].has_ended());
  f.check_indexes();
  f.registry.expire_memberships(f.now + std::chrono::seconds(11));
  f.check_indexes();
  CHECK(f.clients()[0].connection.lock()->groups() == std::unordered_set<std::string>{"g2"});
}

// Random interleavings of opens, sends, closes, joins, leaves and detaches on one registry: with ASan no
// freed memory is touched, and after every step the indexes agree with the connections.
TEST_CASE("property: random sends, closes, joins and detaches keep the registry consistent") {
  for (unsigned seed = 1; seed <= 60; ++seed) {
    CAPTURE(seed);
    std::mt19937 random(seed);
    auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random); };
    Fixture f(1'200);
    int next_id = 0;
    const std::vector<std::string> users{"", "ann", "bob"};
    const std::vector<std::string> groups{"g0", "g1", "g2"};
    for (int step = 0; step < 150; ++step) {
      auto& clients = f.clients();
      switch (clients.empty() ? 0 : pick(9)) {
        case 0:
          if (clients.size() < 24) f.open("c" + std::to_string(next_id++), users[pick(users.size())], pick(4) != 0);
          break;
        case 1:
        case 2: {
          Scope scope = std::array{Scope::all, Scope::group, Scope::user, Scope::connection}[pick(4)];
          std::string id = scope == Scope::group ? groups[pick(groups.size())]
                         : scope == Scope::user  ? users[1 + pick(2)]
                                                 : clients[pick(clients.size())].id;
          f.execute(send(scope, id, 100 + pick(500)));
          break;
        }
        case 3: f.execute(join(Scope::connection, clients[pick(clients.size())].id, groups[pick(groups.size())])); break;
        case 4: f.execute(join(Scope::user, users[1 + pick(2)], groups[pick(groups.size())])); break;
        case 5: {
          MembershipAction leave = join(Scope::connection, clients[pick(clients.size())].id, groups[pick(groups.size())]);
          leave.op = MembershipOp::remove;
          f.execute(leave);
          break;
        }
        case 6: clients[pick(clients.size())].transport->drop(); break;
        case 7: {
          Scope scope = std::array{Scope::group, Scope::user, Scope::connection}[pick(3)];
          std::string id = scope == Scope::group ? groups[pick(groups.size())]
                         : scope == Scope::user  ? users[1 + pick(2)]
                                                 : clients[pick(clients.size())].id;
          f.execute(close_scope(scope, id));
          break;
        }
        case 8: f.run_loop(); break;
      }
      if (pick(3) == 0) f.run_loop();
      f.check_indexes();
    }
    f.run_loop();
    for (auto& [id, count] : f.observer().disconnected) CHECK(count == 1);
  }
}
