#include "switchboard/detail/idempotency_cache.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>

using switchboard::detail::IdempotencyCache;
using switchboard::detail::UpstreamResponse;

namespace {

UpstreamResponse reply(int status, std::string body) { return {status, "application/json", std::move(body), "a log line"}; }

}  // namespace

TEST_CASE("a key's handler runs once; a repeat gets the first reply, without its log line") {
  IdempotencyCache cache;
  int runs = 0;
  bool repeated = true;
  auto first = cache.run_once("c1:1", [&] { ++runs; return reply(200, "first"); }, &repeated);
  CHECK(first.body == "first");
  CHECK_FALSE(repeated);
  auto again = cache.run_once("c1:1", [&] { ++runs; return reply(200, "second"); }, &repeated);
  CHECK(runs == 1);
  CHECK(again.body == "first");
  CHECK(again.status == 200);
  CHECK(again.log_line.empty());
  CHECK(repeated);
  // Another message of the same connection is another key.
  CHECK(cache.run_once("c1:2", [&] { ++runs; return reply(200, "other"); }).body == "other");
  CHECK(runs == 2);
}

TEST_CASE("a failed reply is not kept: the next attempt runs the handler again") {
  IdempotencyCache cache;
  int runs = 0;
  CHECK(cache.run_once("c1:1", [&] { ++runs; return reply(500, "boom"); }).status == 500);
  CHECK(cache.run_once("c1:1", [&] { ++runs; return reply(200, "ok"); }).body == "ok");
  CHECK(runs == 2);
  CHECK(cache.size() == 1);
}

TEST_CASE("a repeat arriving while the first still runs waits for its reply") {
  IdempotencyCache cache;
  std::atomic<int> runs{0};
  std::promise<void> entered, release;
  auto gate = release.get_future().share();
  auto first = std::async(std::launch::async, [&] {
    return cache.run_once("c1:7", [&] {
      ++runs;
      entered.set_value();
      gate.wait();
      return reply(200, "slow");
    });
  });
  entered.get_future().wait();
  bool repeated = false;
  auto second = std::async(std::launch::async, [&] {
    return cache.run_once("c1:7", [&] { ++runs; return reply(200, "twice"); }, &repeated);
  });
  // The second can't finish before the first does.
  CHECK(second.wait_for(std::chrono::milliseconds(50)) == std::future_status::timeout);
  release.set_value();
  CHECK(first.get().body == "slow");
  CHECK(second.get().body == "slow");
  CHECK(repeated);
  CHECK(runs == 1);
}

TEST_CASE("kept replies are bounded by count and by age") {
  IdempotencyCache by_count(std::chrono::minutes(10), 3);
  for (int i = 0; i < 10; ++i) by_count.run_once("c:" + std::to_string(i), [] { return reply(200, "x"); });
  CHECK(by_count.size() == 3);
  int runs = 0;
  by_count.run_once("c:0", [&] { ++runs; return reply(200, "again"); });
  CHECK(runs == 1);  // the oldest went first

  IdempotencyCache by_age(std::chrono::seconds(0));
  by_age.run_once("c:1", [] { return reply(200, "x"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  runs = 0;
  by_age.run_once("c:1", [&] { ++runs; return reply(200, "y"); });
  CHECK(runs == 1);
}
