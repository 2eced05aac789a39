#include "connection/client_invocations.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace sb::connection;
using Clock = ClientInvocations::Clock;

TEST_CASE("each invocation gets its own id and its own outcome, once") {
  ClientInvocations table;
  std::vector<std::pair<int, ClientResult>> outcomes;
  const auto later = Clock::now() + std::chrono::seconds(30);
  auto first = table.add(later, [&](ClientResult r) { outcomes.emplace_back(1, std::move(r)); });
  auto second = table.add(later, [&](ClientResult r) { outcomes.emplace_back(2, std::move(r)); });
  CHECK(first != second);
  CHECK(table.size() == 2);
  CHECK(table.complete(second, {ClientResultKind::result, "42"}));
  CHECK_FALSE(table.complete(second, {ClientResultKind::result, "again"}));  // once
  CHECK_FALSE(table.complete("no-such-id", {ClientResultKind::result, "x"}));
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0].first == 2);
  CHECK(outcomes[0].second.text == "42");
  CHECK(table.size() == 1);
}

TEST_CASE("expire ends only what is past its deadline; fail_all ends the rest") {
  ClientInvocations table;
  std::vector<ClientResultKind> kinds;
  const auto now = Clock::now();
  table.add(now + std::chrono::seconds(1), [&](ClientResult r) { kinds.push_back(r.kind); });
  auto late = table.add(now + std::chrono::seconds(10), [&](ClientResult r) { kinds.push_back(r.kind); });
  table.expire(now + std::chrono::seconds(2));
  CHECK(kinds == std::vector{ClientResultKind::timeout});
  table.fail_all(ClientResultKind::closed);
  CHECK(kinds == std::vector{ClientResultKind::timeout, ClientResultKind::closed});
  CHECK(table.size() == 0);
  CHECK_FALSE(table.complete(late, {ClientResultKind::result, "1"}));  // a late Completion goes nowhere
}

TEST_CASE("a handler may add another invocation while the table expires or fails") {
  ClientInvocations table;
  int calls = 0;
  const auto now = Clock::now();
  table.add(now, [&](ClientResult) {
    ++calls;
    table.add(now + std::chrono::seconds(5), [&](ClientResult) { ++calls; });
  });
  table.expire(now + std::chrono::seconds(1));
  CHECK(calls == 1);
  CHECK(table.size() == 1);
  table.fail_all(ClientResultKind::closed);
  CHECK(calls == 2);
}
