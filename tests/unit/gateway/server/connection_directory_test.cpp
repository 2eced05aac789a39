#include "server/connection_directory.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace sb::server;

namespace {

// A transport that does nothing: the directory only watches whether it is still alive.
class IdleTransport : public sb::transport::Transport {
 public:
  void start(std::shared_ptr<sb::transport::TransportHandler>) override {}
  bool send(sb::Frame, sb::transport::FrameFormat) override { return true; }
  void close() override {}
  void abort() override {}
  bool supports_binary() const override { return true; }
};

// Entries without a tombstone time are forgotten as soon as they end, so the sweep tests below hold.
DirectoryEntry entry_for(const std::shared_ptr<sb::transport::Transport>& transport, std::int64_t keep_until_ms = 0) {
  return DirectoryEntry{{}, transport, TransportKind::long_polling, "hub", {}, nullptr, keep_until_ms};
}

constexpr std::int64_t now = 1'000'000;

}  // namespace

TEST_CASE("finds a live connection and forgets a finished one") {
  ConnectionDirectory directory;
  auto live = std::make_shared<IdleTransport>();
  directory.add("live", entry_for(live), now);
  directory.add("gone", entry_for(std::make_shared<IdleTransport>()), now);
  CHECK(directory.find("live", now).presence == Presence::live);
  CHECK(directory.find("gone", now).presence == Presence::unknown);
  CHECK(directory.find("unknown", now).presence == Presence::unknown);
}

TEST_CASE("an ended connection stays a tombstone until its token expires") {
  ConnectionDirectory directory;
  {
    auto transport = std::make_shared<IdleTransport>();
    REQUIRE(directory.reserve("c", now + 15'000, now));
    directory.add("c", entry_for(transport), now);
    CHECK(directory.find("c", now).presence == Presence::live);
    CHECK_FALSE(directory.reserve("c", now + 15'000, now));  // a second open of a live id
  }
  CHECK(directory.find("c", now + 1).presence == Presence::ended);
  CHECK_FALSE(directory.reserve("c", now + 15'000, now + 1));  // the token can't open it again
  CHECK(directory.find("c", now + 15'000).presence == Presence::ended);
  CHECK(directory.find("c", now + 15'001).presence == Presence::unknown);
}

TEST_CASE("a reservation reads as ended until the connection is added, and is taken once") {
  ConnectionDirectory directory;
  REQUIRE(directory.reserve("r", now + 1000, now));
  CHECK_FALSE(directory.reserve("r", now + 1000, now));
  CHECK(directory.find("r", now).presence == Presence::ended);
  auto transport = std::make_shared<IdleTransport>();
  directory.add("r", entry_for(transport), now);
  auto found = directory.find("r", now);
  CHECK(found.presence == Presence::live);
  CHECK(found.entry.keep_until_ms == now + 1000);  // the reservation's tombstone time is kept
}

TEST_CASE("finished connections are swept out while others stay open") {
  // The soak's shape: connections held for the whole run while many more come and go. The table must
  // stay bounded by the live ones, not grow with every connection that ever existed.
  ConnectionDirectory directory;
  std::vector<std::shared_ptr<sb::transport::Transport>> held;
  for (int i = 0; i < 10; ++i) {
    held.push_back(std::make_shared<IdleTransport>());
    directory.add("held-" + std::to_string(i), entry_for(held.back()), now);
  }
  for (int i = 0; i < 20'000; ++i)
    directory.add("churn-" + std::to_string(i), entry_for(std::make_shared<IdleTransport>()), now);
  CHECK(directory.size() <= held.size() + ConnectionDirectory::min_adds_between_sweeps);
  for (int i = 0; i < 10; ++i) CHECK(directory.find("held-" + std::to_string(i), now).presence == Presence::live);
}

TEST_CASE("a sweep waits for as many additions as the entries it kept") {
  // Many live connections: sweeping at every 1024th addition would walk them all each time.
  ConnectionDirectory directory;
  std::vector<std::shared_ptr<sb::transport::Transport>> held;
  for (int i = 0; i < 3000; ++i) {
    held.push_back(std::make_shared<IdleTransport>());
    directory.add("held-" + std::to_string(i), entry_for(held.back()), now);
  }
  held.clear();  // every one of them ends
  // The last sweep, at the 2048th addition, kept 2047 entries: the next one comes 2047 additions later,
  // at the 4095th, and drops every finished entry.
  int late = 0;
  auto add_finished = [&](int count) {
    for (int i = 0; i < count; ++i, ++late)
      directory.add("late-" + std::to_string(late), entry_for(std::make_shared<IdleTransport>()), now);
  };
  add_finished(1000);
  CHECK(directory.size() == 4000);
  add_finished(200);
  CHECK(directory.size() == 106);  // the one that triggered the sweep and the 105 after it
}
