#include "lifecycle/user_connection_counter.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using sb::lifecycle::UserConnectionCounter;

TEST_CASE("admits up to the limit per user, and again after a release") {
  UserConnectionCounter counter;
  CHECK(counter.try_acquire("bob", 2));
  CHECK(counter.try_acquire("bob", 2));
  CHECK_FALSE(counter.try_acquire("bob", 2));
  CHECK(counter.count("bob") == 2);
  CHECK(counter.try_acquire("alice", 2));  // users are counted apart
  counter.release("bob");
  CHECK(counter.count("bob") == 1);
  CHECK(counter.try_acquire("bob", 2));
}

TEST_CASE("forgets a user whose last connection is released, and ignores stray releases") {
  UserConnectionCounter counter;
  CHECK(counter.try_acquire("carol", 1));
  counter.release("carol");
  counter.release("carol");
  CHECK(counter.count("carol") == 0);
  CHECK(counter.try_acquire("carol", 1));
}

TEST_CASE("never admits more than the limit when threads race") {
  UserConnectionCounter counter;
  constexpr std::size_t limit = 50;
  std::atomic<std::size_t> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (counter.try_acquire("storm", limit)) admitted.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  CHECK(admitted.load() == limit);
  CHECK(counter.count("storm") == limit);
}
