#include "http/unauthenticated_sessions.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <vector>

namespace {

struct FakeSession : sb::http::EvictableSession {
  explicit FakeSession(std::vector<int>& log, int id) : log_(log), id_(id) {}
  void evict() override { log_.push_back(id_); }
  std::vector<int>& log_;
  int id_;
};

}  // namespace

TEST_CASE("the oldest listed session is evicted first; enlisting again makes a session the newest") {
  std::vector<int> evicted;
  sb::http::UnauthenticatedSessions waiting;
  FakeSession one(evicted, 1), two(evicted, 2), three(evicted, 3);
  waiting.enlist(one);
  waiting.enlist(two);
  waiting.enlist(three);
  waiting.enlist(one);  // it answered a request and waits again
  CHECK(waiting.evict_oldest());
  CHECK(waiting.evict_oldest());
  CHECK(evicted == std::vector<int>{2, 3});
  CHECK(waiting.evict_oldest());
  CHECK_FALSE(waiting.evict_oldest());
  CHECK(evicted == std::vector<int>{2, 3, 1});
}

TEST_CASE("a session destroyed or unlinked (authenticated, being answered) is never evicted") {
  std::vector<int> evicted;
  sb::http::UnauthenticatedSessions waiting;
  FakeSession kept(evicted, 1);
  {
    auto gone = std::make_unique<FakeSession>(evicted, 2);
    waiting.enlist(*gone);
  }
  FakeSession answered(evicted, 3);
  waiting.enlist(answered);
  answered.unlink();
  waiting.enlist(kept);
  CHECK(waiting.evict_oldest());
  CHECK_FALSE(waiting.evict_oldest());
  CHECK(evicted == std::vector<int>{1});
}
