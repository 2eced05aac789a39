#include "backplane/command_queue.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "backplane/command_link.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"

using namespace sb::backplane;

namespace {

// A link that keeps what it was sent and answers when the test says, in order, as Redis does.
class FakeLink : public CommandLink {
 public:
  bool command(const std::vector<std::string>& argv, ReplyHandler handler) override {
    if (!is_usable) return false;
    sent.push_back(argv.front());
    awaiting.push_back(std::move(handler));
    return true;
  }
  // The reply to the oldest command not yet answered.
  void answer(const sb::redis::Reply* reply) {
    auto handler = std::move(awaiting.front());
    awaiting.pop_front();
    handler(reply);
  }
  // Goes down as a RedisLink does: every reply still owed is answered with nullptr.
  void go_down() {
    is_usable = false;
    while (!awaiting.empty()) answer(nullptr);
  }

  bool is_usable = true;
  std::vector<std::string> sent;  // each command's first word: the tests name commands by it
  std::deque<ReplyHandler> awaiting;
};

sb::redis::Reply ok_reply() {
  sb::redis::Reply reply{};
  reply.type = sb::redis::Reply::Type::status;
  reply.text = "OK";
  return reply;
}

struct Fixture {
  Fixture() { sb::log::set_level(sb::log::Level::off); }

  std::shared_ptr<CommandQueue> queue = std::make_shared<CommandQueue>(100);
  std::shared_ptr<FakeLink> link = std::make_shared<FakeLink>();
  std::vector<std::string> answered;  // "<name>:ok" or "<name>:none", in the order on_reply ran

  // A command of `name.size()` bytes that records how it was answered.
  RedisCommand command(const std::string& name) {
    RedisCommand c;
    c.argv = {name};
    c.on_reply = [this, name](const sb::redis::Reply* reply) { answered.push_back(name + (reply ? ":ok" : ":none")); };
    return c;
  }
  RedisCommand retried(const std::string& name) {
    auto c = command(name);
    c.retries_on_loss = true;
    return c;
  }
  RedisCommand state_write(const std::string& name) {
    auto c = command(name);
    c.is_state_write = true;
    return c;
  }
  void answer_all() {
    auto ok = ok_reply();
    while (!link->awaiting.empty()) link->answer(&ok);
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "holds commands until sending starts, then sends them in order") {
  queue->use_link(link);
  queue->submit(command("a"), false);
  queue->submit(command("b"), true);
  queue->submit(command("c"), false);
  CHECK(link->sent.empty());
  CHECK(queue->queued_bytes() == 3);
  CHECK(sb::metrics().backplane_queue_bytes.value() == 3);

  queue->start_sending();
  CHECK(link->sent == std::vector<std::string>{"a", "b", "c"});
  answer_all();
  CHECK(answered == std::vector<std::string>{"a:ok", "b:ok", "c:ok"});
  CHECK(queue->queued_bytes() == 0);
  CHECK(sb::metrics().backplane_queue_bytes.value() == 0);
}

TEST_CASE_FIXTURE(Fixture, "once sending, a command goes out at once, behind those sent before it") {
  queue->use_link(link);
  queue->start_sending();
  queue->submit(command("a"), false);
  queue->submit(command("b"), true);
  CHECK(link->sent == std::vector<std::string>{"a", "b"});
}

TEST_CASE_FIXTURE(Fixture, "send_now goes ahead of the queue, even before sending starts") {
  queue->use_link(link);
  queue->submit(command("queued"), false);
  queue->send_now(command("lease"));
  CHECK(link->sent == std::vector<std::string>{"lease"});
  queue->start_sending();
  CHECK(link->sent == std::vector<std::string>{"lease", "queued"});
}

TEST_CASE_FIXTURE(Fixture, "drops an action past max_queue_bytes, answers it with nothing and counts it") {
  queue = std::make_shared<CommandQueue>(10);
  queue->use_link(link);
  const auto dropped_before = sb::metrics().backplane_dropped.value();
  queue->submit(command("six..."), true);
  queue->submit(command("four"), true);  // exactly at the bound: kept
  queue->submit(command("one"), true);   // over it
  CHECK(answered == std::vector<std::string>{"one:none"});
  CHECK(sb::metrics().backplane_dropped.value() == dropped_before + 1);
  CHECK(queue->queued_bytes() == 10);

  SUBCASE("what may not be dropped is not bounded") {
    const std::string longer = "a state write, longer than the bound";
    queue->submit(command(longer), false);
    CHECK(answered.size() == 1);
    CHECK(queue->queued_bytes() == 10 + longer.size());
  }
  SUBCASE("a reply frees its bytes for the next action") {
    queue->start_sending();
    auto ok = ok_reply();
    link->answer(&ok);
    queue->submit(command("five!"), true);
    CHECK(link->sent == std::vector<std::string>{"six...", "four", "five!"});
    CHECK(sb::metrics().backplane_dropped.value() == dropped_before + 1);
  }
}

TEST_CASE_FIXTURE(Fixture, "keeps at most max_queue_bytes sent and unanswered") {
  queue = std::make_shared<CommandQueue>(10);
  queue->use_link(link);
  queue->submit(command("six..1"), false);
  queue->submit(command("six..2"), false);
  queue->submit(command("six..3"), false);
  queue->start_sending();
  CHECK(link->sent == std::vector<std::string>{"six..1", "six..2"});  // 12 in flight: the bound is passed
  auto ok = ok_reply();
  link->answer(&ok);  // 6 in flight
  CHECK(link->sent == std::vector<std::string>{"six..1", "six..2", "six..3"});
}

TEST_CASE_FIXTURE(Fixture, "a link lost mid-flight: what retries goes first next time, state writes are dropped") {
  queue = std::make_shared<CommandQueue>(10);
  queue->use_link(link);
  queue->start_sending();
  queue->submit(retried("sent1"), true);       // sent; sent again if its reply is lost
  queue->submit(state_write("state"), false);  // sent; 10 bytes in flight, the bound
  queue->submit(command("w1"), false);         // waiting
  queue->submit(retried("wait2"), true);       // waiting
  queue->submit(state_write("wst"), false);    // waiting
  REQUIRE(link->sent == std::vector<std::string>{"sent1", "state"});

  link->go_down();
  CHECK(answered == std::vector<std::string>{"sent1:none", "state:none"});  // once each, with nothing
  queue->on_link_lost();
  CHECK(queue->queued_bytes() == std::string("sent1w1wait2").size());
  CHECK(sb::metrics().backplane_queue_bytes.value() == 12);

  // Nothing goes out on the next link before sending starts again; then the lost one first, in order.
  auto next = std::make_shared<FakeLink>();
  queue->use_link(next);
  queue->submit(command("new"), false);
  CHECK(next->sent.empty());
  queue->start_sending();
  CHECK(next->sent == std::vector<std::string>{"sent1", "w1", "wait2"});
  auto ok = ok_reply();
  while (!next->awaiting.empty()) next->answer(&ok);
  CHECK(next->sent == std::vector<std::string>{"sent1", "w1", "wait2", "new"});
  // sent1's on_reply ran when its first reply was lost: the repeat's reply is not reported again.
  CHECK(answered == std::vector<std::string>{"sent1:none", "state:none", "w1:ok", "wait2:ok", "new:ok"});
  CHECK(queue->queued_bytes() == 0);
}

TEST_CASE_FIXTURE(Fixture, "a link that refuses a command: answered with nothing at once, retried after a reconnect") {
  link->is_usable = false;
  queue->use_link(link);
  queue->start_sending();
  queue->submit(retried("r"), true);
  queue->submit(command("p"), true);
  CHECK(answered == std::vector<std::string>{"r:none", "p:none"});
  CHECK(queue->queued_bytes() == 1);  // "r", kept for the next link

  queue->on_link_lost();
  auto next = std::make_shared<FakeLink>();
  queue->use_link(next);
  queue->start_sending();
  CHECK(next->sent == std::vector<std::string>{"r"});
}

TEST_CASE_FIXTURE(Fixture, "an error reply is passed on like any other") {
  queue->use_link(link);
  queue->start_sending();
  queue->submit(command("EVAL"), false);
  sb::redis::Reply error{};
  error.type = sb::redis::Reply::Type::error;
  error.text = "ERR boom";
  link->answer(&error);
  CHECK(answered == std::vector<std::string>{"EVAL:ok"});
  CHECK(queue->queued_bytes() == 0);
}
